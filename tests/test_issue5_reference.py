"""Published figures for serving, fine-tuning, money, energy, goodput and decoding,
reproduced through the Excel functions (tests/data/issue5_examples.csv)."""

import pytest

from tests.reference_rows import check_row, load_rows

ROWS = load_rows("issue5_examples.csv")


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_published_example(row):
    check_row(row)


def test_table_has_sources():
    assert len(ROWS) >= 15
    for row in ROWS:
        assert row["source"].strip(), row["id"]
