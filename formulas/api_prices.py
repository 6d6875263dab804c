"""Public list prices of hosted models per million tokens (``formulas/data/api_prices.csv``).

Each row is a dated list price (input, output and cached input, USD per 1e6 tokens) with
its source: what a buyer compares a self-hosted fleet with. They are list prices on the
date given, not quotes; batch, volume and off-peak discounts are not applied.
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources

from .errors import CatalogError, UnknownNameError

__all__ = ["API_PRICE_FIELDS", "api_prices", "api_price", "api_price_list"]

_COLUMNS = ["id", "provider", "model", "model_id", "input_usd_per_m", "output_usd_per_m",
            "cached_input_usd_per_m", "date", "source", "retrieved", "confidence", "notes"]
#: Fields :func:`api_price` returns; the three prices are numbers (cached may be blank).
API_PRICE_FIELDS = tuple(_COLUMNS[1:])
_NUMBERS = ("input_usd_per_m", "output_usd_per_m", "cached_input_usd_per_m")


@functools.cache
def api_prices() -> dict[str, dict]:
    """All rows by id (loaded once; do not mutate)."""
    text = resources.files(__package__).joinpath("data", "api_prices.csv").read_text(
        encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != _COLUMNS:
        raise CatalogError(f"api_prices.csv: columns {reader.fieldnames} != {_COLUMNS}")
    rows: dict[str, dict] = {}
    for line, raw in enumerate(reader, start=2):
        if raw["id"] in rows or not raw["source"].strip() or not raw["date"].strip():
            raise CatalogError(f"api_prices.csv line {line}: duplicate id, or no source/date")
        for k in _NUMBERS:
            if raw[k].strip() == "":
                raw[k] = None
                continue
            try:
                raw[k] = float(raw[k])
            except ValueError:
                raise CatalogError(f"api_prices.csv line {line}: {k} is not a number") from None
        rows[raw["id"]] = raw
    return rows


def api_price(price_id: str, field: str = "output_usd_per_m"):
    """One field of a list-price row: a price in USD per million tokens, or its text.

    >>> api_price("openai-gpt-4o", "output_usd_per_m"), api_price("openai-gpt-4o", "date")
    (10.0, '2026-05')
    """
    rows = api_prices()
    key = price_id.strip().lower() if isinstance(price_id, str) else price_id
    if key not in rows:
        raise UnknownNameError(f"price_id '{str(price_id)[:40]}' is unknown: see API_PRICE_LIST()"
                               f" (e.g. {next(iter(rows))})", arg="price_id", value=price_id)
    f = field.strip().lower() if isinstance(field, str) else field
    if f not in API_PRICE_FIELDS:
        raise UnknownNameError(f"field '{str(field)[:40]}' is unknown: use one of "
                               f"{', '.join(API_PRICE_FIELDS)}", arg="field", value=field)
    value = rows[key][f]
    if value is None:
        raise UnknownNameError(f"{key} publishes no {f}", arg="field", value=field)
    return value


def api_price_list() -> list[tuple]:
    """The table, header row first: id, provider, model, the three prices, date, source.

    >>> api_price_list()[0][:4]
    ('id', 'provider', 'model', 'input_usd_per_m')
    """
    cols = ("id", "provider", "model", "input_usd_per_m", "output_usd_per_m",
            "cached_input_usd_per_m", "date", "source")
    out = [cols]
    for r in api_prices().values():
        out.append(tuple("" if r[c] is None else r[c] for c in cols))
    return out
