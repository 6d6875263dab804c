"""The function reference in docs/ and the README table are generated: keep them in step."""

from pathlib import Path

import build
from llm_budget_planner.addin.reference import readme_table, reference_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_docs_functions_md_is_current():
    current = (ROOT / "docs" / "functions.md").read_text(encoding="utf-8")
    assert current == reference_markdown(), "run `python build.py` and commit docs/functions.md"


def test_readme_table_is_current():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(build.README_START) + len(build.README_START) + 1
    end = text.index(build.README_END)
    assert text[start:end] == readme_table(), "run `python build.py` and commit README.md"


def test_every_function_is_in_the_reference():
    from llm_budget_planner.addin._excel import REGISTRY

    doc = reference_markdown()
    for name in REGISTRY:
        assert f"### `{name}(" in doc
