"""Every Excel function obeys xlwings' rules and the Function Wizard's limits."""

import inspect

import pytest

import llm_budget_planner.addin.udfs as udfs
from llm_budget_planner.addin._excel import REGISTRY

NAMES = sorted(REGISTRY)


def test_every_registered_function_is_exposed_by_the_udf_module():
    exposed = {k for k in dir(udfs) if callable(getattr(udfs, k)) and k.isupper()}
    assert set(NAMES) <= exposed
    assert len(NAMES) >= 31


@pytest.mark.parametrize("name", NAMES)
def test_xlwings_rules(name):
    func = getattr(udfs, name)
    spec = func.__udf__
    assert func.__name__ == name == name.upper()
    params = inspect.signature(func).parameters.values()
    # xlwings rejects keyword-only arguments and **kwargs; no *args either.
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params)
    # Required arguments come first (Python enforces it; Excel shows them as mandatory).
    first_sentence = spec.doc.split("\n\n")[0].replace("\n", " ")
    assert 0 < len(first_sentence) <= 255, first_sentence
    for arg in spec.args:
        assert 0 < len(arg.doc) <= 255
    # Function Wizard breaks when argument count + characters of argument names > ~254;
    # VBA procedures take at most 60 parameters.
    assert len(spec.params) + sum(map(len, spec.params)) <= 254
    assert len(spec.params) <= 60
    assert len(name) <= 64


@pytest.mark.parametrize("name", NAMES)
def test_description_names_a_unit_or_kind(name):
    spec = getattr(udfs, name).__udf__
    first = spec.doc.split("\n\n")[0].lower()
    units = ("gb", "days", "hours", "seconds", "flops", "count", "raw", "fraction", "tokens",
             "bytes", "column", "catalog", "usd", "$", "mwh", "tonnes", "probabilit", "table",
             "row", "per second", "tflops", "kw", "months", "%")
    assert any(u in first for u in units), f"{name}: first sentence names no unit: {first!r}"
