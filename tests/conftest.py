"""Shared fixtures."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def no_pdf():
    """No Chromium for these runs: the PDF is skipped with a note, the rest is unchanged
    (tests/test_pdf.py covers the PDF)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGREPORT_CHROMIUM", "/nonexistent/chromium-for-tests")
        yield
