"""The master notebook's parameters cell and :class:`ReportParams` describe the same parameters.

``segreport run`` fills the notebook's parameters cell from a validated ``ReportParams``;
an analyst who opens the notebook in JupyterLab runs it with the cell's own values. A
parameter added to one and not the other would be silently dropped (papermill injects
unknown names without complaint) or never set, so the two are compared here.
"""
from __future__ import annotations

import ast

import papermill as pm
import pytest

from segreport.config import ReportParams
from segreport.report.kernel import default_notebook

# Set by `segreport run` for each unit (where it writes kpis.csv, the folder it prepared);
# a params file cannot set them.
SET_BY_RUN = {"kpis_csv", "prepared_data"}
# Folders the notebook names relative to notebooks/, ReportParams relative to the project.
RELATIVE_TO_PROJECT = {"data_dir", "output_dir", "commentary_dir"}


@pytest.fixture(scope="module")
def cell() -> dict[str, dict]:
    return pm.inspect_notebook(str(default_notebook()))


def test_the_cell_has_exactly_the_report_parameters(cell):
    # ReportParams' fields but the e-mail settings (they never reach the notebook), plus
    # what run sets.
    expected = set(ReportParams().notebook_parameters()) | SET_BY_RUN
    assert set(cell) == expected, (
        f"only in the notebook: {sorted(set(cell) - expected)}; "
        f"only in ReportParams: {sorted(expected - set(cell))}")


def test_the_cell_defaults_are_the_report_defaults(cell):
    defaults = ReportParams().notebook_parameters()
    for name, default in defaults.items():
        value = ast.literal_eval(cell[name]["default"])
        if name in RELATIVE_TO_PROJECT:
            assert value == f"../{default}", name
        else:
            assert value == default, name
    for name in SET_BY_RUN:
        assert ast.literal_eval(cell[name]["default"]) == "", name


def test_every_parameter_says_what_it_is_for(cell):
    assert [name for name, found in cell.items() if not found["help"].strip()] == []
