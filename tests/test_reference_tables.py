"""Every worked example of the source articles and every published figure, reproduced
through the Excel functions (addin.udfs), not only through formulas/."""

import pytest

from tests.reference_rows import check_row, load_rows

SEED = load_rows("seed_examples.csv")
PUBLISHED = load_rows("published_examples.csv")


@pytest.mark.parametrize("row", SEED, ids=[r["id"] for r in SEED])
def test_seed_example(row):
    check_row(row)


@pytest.mark.parametrize("row", PUBLISHED, ids=[r["id"] for r in PUBLISHED])
def test_published_example(row):
    check_row(row)


def test_tables_are_not_empty():
    assert len(SEED) >= 28 and len(PUBLISHED) >= 13
    for row in SEED + PUBLISHED:
        assert row["source"].strip(), row["id"]
