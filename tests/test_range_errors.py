"""Errors inside range results reach Excel as real error values where the runtime has
them, so SUM over a spilled range shows the error and ISERROR sees it."""

from __future__ import annotations

import sys
import types

import pytest

import llm_budget_planner.addin.udfs_money as xm
from llm_budget_planner.addin import _excel

COLUMN = [[100.0], [-5.0], [None], [200.0]]  # CLOUD_COST_USD(A1:A4, 2): one bad row


def test_python_callers_keep_the_messages():
    out = xm.CLOUD_COST_USD(COLUMN, 2)
    assert out[0] == [200.0] and out[3] == [400.0] and out[2] == [""]
    assert out[1][0].startswith("#NUM! gpu_hours must be 0 or more")


def test_lite_and_server_get_the_bare_error_code(monkeypatch):
    # xlwings' Office.js engine turns a cell string that is exactly "#NUM!" into an Excel
    # error of type Num (xlwings/pro/_xlofficejs.py errorstr_to_errortype).
    monkeypatch.setenv("XLWINGS_ON_SERVER", "true")
    out = _excel.range_errors_to_excel(xm.CLOUD_COST_USD(COLUMN, 2))
    assert out == [[200.0], ["#NUM!"], [""], [400.0]]


@pytest.fixture
def windows(monkeypatch):
    """Classic xlwings on Windows, with pywin32's VARIANT stood in for."""
    class VARIANT:
        def __init__(self, vt, value):
            self.varianttype, self.value = vt, value

        def __eq__(self, other):
            return (self.varianttype, self.value) == (other.varianttype, other.value)

    pythoncom = types.ModuleType("pythoncom")
    pythoncom.VT_ERROR = 10  # VARENUM VT_ERROR
    client = types.ModuleType("win32com.client")
    client.VARIANT = VARIANT
    win32com = types.ModuleType("win32com")
    win32com.client = client
    monkeypatch.setitem(sys.modules, "pythoncom", pythoncom)
    monkeypatch.setitem(sys.modules, "win32com", win32com)
    monkeypatch.setitem(sys.modules, "win32com.client", client)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.delenv("XLWINGS_ON_SERVER", raising=False)
    return VARIANT


def test_classic_windows_gets_com_error_variants(windows):
    rows = [[1.0, "#NUM! a"], ["#VALUE! b", "#N/A c"]]
    out = _excel.range_errors_to_excel(rows)
    # The SCODEs of CVErr(xlErrNum), CVErr(xlErrValue), CVErr(xlErrNA): the values
    # xlwings itself reads back from error cells (xlwings/_xlwindows.py cell_errors).
    assert out == [[1.0, windows(10, -2146826252)],
                   [windows(10, -2146826273), windows(10, -2146826246)]]
    assert rows == [[1.0, "#NUM! a"], ["#VALUE! b", "#N/A c"]]  # the input is untouched


def test_single_cells_keep_their_message(windows):
    assert _excel.range_errors_to_excel("#NUM! a") == "#NUM! a"
    assert _excel.range_errors_to_excel([["#NUM! a"]]) == [["#NUM! a"]]


def test_text_that_is_not_a_message_is_left_alone(windows):
    rows = [["#1 plan", "a100"], ["#NUM!", "#VALUE!x"]]
    assert _excel.range_errors_to_excel(rows) == rows


def test_macos_classic_keeps_the_text(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.delenv("XLWINGS_ON_SERVER", raising=False)
    rows = [[1.0], ["#NUM! a"]]
    assert _excel.range_errors_to_excel(rows) == rows


def test_the_converter_is_what_xlwings_calls():
    if _excel.ErrorCells is None:
        pytest.skip("xlwings is not installed")
    assert _excel.ErrorCells.write_value([[1.0], ["#NUM! a"]], {}) == [[1.0], ["#NUM! a"]]


def test_a_range_result_names_its_message_cells(windows):
    # The function's result lists where its messages are, so the converter does not scan
    # every number of a long column.
    out = xm.CLOUD_COST_USD(COLUMN, 2)
    assert out.messages == [(1, 0)]
    converted = _excel.range_errors_to_excel(out)
    assert converted == [[200.0], [windows(10, -2146826252)], [""], [400.0]]
    assert out[1][0].startswith("#NUM!")  # the function's own result is untouched
