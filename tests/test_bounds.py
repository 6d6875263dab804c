"""Unit traps from one table (formulas/data/bounds.csv): every slip of issue 14 is refused
with its fix, values just inside the limits still compute, and the catalog loader refuses
the same slips in a catalog row with file, line and column."""

import csv
import math
import types
from pathlib import Path

import pytest

import llm_budget_planner.addin.udfs as x
import llm_budget_planner.addin.udfs_money as xm
import llm_budget_planner.addin.udfs_serving as xs
from llm_budget_planner.formulas import bounds, catalog
from llm_budget_planner.formulas.errors import CatalogError

GPT3 = (175e9, 300e9)
ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ the slips, in Excel

SLIPS = [
    # (what was typed, the call, the expected cell text)
    ("deadline in hours", lambda: x.GPU_COUNT_TIME(175e9, 300e9, 720, 312, 0.45),
     "#NUM! days is a deadline in days: use 30 for 720 hours"),
    ("TFLOPS in GFLOPS", lambda: x.TRAIN_DAYS(*GPT3, 1024, 312000, 0.45),
     "#NUM! TFLOPS is in TFLOPS per GPU: use 312 for 312000 GFLOPS"),
    ("TFLOPS in GFLOPS (GPU_HOURS)", lambda: x.GPU_HOURS(*GPT3, 989400, 0.4),
     "#NUM! TFLOPS is in TFLOPS per GPU: use 989.4 for 989400 GFLOPS"),
    ("GPU memory in MB", lambda: x.GPU_COUNT_MEM(7e9, 18, 1.25, 24000),
     "#NUM! gpu_memory_GB is in GB (1E9 bytes): use 24 for 24000 MB"),
    ("rent in cents", lambda: xm.BUY_VS_RENT_BREAKEVEN_MONTHS(25000, 299, 700, 1.2, 0.1),
     "#NUM! usd_per_gpu_hour is in US dollars per GPU-hour: use 2.99 for 299 cents"),
    ("rent in cents (cloud cost)", lambda: xm.CLOUD_COST_USD(1000, 299),
     "#NUM! usd_per_gpu_hour is in US dollars per GPU-hour: use 2.99 for 299 cents"),
    ("rent in cents (cost per token)", lambda: xs.COST_PER_M_TOKENS(2596, 299),
     "#NUM! usd_per_gpu_hour is in US dollars per GPU-hour: use 2.99 for 299 cents"),
    ("bits for bytes (memory)", lambda: x.INFER_MEM_GB(7e9, 16),
     "#NUM! bytes_per_param is in bytes per value (2 for bf16; 0.5 for int4): use 2 for 16 bits"),
    ("bits for bytes (decode)", lambda: x.DECODE_TOKENS_PER_S(7e9, 16, 3350),
     "#NUM! bytes_per_param is in bytes per value (2 for bf16; 0.5 for int4): use 2 for 16 bits"),
    ("bits for bytes (precision)", lambda: x.BYTES_PER_PARAM("32"),
     "#NUM! precision is in bytes per value (2 for bf16; 0.5 for int4): use 4 for 32 bits"),
    ("percentage for a multiplier", lambda: x.GPU_COUNT_MEM(7e9, 18, 125, 24),
     "#NUM! activation_factor is a multiplier (1.25 for +25%): use 1.25 for 125%"),
    ("added percentage for a multiplier", lambda: x.INFER_MEM_GB(7e9, 2, 20),
     "#NUM! overhead is a multiplier (1.25 for +25%): use 1.2 for 20% extra"),
    ("minutes for hours in GOODPUT", lambda: xm.GOODPUT(1024, None, 16.7),
     "#NUM! hours_lost_per_interruption is in hours: use 0.2783 for 16.7 minutes"),
    ("bytes for GB", lambda: x.COMM_SECONDS(500e9, 450),
     "#NUM! GB is in GB (1E9 bytes): use 500 for 5e+11 bytes"),
    ("KV cache in MB (decode)", lambda: x.DECODE_TOKENS_PER_S(6.74e9, 2, 3350, 16, 1024, 0.5),
     "#NUM! kv_bytes_per_token is in bytes per token of context (Llama-2-7B: 524288): use "
     "5e+05 for 0.5 MB"),
    ("KV cache in KB (serving)", lambda: xs.SERVE_MAX_BATCH(6.74e9, 2, "rtx-4090", 512, 512, 512),
     "#NUM! kv_bytes_per_token is in bytes per token of context (Llama-2-7B: 524288): use "
     "5.12e+05 for 512 KB"),
]


@pytest.mark.parametrize("what,call,text", SLIPS, ids=[s[0] for s in SLIPS])
def test_each_slip_is_refused_with_its_fix(what, call, text):
    assert call() == text


def test_the_fix_is_the_right_answer():
    # Typing what the message says gives the answer of the correct input.
    assert x.GPU_COUNT_TIME(175e9, 300e9, 30, 312, 0.45) == 1155  # issue 14's 1,155 GPUs
    assert x.GPU_COUNT_MEM(7e9, 18, 1.25, 24) == 7


INSIDE = [
    ("a year's deadline", lambda: x.GPU_COUNT_TIME(*GPT3, 365, 312, 0.45)),
    ("GB300 dense FP4 peak", lambda: x.TRAIN_DAYS(*GPT3, 1024, 15000, 0.3)),
    ("a CPU's 0.5 TFLOPS", lambda: x.GPU_HOURS(1e9, 20e9, 0.5, 0.5)),
    ("MI355X's 288 GB", lambda: x.GPU_COUNT_MEM(70e9, 18, 1.25, 288)),
    ("$12.29 on-demand H100 (2023)", lambda: xm.CLOUD_COST_USD(1000, 12.29)),
    ("fp64 8 bytes", lambda: x.INFER_MEM_GB(7e9, 8)),
    ("binary weights 0.125 bytes", lambda: x.WEIGHTS_GB(7e9, 0.125)),
    ("tripled memory", lambda: x.GPU_COUNT_MEM(7e9, 18, 3, 24)),
    ("three hours lost", lambda: xm.GOODPUT(1024, None, 3)),
    ("a 32 TB checkpoint", lambda: x.COMM_SECONDS(32000, 450)),
]


@pytest.mark.parametrize("what,call", INSIDE, ids=[s[0] for s in INSIDE])
def test_unusual_but_real_values_compute(what, call):
    out = call()
    assert isinstance(out, float) and math.isfinite(out), out


# ------------------------------------------------------------------ MFU and text parsing

def test_measured_mfu_above_one_is_refused_naming_the_causes():
    # Megatron GPT-3: 1.41E17 FLOPs per iteration, 13.75 s, 64 A100s -> 0.514; the same
    # time typed in minutes gives the 30.8.
    assert x.MFU(1.41e17, 13.75, 64, 312) == pytest.approx(0.514, abs=0.001)
    out = x.MFU(1.41e17, 13.75 / 60, 64, 312)
    assert out.startswith("#NUM! MFU comes out at 30.8, above 1")
    assert "iter_seconds is in seconds (0.229 minutes would give 0.514)" in out
    assert "N counts every GPU" in out and "peak_TFLOPS" in out
    per_node = x.MFU(1.41e17, 13.75, 8, 312)  # 8 nodes typed for 64 GPUs
    assert per_node.startswith("#NUM! MFU comes out at 4.11, above 1")


def test_precision_text_is_parsed_strictly():
    assert x.BYTES_PER_PARAM("-2").startswith("#NUM! precision must be a positive byte count")
    assert x.BYTES_PER_PARAM("1e-1") == ("#NUM! precision is in bytes per value (2 for bf16; "
                                         "0.5 for int4): 0.1 is beyond any real value (0.125 "
                                         "to 4); expected at least 0.125")
    assert x.BYTES_PER_PARAM("5e-1") == 0.5 and x.BYTES_PER_PARAM(" 2 ") == 2
    assert x.BYTES_PER_PARAM("b-f_16") == 2  # names keep their forgiving spelling


@pytest.mark.parametrize("text", ["1_0", "inf", "nan", "--2", "2-", "1e", "0x10"])
def test_number_text_is_parsed_strictly(text):
    out = x.GPU_HOURS(175e9, 300e9, 312, text)
    assert out.startswith("#VALUE! MFU is text"), out


def test_number_text_still_reads_excel_forms():
    good = x.GPU_HOURS(175e9, 300e9, 312, 0.45)
    for text in ("0.45", " .45 ", "45%", "4.5E-1", "+0.45"):
        assert x.GPU_HOURS(175e9, 300e9, 312, text) == good


# ------------------------------------------------------------------ the table itself

def test_every_quantity_has_a_source_and_limits_beyond_the_real_range():
    for b in bounds.bounds().values():
        assert len(b.source) > 40, b.quantity
        assert b.refuse_above is None or b.refuse_above >= b.real_high, b.quantity
        assert b.refuse_below is None or b.refuse_below <= b.real_low, b.quantity
        for s in b.slips:  # every slip's fix lands inside the limits for some value
            assert s.factor > 0


def _catalog_values(spec):
    file, _, field = spec.partition(":")
    field, _, unit = field.partition("@")
    with open(ROOT / "formulas" / "data" / file, encoding="utf-8") as f:
        return [float(r[field]) for r in csv.DictReader(f)
                if r[field].strip() and (not unit or r["unit"] == unit)]


def test_real_ranges_hold_the_catalogs():
    # The table's "real" range of a catalog quantity holds every catalog value, so its
    # source text stays true when a catalog row is added; where the source names the
    # catalog as the range, the range is exactly the catalog's.
    for b in bounds.bounds().values():
        if not b.catalog_fields:
            continue
        values = [v for spec in b.catalog_fields for v in _catalog_values(spec)]
        assert b.real_low <= min(values) and max(values) <= b.real_high, b.quantity
        if b.source.startswith("Range of formulas/data/"):
            assert (min(values), max(values)) == (b.real_low, b.real_high), b.quantity


# ------------------------------------------------------------------ the catalog loader

def _fake_package(tmp_path, monkeypatch, filename, edit):
    data = tmp_path / "data"
    data.mkdir()
    text = (ROOT / "formulas" / "data" / filename).read_text(encoding="utf-8")
    (data / filename).write_text(edit(text), encoding="utf-8")
    monkeypatch.setattr(catalog, "resources", types.SimpleNamespace(files=lambda _: tmp_path))


def _replace_cell(text, row_id, column, value):
    rows = list(csv.reader(text.splitlines()))
    col = rows[0].index(column)
    for r in rows:
        if r[0] == row_id:
            r[col] = value
    import io
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("column,value,fix", [
    ("mem_bw_gbps", "2.039e12", "use 2039 for 2.039e+12 bytes/s"),
    ("tflops_bf16", "312000", "use 312 for 312000 GFLOPS"),
    ("tflops_bf16", "3.12e14", "use 312 for 3.12e+14 FLOP/s"),
    ("memory_gb", "80000", "use 80 for 80000 MB"),
    ("memory_gb", "8e10", "use 80 for 8e+10 bytes"),
    ("tflops_fp8", "-624", "tflops_fp8 must be a positive number, got -624"),
])
def test_a_gpu_row_with_a_slip_is_refused_at_load(tmp_path, monkeypatch, column, value, fix):
    _fake_package(tmp_path, monkeypatch, "gpus.csv",
                  lambda t: _replace_cell(t, "a100-sxm-80gb", column, value))
    with pytest.raises(CatalogError) as exc:
        catalog._load("gpus.csv", catalog.GpuSpec)
    header = (ROOT / "formulas" / "data" / "gpus.csv").read_text().splitlines()[0].split(",")
    msg = str(exc.value)
    assert msg.startswith(f"gpus.csv line 4 column {header.index(column) + 1} ({column}): ")
    assert msg.endswith(fix), msg


def test_a_rent_in_cents_is_refused_at_load(tmp_path, monkeypatch):
    _fake_package(tmp_path, monkeypatch, "gpu_prices.csv",
                  lambda t: _replace_cell(t, "aws-h100-od-2026", "usd", "390"))
    with pytest.raises(CatalogError, match=r"gpu_prices.csv line 3 column 6 \(usd\): usd is in "
                                           r"US dollars per GPU-hour: use 3.9 for 390 cents"):
        catalog._load("gpu_prices.csv", catalog.GpuPrice)


def test_the_shipped_catalogs_pass():
    assert catalog._load("gpus.csv", catalog.GpuSpec)
    assert catalog._load("gpu_prices.csv", catalog.GpuPrice)


def test_a_model_row_in_billions_is_refused_at_load(tmp_path, monkeypatch):
    _fake_package(tmp_path, monkeypatch, "models.csv",
                  lambda t: _replace_cell(t, "llama-2-7b", "params", "6.74"))
    with pytest.raises(CatalogError, match=r"models.csv line \d+ column \d+ \(params\): params is "
                                           r"a raw parameter count \(7E9 for 7B\): use 6.74e\+09 "
                                           r"for 6.74 billion"):
        catalog._load("models.csv", catalog.ModelSpec)
