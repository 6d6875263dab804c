"""Catalog sheets generated from :mod:`formulas.catalog`: GPUs, models, example prices, lists.

The sheets are data, not formulas: every text cell is written as text (a catalog note that
starts with "=" stays text). Each column that formulas look up gets a workbook-scoped name
(``GPU_Ids``, ``GPU_TFLOPS``, ``Model_Params`` ...), and the id columns feed the dropdowns.
The GPU sheet's two price columns are inputs: they start from the example prices of
``formulas/data/gpu_prices.csv`` (the median of that GPU's rows) and are meant to be
replaced by the user's own quotes.
"""

from __future__ import annotations

import statistics
from typing import Iterable, Mapping, Sequence

from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from llm_budget_planner.formulas.arch import resolve_model
from llm_budget_planner.formulas.catalog import GpuPrice, GpuSpec, ModelSpec

from .sheets import (Rule, add_rule, define_name, finish_sheet, header_row, put_text,
                     sheet_heading)
from .styles import style

__all__ = ["GPU_COLUMNS", "MODEL_COLUMNS", "CUSTOM_MODEL", "PLAN_BY", "ON_OFF",
           "example_price", "write_gpu_sheet", "write_model_sheet", "write_price_sheet",
           "write_lists_sheet"]

CUSTOM_MODEL = "custom"
PLAN_BY = ("GPU count", "Deadline")
ON_OFF = ("On", "Off")
FIRST_ROW = 4  # catalog rows start here (title, note, header above)

#: (field, header with unit, number format, defined name or None)
GPU_COLUMNS = (
    ("id", "GPU id", None, "GPU_Ids"),
    ("name", "Name", None, None),
    ("vendor", "Vendor", None, None),
    ("tflops_bf16", "Dense BF16 TFLOPS", "tflops", "GPU_TFLOPS"),
    ("tflops_fp8", "Dense FP8 TFLOPS", "tflops", "GPU_TFLOPS_FP8"),
    ("tflops_fp4", "Dense FP4 TFLOPS", "tflops", "GPU_TFLOPS_FP4"),
    ("memory_gb", "Memory (GB)", "gb", "GPU_MemoryGB"),
    ("mem_bw_gbps", "Memory bandwidth (GB/s)", "count", "GPU_MemBW"),
    ("interconnect_gbps", "Interconnect (GB/s)", "count", "GPU_Interconnect"),
    ("scaleup_gpus", "GPUs per scale-up domain", "count", "GPU_ScaleUp"),
    ("scaleout_gbps", "Scale-out network per GPU (Gb/s)", "count", "GPU_ScaleOut"),
    ("tdp_w", "Power, TDP (W)", "count", "GPU_TDP"),
)
GPU_PRICE_COLUMNS = (
    ("cloud", "Example cloud price ($ per GPU-hour)", "usd_cents", "GPU_CloudPrice"),
    ("purchase", "Example purchase price ($ per GPU)", "usd", "GPU_PurchasePrice"),
)
GPU_TAIL = (("price_basis", "Price basis"), ("notes", "Notes"), ("source", "Source"),
            ("retrieved", "Retrieved"), ("confidence", "Confidence"))

MODEL_COLUMNS = (
    ("id", "Model id", None, "Model_Ids"),
    ("name", "Name", None, None),
    ("layers", "Layers", "count", "Model_Layers"),
    ("hidden", "Hidden size", "count", "Model_Hidden"),
    ("vocab", "Vocabulary", "count", "Model_Vocab"),
    ("ffn", "FFN size", "count", "Model_FFN"),
    ("heads", "Heads", "count", "Model_Heads"),
    ("kv_heads", "KV heads", "count", "Model_KVHeads"),
    ("experts", "Experts", "count", None),
    ("experts_per_token", "Experts per token", "count", None),
    ("head_dim", "Head dim", "count", None),
    ("moe_ffn", "Expert FFN size", "count", None),
    ("shared_experts", "Shared experts", "count", None),
    ("dense_layers", "Dense-FFN layers", "count", None),
    ("attention", "Attention", None, None),
    ("kv_lora_rank", "MLA KV latent", "count", None),
    ("sliding_window", "Sliding window (tokens)", "count", None),
    ("sliding_layers", "Sliding-window layers", "count", None),
    ("weight_format", "Released weights", None, None),
    ("kv_values_per_token", "KV values cached per token (all layers)", "count",
     "Model_KVValues"),
    ("params", "Total parameters (raw)", "count", "Model_Params"),
    ("active_params", "Active parameters (raw)", "count", "Model_Active"),
    ("params_basis", "Parameter count basis", None, None),
    ("source", "Source", None, None),
    ("retrieved", "Retrieved", None, None),
)

_PRICE_KIND = {"cloud": ("cloud_on_demand",), "purchase": ("purchase_new",)}


def example_price(prices: Iterable[GpuPrice], gpu_id: str, kind: str) -> tuple[float | None, str]:
    """Median example price of one GPU (``kind`` cloud or purchase) and how it was formed."""
    values = [p.usd for p in prices if p.gpu_id == gpu_id and p.price_type in _PRICE_KIND[kind]]
    if not values:
        return None, "no example price"
    what = "on-demand $/GPU-hour" if kind == "cloud" else "new-purchase $/GPU"
    if len(values) == 1:
        return values[0], f"1 example {what}"
    return float(statistics.median(values)), f"median of {len(values)} example {what}"


def _fit_row(ws: Worksheet, row: int, texts_widths) -> None:
    """Row height so that wrapped text of the given (text, column width) pairs shows in full."""
    lines = max([1] + [-(-len(str(t or "")) // max(8, int(w * 1.15))) for t, w in texts_widths])
    if lines > 1:
        ws.row_dimensions[row].height = 13.5 * lines + 2


def _name_column(wb: Workbook, ws: Worksheet, name: str | None, col: str, n: int) -> None:
    if name:
        define_name(wb, name, ws, f"{col}{FIRST_ROW}:{col}{FIRST_ROW + n - 1}")


def write_gpu_sheet(wb: Workbook, gpus: Mapping[str, GpuSpec], prices: Sequence[GpuPrice],
                    title: str = "GPUs") -> Worksheet:
    """The GPU catalog with its sources, plus two editable example-price columns."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    heads = [h for _, h, _, _ in GPU_COLUMNS] + [h for _, h, _, _ in GPU_PRICE_COLUMNS] + \
        [h for _, h in GPU_TAIL]
    sheet_heading(ws, "GPU catalog",
                  "Dense peaks (never the with-sparsity headline), GB = 1E9 bytes. The two price "
                  "columns are EXAMPLES from dated public sources, not quotes: type your own prices"
                  " over them (blue cells). Sources and dates of every price: sheet 'Example "
                  "prices'.",
                  get_column_letter(len(heads)),
                  height=30)
    header_row(ws, FIRST_ROW - 1, heads)
    ws.row_dimensions[FIRST_ROW - 1].height = 45
    n = len(gpus)
    for i, g in enumerate(gpus.values()):
        r = FIRST_ROW + i
        col = 1
        for fld, _, fmt, _ in GPU_COLUMNS:
            c = ws.cell(row=r, column=col)
            put_text(c, getattr(g, fld))
            style(c, "calc", fmt)
            col += 1
        basis = []
        for kind, _, fmt, _ in GPU_PRICE_COLUMNS:
            value, how = example_price(prices, g.id, kind)
            c = ws.cell(row=r, column=col)
            put_text(c, value)
            style(c, "input", fmt)
            basis.append(how)
            col += 1
        tail = {"price_basis": "; ".join(basis), "notes": g.notes, "source": g.source,
                "retrieved": g.retrieved, "confidence": g.confidence}
        for fld, _ in GPU_TAIL:
            c = ws.cell(row=r, column=col)
            put_text(c, tail[fld])
            style(c, "note" if fld in ("notes", "source", "price_basis") else "calc")
            col += 1
        _fit_row(ws, r, [(tail["price_basis"], 26), (tail["notes"], 40), (tail["source"], 48),
                         (g.name, 24)])
    for j, (_, _, _, name) in enumerate(GPU_COLUMNS + GPU_PRICE_COLUMNS):
        _name_column(wb, ws, name, get_column_letter(1 + j), n)
    pc = len(GPU_COLUMNS) + 1
    last = FIRST_ROW + n - 1
    for j, (kind, head, _, _) in enumerate(GPU_PRICE_COLUMNS):
        letter = get_column_letter(pc + j)
        unit = "$ per GPU-hour" if kind == "cloud" else "$ per GPU"
        add_rule(ws, f"{letter}{FIRST_ROW}:{letter}{last}",
                 Rule("decimal", f"Example price in {unit}. Type your own price or quote.",
                      f"Enter a price in {unit} (0 or more).", 0, 1e7), head)
    widths = {"A": 16, "B": 30, "C": 10}
    for j in range(4, len(heads) + 1):
        widths[get_column_letter(j)] = 12
    for j, (fld, _) in enumerate(GPU_TAIL):
        widths[get_column_letter(pc + len(GPU_PRICE_COLUMNS) + j)] = \
            {"price_basis": 26, "notes": 40, "source": 48}.get(fld, 11)
    finish_sheet(ws, widths, freeze=f"B{FIRST_ROW}")
    return ws


def write_model_sheet(wb: Workbook, models: Mapping[str, ModelSpec],
                      title: str = "Models") -> Worksheet:
    """The model catalog: architecture dims and published parameter counts, with sources."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    heads = [h for _, h, _, _ in MODEL_COLUMNS]
    sheet_heading(ws, "Model catalog",
                  "Architecture dimensions from the papers and config files; parameter counts are "
                  "raw (70.6E9, not 70.6). Active parameters differ from the total for "
                  "mixture-of-experts models.",
                  get_column_letter(len(heads)),
                  height=30)
    header_row(ws, FIRST_ROW - 1, heads)
    ws.row_dimensions[FIRST_ROW - 1].height = 30
    for i, m in enumerate(models.values()):
        arch = resolve_model(m)
        derived = {"head_dim": arch.head_dim, "attention": arch.attention,
                   "moe_ffn": arch.moe_ffn if arch.is_moe else None,
                   "dense_layers": arch.dense_layers if arch.is_moe else None,
                   "kv_values_per_token": arch.kv_bytes_per_token(1)}
        for j, (fld, _, fmt, _) in enumerate(MODEL_COLUMNS):
            c = ws.cell(row=FIRST_ROW + i, column=1 + j)
            put_text(c, derived[fld] if fld in derived else getattr(m, fld))
            style(c, "note" if fld in ("params_basis", "source") else "calc", fmt)
        _fit_row(ws, FIRST_ROW + i, [(m.params_basis, 40), (m.source, 48), (m.name, 20)])
    for j, (_, _, _, name) in enumerate(MODEL_COLUMNS):
        _name_column(wb, ws, name, get_column_letter(1 + j), len(models))
    widths = {get_column_letter(j + 1): 11 for j in range(len(heads))}
    col = {fld: get_column_letter(1 + j) for j, (fld, _, _, _) in enumerate(MODEL_COLUMNS)}
    widths.update({"A": 16, "B": 20, col["params"]: 17, col["active_params"]: 17,
                   col["kv_values_per_token"]: 14, col["params_basis"]: 40,
                   col["source"]: 48})
    finish_sheet(ws, widths, freeze=f"B{FIRST_ROW}")
    return ws


def write_price_sheet(wb: Workbook, prices: Sequence[GpuPrice],
                      title: str = "Example prices") -> Worksheet:
    """Every example price row with its date, source and confidence."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    cols = (("gpu_id", "GPU id", None), ("provider", "Provider", None), ("offer", "Offer", None),
            ("price_type", "Price type", None), ("usd", "US dollars", "usd_cents"),
            ("unit", "Per", None), ("date", "Date", None), ("confidence", "Confidence", None),
            ("source", "Source", None), ("notes", "Notes", None))
    sheet_heading(ws, "Example prices: illustrations, NOT quotes",
                  "Dated public prices gathered for orientation only. Cloud prices change often and"
                  " differ by region, term and volume; purchase prices are for the GPU alone (no "
                  "server). Replace them with your own quotes on the GPU sheet.",
                  get_column_letter(len(cols)),
                  height=30)
    header_row(ws, FIRST_ROW - 1, [h for _, h, _ in cols])
    for i, p in enumerate(prices):
        for j, (fld, _, fmt) in enumerate(cols):
            c = ws.cell(row=FIRST_ROW + i, column=1 + j)
            value = getattr(p, fld)
            put_text(c, {"gpu_hour": "GPU-hour", "gpu": "GPU"}.get(value, value)
                     if fld == "unit" else value)
            style(c, "note" if fld in ("source", "notes", "offer") else "calc", fmt)
        _fit_row(ws, FIRST_ROW + i, [(p.offer, 34), (p.source, 50), (p.notes, 40)])
    widths = dict(zip((get_column_letter(j + 1) for j in range(len(cols))),
                      (15, 14, 34, 16, 12, 10, 11, 12, 50, 40)))
    finish_sheet(ws, widths, freeze=f"A{FIRST_ROW}")
    return ws


def write_lists_sheet(wb: Workbook, models: Mapping[str, ModelSpec],
                      extra: Mapping[str, Sequence[str]] = ()) -> Worksheet:
    """A hidden sheet with the dropdown lists: ``ModelChoices`` (ids + "custom"),
    ``PlanByChoices``, ``OnOffChoices`` and any ``extra`` name -> values."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet("Lists")
    lists = {"ModelChoices": list(models) + [CUSTOM_MODEL], "PlanByChoices": list(PLAN_BY),
             "OnOffChoices": list(ON_OFF)}
    lists.update({k: list(v) for k, v in dict(extra).items()})
    for j, (name, values) in enumerate(lists.items()):
        letter = get_column_letter(j + 1)
        put_text(ws[f"{letter}1"], name)
        for i, value in enumerate(values):
            put_text(ws[f"{letter}{i + 2}"], value)
        define_name(wb, name, ws, f"{letter}2:{letter}{len(values) + 1}")
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    return ws
