"""Shared fixtures.

``lo_profile``: one LibreOffice profile per test process (per xdist worker), pre-seeded to
recalculate every formula on load. The workbook tests never skip when LibreOffice is
missing: they fail with the one command that installs it (CI installs it through ./dev).
"""

from __future__ import annotations

import os
import tempfile

import pytest

from tests import libreoffice as lo

# The suite never reads or writes the developer's own model catalog (~/.llm_budget_planner):
# every test process (and the build.py runs it starts) gets an empty user-catalog folder.
os.environ["LLM_PLANNER_HOME"] = tempfile.mkdtemp(prefix="llm_planner_home_")


@pytest.fixture(scope="session")
def lo_profile(tmp_path_factory):
    """A LibreOffice user profile for this process (fails at once if soffice is missing)."""
    if lo.soffice_path() is None:
        pytest.fail(f"LibreOffice is needed to recalculate the workbooks: {lo.INSTALL_HINT}",
                    pytrace=False)
    return lo.make_profile(tmp_path_factory.mktemp("lo_profile"))
