"""Shared fixtures.

``lo_profile``: one LibreOffice profile per test process (per xdist worker), pre-seeded to
recalculate every formula on load. The workbook tests never skip when LibreOffice is
missing: they fail with the one command that installs it (CI installs it through ./dev).
"""

from __future__ import annotations

import pytest

from tests import libreoffice as lo


@pytest.fixture(scope="session")
def lo_profile(tmp_path_factory):
    """A LibreOffice user profile for this process (fails at once if soffice is missing)."""
    if lo.soffice_path() is None:
        pytest.fail(f"LibreOffice is needed to recalculate the workbooks: {lo.INSTALL_HINT}",
                    pytrace=False)
    return lo.make_profile(tmp_path_factory.mktemp("lo_profile"))
