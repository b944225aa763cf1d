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


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory):
    """Prepared data is cached under the test session's own folder, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGREPORT_CACHE_DIR", str(tmp_path_factory.mktemp("segreport-cache")))
        yield
