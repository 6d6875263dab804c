"""The procurement planner: what to buy for a training deadline, from whom, and when it is paid.

``build_procurement_planner()`` returns an openpyxl ``Workbook`` of native Excel formulas.
Sheets: Start here, Requirement (GPUs, servers, network, storage, racks, power),
Vendor quotes (three quotes, landed cost, cost per effective PFLOP/s and per GB of HBM,
cheapest and fastest highlighted), Delivery schedule (GPUs and spend by quarter with
contingency), then the catalogs (GPUs with editable example prices, Models, Example
prices) and a hidden Lists sheet.

Key names: ``GPUsRequired`` = max(``GPU_COUNT_TIME``, ``GPU_COUNT_MEM``); ``Servers`` = GPUs
required / GPUs per server, rounded up; ``CapexUSD`` = (hardware of the chosen quote +
network + storage) x (1 + contingency).
"""

from __future__ import annotations

import datetime as _dt
from typing import Mapping, Sequence

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook import Workbook

from llm_budget_planner.formulas.assumptions import assumption
from llm_budget_planner.formulas.catalog import (GpuPrice, GpuSpec, ModelSpec, gpu_catalog,
                                                 gpu_prices, model_catalog)

from .budget import (DEFAULT_GPU, DEFAULT_MODEL, PRECISIONS, SheetBuilder, _lookup,
                     _roundup_count, excel_serial, first_of_next_month)
from .catalog_sheets import write_gpu_sheet, write_lists_sheet, write_model_sheet, write_price_sheet
from .defaults import default
from .guide import write_guide
from .sheets import (Form, Rule, add_rule, define_name, finish_planner, finish_sheet, header_row,
                     not_usable, put_text, sheet_heading)
from .styles import FONT, register_styles, style

__all__ = ["build_procurement_planner", "QUOTES", "QUOTE_CHOICES", "DELIVERY_QUARTERS",
           "DEFAULT_DEADLINE_DAYS"]

DEFAULT_DEADLINE_DAYS = 30
DELIVERY_QUARTERS = 8
#: Example quote inputs: (label, price factor on the example GPU price, lead weeks,
#: support fraction, freight fraction). Placeholders that show how the sheet works.
QUOTES = (
    ("Quote A", 1.00, 12, 0.10, 0.02),
    ("Quote B", 0.95, 20, 0.08, 0.03),
    ("Quote C", 1.05, 8, 0.12, 0.02),
)
QUOTE_CHOICES = ("Cheapest", "Fastest") + tuple(q[0] for q in QUOTES)


#: Inputs the results need, in the order they are reported: (Excel test, what to fix).
INPUT_PROBLEMS = (
    (not_usable("Params"), "Fix Requirement > Parameters: a positive count is needed."),
    (not_usable("ActiveParams"), "Fix Requirement > Active parameters per token: a positive count."),
    (not_usable("Tokens"), "Fix Requirement > Training tokens: a positive count is needed."),
    (not_usable("FlopsPerParamToken"), "Fix Requirement > FLOPs per parameter per token: 8 or 6."),
    (not_usable("MFU", high="1"), "Fix Requirement > FLOPs utilisation: a fraction above 0 and at "
     "most 1 (0.40 for 40%)."),
    (not_usable("Goodput", high="1"), "Fix Requirement > Goodput: a fraction above 0 and at most 1."),
    (not_usable("DeadlineDays"), "Fix Requirement > Training deadline: a positive number of days."),
    (not_usable("PeakTFLOPS"), "Fix Requirement > Peak dense TFLOPS per GPU: none for this GPU at "
     "this precision; type the peak or pick bf16."),
    (not_usable("GPUMemoryGB"), "Fix Requirement > Memory per GPU: a positive number of GB."),
    (not_usable("GPUsPerServer", "1", strict=False), "Fix Requirement > GPUs per server: at least 1."),
    (not_usable("ServerCostUSD", strict=False), "Fix Requirement > Server cost: it is negative."),
    (not_usable("MIN(SwitchPriceUSD,NICPriceUSD,LinkPriceUSD,StoragePriceUSDPerTB)",
                strict=False),
     "Fix Requirement > unit prices for network and storage: a price is negative."),
)


def _requirement_sheet(wb: Workbook) -> Form:
    ws = wb.create_sheet("Requirement")
    sheet_heading(ws, "Requirement: GPUs, servers, network, storage, racks and power",
                  "Inputs first, then the results. Column D is the default (a catalog look-up or a "
                  "sourced value), column E (yellow, blank) takes your value, column B shows the "
                  "value used. Every default states its source in column F.",
                  "F")
    f = Form(wb, ws, row=4)
    f.header()
    d = default

    f.section("Training to support")
    f.input("Model", "Model", DEFAULT_MODEL, "catalog id", "text",
            Rule("list", "Pick a model id from the Models sheet; type a parameter count over "
                 "Parameters for another model.", "Pick an id from the list.",
                 source="=Model_Ids"), "Dropdown: the Models sheet lists sizes and sources.")
    f.input("Params", "Parameters (total)", None, "raw count", "count_b",
            Rule("decimal", "Total parameters as a raw count: 70E9 for 70B (not 70).",
                 "Enter a raw parameter count between 1E6 and 1E15.", 1e6, 1e15),
            "Catalog count; type your own to override.",
            default_formula="=" + _lookup("Model_Params", "Model", "Model_Ids"))
    f.input("ActiveParams", "Active parameters per token", None, "raw count", "count_b",
            Rule("decimal", "Parameters used per token (mixture-of-experts: routed experts "
                 "only), raw count.", "Enter a raw count between 1E6 and 1E15.", 1e6, 1e15),
            "Catalog active/total ratio x Parameters (1 for dense models).",
            default_formula="=Params*" + _lookup("Model_Active", "Model", "Model_Ids") + "/"
                            + _lookup("Model_Params", "Model", "Model_Ids"))
    tpp = d("tokens_per_param")
    f.input("TokensPerParam", "Chinchilla tokens per parameter", tpp.value, tpp.unit, "decimal",
            Rule("decimal", "Tokens per parameter: 20 (Chinchilla).",
                 "Enter a number between 0.1 and 10,000.", 0.1, 10000), tpp.source)
    f.input("Tokens", "Training tokens", None, "raw count", "count_b",
            Rule("decimal", "Training tokens as a raw count: 2E12 for 2T.",
                 "Enter a raw token count between 1E6 and 1E16.", 1e6, 1e16),
            "Chinchilla-optimal by default; type your own count to override.",
            default_formula="=TokensPerParam*Params")
    k8 = d("flops_per_param_token_recompute")
    f.input("FlopsPerParamToken", "FLOPs per parameter per token", k8.value, "FLOPs", "decimal",
            Rule("decimal", "8 with activation recomputation, 6 without.",
                 "Enter a number between 1 and 20.", 1, 20), k8.source)
    mfu = d("mfu")
    f.input("MFU", "FLOPs utilisation (k-FLOPs basis)", mfu.value, "fraction", "pct",
            Rule("decimal", "Achieved fraction of the dense peak, counting the k FLOPs above: "
                 "0.40 for 40%.", "Enter a fraction between 0.01 and 1.", 0.01, 1),
            "As the budget planner: days = k·P·T / (N · peak · this fraction); a model-FLOPs "
            "MFU (6·P·T) converts as MFU x 6 / k. " + mfu.source)
    f.input("Goodput", "Goodput (share of time training)", assumption("goodput"), "fraction",
            "pct", Rule("decimal", "Share of wall-clock time that trains, e.g. 0.9.",
                        "Enter a fraction between 0.01 and 1.", 0.01, 1),
            "Llama 3 (arXiv 2407.21783 §3.3.4): more than 90% effective training time on 16K "
            "GPUs. The cluster is sized so the productive days fit the deadline.")
    f.input("DeadlineDays", "Training deadline", DEFAULT_DEADLINE_DAYS, "days", "days",
            Rule("decimal", "Wall-clock days the training may take, e.g. 30.",
                 "Enter days between 0.1 and 3650.", 0.1, 3650),
            "The cluster is sized to finish within this time.")

    f.section("GPU")
    f.input("GPU", "GPU type", DEFAULT_GPU, "catalog id", "text",
            Rule("list", "Pick a GPU id from the GPUs sheet.", "Pick an id from the list.",
                 source="=GPU_Ids"), "Dropdown: the GPUs sheet lists specs, sources and prices.")
    f.input("Precision", "Training precision", "bf16", "bf16 / fp8", "text",
            Rule("list", "bf16: the GPU's dense BF16 peak; fp8: its dense FP8 peak.",
                 "Pick bf16 or fp8.", source="=PrecisionChoices"),
            "Chooses the peak below (GPUs sheet columns); memory per parameter is unchanged.")
    f.input("PeakTFLOPS", "Peak dense TFLOPS per GPU", None, "TFLOPS", "tflops",
            Rule("decimal", "Dense peak TFLOPS per GPU, e.g. 989.4.",
                 "Enter TFLOPS between 1 and 100,000.", 1, 100000),
            "Catalog dense peak at the training precision (0 where the catalog has no FP8 "
            "figure).", default_formula="=IF(Precision=\"fp8\",0+" + _lookup("GPU_TFLOPS_FP8")
            + "," + _lookup("GPU_TFLOPS") + ")")
    f.input("GPUMemoryGB", "Memory per GPU", None, "GB", "gb",
            Rule("decimal", "Device memory per GPU in GB, e.g. 80.",
                 "Enter GB between 1 and 10,000.", 1, 10000),
            "Catalog memory (HBM).", default_formula="=" + _lookup("GPU_MemoryGB"))
    f.input("GPUPowerW", "Power per GPU", None, "W", "count",
            Rule("decimal", "Watts per GPU at full load, e.g. 700.",
                 "Enter watts between 0 and 100,000.", 0, 100000),
            "Catalog TDP; type a value where none is published.",
            default_formula="=0+" + _lookup("GPU_TDP"))
    state = sum(d(k).value for k in ("bytes_weights", "bytes_gradients", "bytes_optimizer"))
    f.input("StateBytesPerParam", "Training state per parameter", state, "bytes", "decimal",
            Rule("decimal", "Bytes per parameter for weights, gradients and optimizer: 18.",
                 "Enter bytes between 1 and 100.", 1, 100), d("bytes_optimizer").source)
    af = d("activation_factor")
    f.input("ActivationFactor", "Activation and overhead factor", af.value, "multiplier",
            "decimal", Rule("decimal", "Multiplier for activations: 1.25.",
                            "Enter a multiplier between 1 and 10.", 1, 10), af.source)

    f.section("Servers and racks")
    for name, key, label, unit, fmt, low, high in (
            ("GPUsPerServer", "gpus_per_server", "GPUs per server", "GPUs", "count", 1, 64),
            ("ServerPowerW", "server_power_w", "Server power excluding GPUs", "W per server",
             "count", 0, 1000000),
            ("ServerUnits", "server_units", "Server height", "rack units (U)", "count", 1, 60),
            ("RackUnits", "rack_units", "Usable rack height", "rack units (U)", "count", 1, 60),
            ("RackPowerKW", "rack_power_kw", "Power budget per rack", "kW", "kw", 1, 1000)):
        item = d(key)
        kind = "whole" if fmt == "count" and name != "ServerPowerW" else "decimal"
        f.input(name, label, item.value, unit, fmt,
                Rule(kind, f"{label} in {unit}, e.g. {item.value:g}.",
                     f"Enter {unit} between {low:,} and {high:,}.", low, high), item.source)

    sc = d("server_cost_usd")
    f.input("ServerCostUSD", "Server cost excluding GPUs", sc.value, "$ per server", "usd",
            Rule("decimal", "Chassis, CPUs, memory and NICs of one server in US dollars.",
                 "Enter dollars between 0 and 100,000,000.", 0, 100000000), sc.source)

    f.section("Network (compute fabric)")
    for name, key, label, unit, low, high in (
            ("NICsPerServer", "nics_per_server", "NICs per server", "NICs", 0, 64),
            ("SwitchPorts", "switch_ports", "Ports per switch", "ports", 4, 1024)):
        item = d(key)
        f.input(name, label, item.value, unit, "count",
                Rule("whole", f"{label}, e.g. {item.value:g}.",
                     f"Enter a whole number between {low} and {high}.", low, high), item.source)

    f.section("Storage")
    for name, key, label, unit, fmt in (
            ("BytesPerTokenStored", "bytes_per_token_stored", "Dataset bytes per token",
             "bytes", "decimal"),
            ("CheckpointBytesPerParam", "checkpoint_bytes_per_param", "Checkpoint bytes per "
             "parameter", "bytes", "decimal"),
            ("CheckpointsKept", "checkpoints_kept", "Checkpoints kept", "checkpoints", "count")):
        item = d(key)
        f.input(name, label, item.value, unit, fmt,
                Rule("whole" if fmt == "count" else "decimal", f"{label} in {unit}, e.g. "
                     f"{item.value:g}.", f"Enter {unit} between 0 and 1,000.", 0, 1000),
                item.source)

    f.section("Facility")
    pue = d("pue")
    f.input("PUE", "Power usage effectiveness (PUE)", pue.value, "ratio", "decimal",
            Rule("decimal", "Facility power / IT power, e.g. 1.58.",
                 "Enter a ratio between 1 and 5.", 1, 5), pue.source)
    el = d("electricity_usd_per_kwh")
    f.input("ElectricityUSDPerKWh", "Electricity price", el.value, "$ per kWh", "usd_cents",
            Rule("decimal", "US dollars per kWh, e.g. 0.08.",
                 "Enter dollars per kWh between 0 and 10.", 0, 10), el.source)

    f.section("Unit prices for network and storage (EXAMPLES: type your quotes)")
    for name, key, label, unit in (("SwitchPriceUSD", "switch_price_usd", "Switch", "$ per switch"),
                                   ("NICPriceUSD", "nic_price_usd", "NIC", "$ per NIC"),
                                   ("LinkPriceUSD", "link_price_usd",
                                    "Link (cable and two transceivers)", "$ per link")):
        item = d(key)
        f.input(name, label, item.value, unit, "usd",
                Rule("decimal", f"Your quoted price in {unit}.",
                     f"Enter {unit} between 0 and 100,000,000.", 0, 100000000), item.source)
    share = d("storage_capex_share")
    f.input("StorageCapexShare", "Storage share of servers, network and storage", share.value,
            "fraction", "pct",
            Rule("decimal", "Storage's share of the capex of GPU servers, network and storage, "
                 "e.g. 0.015 for 1.5%.", "Enter a fraction between 0 and 0.5.", 0, 0.5),
            share.source)
    f.input("StoragePriceUSDPerTB", "Storage (your quote; 0: the share above)", 0, "$ per TB",
            "usd",
            Rule("decimal", "Your quoted price in $ per TB of usable storage; 0 uses the "
                 "storage share of capex.", "Enter $ per TB between 0 and 100,000,000.", 0,
                 100000000),
            "No public per-TB price found: with 0 the storage cost is the EXAMPLE share above "
            "of servers, network and storage (AI clusters size storage for bandwidth, not only "
            "for the dataset). A price per TB replaces it.")

    # ------------------------------------------------------------------ results
    f.section("Check of the inputs")
    problems = "".join(f"IF({bad},\"{text}\"," for bad, text in INPUT_PROBLEMS)
    f.result("InputProblem", "Input to fix", "=" + problems + "\"\"" + ")" * len(INPUT_PROBLEMS),
             "", "text", "Empty when every input the results need is usable; otherwise the "
             "first one to fix, and the results below say 'Fix input'.", key=True)
    f.section("GPUs")
    f.result("GPUsForDeadline", "GPUs needed for the deadline",
             "=IF(InputProblem<>\"\",\"Fix input\","
             + _roundup_count("FlopsPerParamToken*ActiveParams*Tokens/(DeadlineDays*86400*"
                              "(PeakTFLOPS*1E12*MFU)*Goodput)") + ")", "GPUs", "count",
             "k·P·T / (days · goodput · 86400 · TFLOPS · 1E12 · utilisation), rounded up = "
             "GPU_COUNT_TIME for the productive days.")
    f.result("GPUsForMemory", "GPUs needed by memory",
             "=IF(InputProblem<>\"\",\"Fix input\","
             + _roundup_count("Params*StateBytesPerParam*ActivationFactor/1E9/GPUMemoryGB") + ")",
             "GPUs", "count", "P · bytes · factor / GPU GB, rounded up = GPU_COUNT_MEM.")
    f.result("GPUsRequired", "GPUs required", "=MAX(GPUsForDeadline,GPUsForMemory)", "GPUs",
             "count", "The larger of the two.", key=True)
    f.result("Servers", "Servers", "=ROUNDUP(GPUsRequired/GPUsPerServer,0)", "servers", "count",
             "GPUs required / GPUs per server, rounded up.", key=True)
    f.result("GPUsToBuy", "GPUs to buy (whole servers)", "=Servers*GPUsPerServer", "GPUs",
             "count", "Servers x GPUs per server.", key=True)
    f.result("TrainingDaysToBuy", "Training time on the GPUs bought (wall clock)",
             "=FlopsPerParamToken*ActiveParams*Tokens/(GPUsToBuy*(PeakTFLOPS*1E12*MFU))/86400/"
             "Goodput", "days", "days", "TRAIN_DAYS with the GPUs bought / goodput.")

    f.section("Network: non-blocking two-tier leaf-spine")
    f.result("NICs", "NICs (fabric endpoints)", "=Servers*NICsPerServer", "NICs", "count",
             "Servers x NICs per server.")
    f.result("LeafSwitches", "Leaf switches",
             "=IF(NICs<=SwitchPorts,1,ROUNDUP(NICs/(SwitchPorts/2),0))", "switches", "count",
             "One switch if it has a port per NIC; else half of each leaf's ports face the NICs.")
    f.result("SpineSwitches", "Spine switches",
             "=IF(LeafSwitches<=1,0,ROUNDUP(LeafSwitches*(SwitchPorts/2)/SwitchPorts,0))",
             "switches", "count", "Leaf uplinks (half their ports) / ports per spine.")
    f.result("Links", "Links (cables)", "=NICs+IF(SpineSwitches=0,0,LeafSwitches*SwitchPorts/2)",
             "links", "count", "NIC-to-leaf plus leaf-to-spine links.")
    f.result("FabricOK", "Fits a two-tier fabric?",
             "=IF(NICs<=SwitchPorts^2/2,\"Yes\",\"No: more than \"&FIXED(SwitchPorts^2/2,0)"
             "&\" endpoints need a three-tier fabric\")", "", "text",
             "A two-tier fat tree of k-port switches connects at most k²/2 endpoints.")
    f.result("NetworkCapexUSD", "Network cost",
             "=(LeafSwitches+SpineSwitches)*SwitchPriceUSD+NICs*NICPriceUSD+Links*LinkPriceUSD",
             "$", "usd", "Switches, NICs and links at the prices above (NICs: 0 when the server "
             "cost includes them).",
             unit_formula="=IF(AND(SwitchPriceUSD>0,LinkPriceUSD>0),\"$\",\"$ INCOMPLETE\")")

    f.section("Storage")
    f.result("DatasetTB", "Tokenised dataset", "=Tokens*BytesPerTokenStored/1E12", "TB", "tb",
             "Tokens x bytes per token / 1E12.")
    f.result("CheckpointTB", "Checkpoints", "=Params*CheckpointBytesPerParam*CheckpointsKept/1E12",
             "TB", "tb", "P x bytes x checkpoints kept / 1E12.")
    f.result("StorageTB", "Storage needed", "=DatasetTB+CheckpointTB", "TB", "tb", "", key=True)
    f.result("StorageCapexUSD", "Storage cost",
             "=IF(StoragePriceUSDPerTB>0,StorageTB*StoragePriceUSDPerTB,IF(AND(ISNUMBER("
             "HardwareUSD),ISNUMBER(NetworkCapexUSD)),StorageCapexShare/(1-StorageCapexShare)*"
             "(HardwareUSD+NetworkCapexUSD),0))", "$", "usd",
             "TB x your price per TB; without one, the storage share of servers, network and "
             "storage (chosen quote and network cost).",
             unit_formula="=IF(StorageCapexUSD>0,\"$\",\"$ INCOMPLETE\")")

    f.section("Racks, power and cooling")
    f.result("ServerPowerKW", "Power per server", "=(GPUsPerServer*GPUPowerW+ServerPowerW)/1000",
             "kW", "kw", "(GPUs x W + server W) / 1000.")
    f.result("ServersPerRackByPower", "Servers per rack by power",
             "=INT(RackPowerKW/ServerPowerKW)", "servers", "count", "Rack power / server power.")
    f.result("ServersPerRackBySpace", "Servers per rack by space", "=INT(RackUnits/ServerUnits)",
             "servers", "count", "Rack units / server units.")
    f.result("ServersPerRack", "Servers per rack",
             "=MAX(1,MIN(ServersPerRackByPower,ServersPerRackBySpace))", "servers", "count",
             "The tighter limit (at least one).")
    f.result("Racks", "Racks", "=ROUNDUP(Servers/ServersPerRack,0)", "racks", "count", "",
             key=True)
    f.result("ITPowerKW", "IT power (servers at full load)", "=Servers*ServerPowerKW", "kW", "kw",
             "Switches and storage excluded.", key=True)
    f.result("FacilityPowerKW", "Facility power incl. cooling", "=ITPowerKW*PUE", "kW", "kw",
             "IT power x PUE.", key=True)
    f.result("CoolingKW", "Cooling and facility overhead", "=ITPowerKW*(PUE-1)", "kW", "kw",
             "IT power x (PUE - 1); the heat to remove equals the IT power.")
    f.result("AnnualEnergyMWh", "Energy per year at full load", "=FacilityPowerKW*8760/1000",
             "MWh per year", "kwh", "Facility kW x 8760 h / 1000.")
    f.result("AnnualEnergyUSD", "Electricity per year", "=AnnualEnergyMWh*1000*"
             "ElectricityUSDPerKWh", "$ per year", "usd", "MWh x 1000 x $ per kWh.")
    f.result("TrainingEnergyUSD", "Electricity for the training run",
             "=FacilityPowerKW*TrainingDaysToBuy*24*ElectricityUSDPerKWh", "$", "usd",
             "Facility kW x training hours x $ per kWh.")
    f.result("RackCheck", "Rack check", "=IF(ServersPerRackByPower<1,\"One server draws more "
             "than the rack power budget: raise the budget or use fewer GPUs per server\",\"OK\")",
             "", "text", "")
    finish_sheet(ws, {"A": 40, "B": 16, "C": 18, "D": 16, "E": 16, "F": 80}, freeze="A5")
    return f


def _quotes_sheet(wb: Workbook) -> dict[str, str]:
    ws = wb.create_sheet("Vendor quotes")
    names: dict[str, str] = {}
    sheet_heading(ws, "Vendor quotes: landed cost, cost per effective PFLOP/s and per GB of HBM",
                  "EXAMPLE quote values: the prices start from the example purchase price of the "
                  "GPU (GPUs sheet), the lead times and percentages are placeholders. Replace every"
                  " blue cell with your vendors' quotes. Green marks the cheapest and the fastest "
                  "quote.",
                  "F",
                  height=45,
                  note_style="example")
    header_row(ws, 4, ("Item", *(q[0] for q in QUOTES), "Unit", "Formula / note"))
    cols = [chr(ord("B") + i) for i in range(len(QUOTES))]
    last = cols[-1]
    unit_col, note_col = chr(ord(last) + 1), chr(ord(last) + 2)
    define_name(wb, "QuoteNames", ws, f"B4:{last}4")

    rows: dict[str, int] = {}
    r = 5

    def row(key: str, label: str, unit: str, note: str, values, fmt: str, role: str,
            rule: Rule | None = None, allow_blank: bool = False) -> None:
        nonlocal r
        put_text(ws[f"A{r}"], label)
        style(ws[f"A{r}"], "label")
        put_text(ws[f"{unit_col}{r}"], unit)
        style(ws[f"{unit_col}{r}"], "label")
        put_text(ws[f"{note_col}{r}"], note)
        style(ws[f"{note_col}{r}"], "note")
        for i, col in enumerate(cols):
            v = values(i, col) if callable(values) else values[i]
            c = ws[f"{col}{r}"]
            if isinstance(v, str) and v.startswith("="):
                c.value = v
            elif v != "":
                put_text(c, v)
            style(c, role, fmt)
        if rule is not None:
            add_rule(ws, f"B{r}:{last}{r}", rule, label, allow_blank=allow_blank)
        define_name(wb, key, ws, f"B{r}:{last}{r}")
        names[key] = f"{label} ({unit}), one cell per quote"
        rows[key] = r
        r += 1

    row("QuoteVendor", "Vendor", "name", "Who quoted.", [f"Vendor {q[0][-1]} (example)"
                                                          for q in QUOTES], "text", "input",
        Rule("textLength", "Vendor name.", "Enter up to 100 characters.", 0, 100))
    row("QuoteExamplePrice", "EXAMPLE price per GPU installed", "$ per GPU",
        "(Example GPU price + server cost / GPUs per server) x a placeholder factor per column.",
        [f"=(0+{_lookup('GPU_PurchasePrice')}+ServerCostUSD/GPUsPerServer)*{q[1]:g}"
         for q in QUOTES], "usd", "calc")
    row("QuotePrice_Override", "Your quote per GPU installed", "$ per GPU",
        "Server price / GPUs per server. Blank: the EXAMPLE above is used.",
        ["" for _ in QUOTES], "usd", "input",
        Rule("decimal", "Quoted US dollars per GPU (server price divided by its GPUs).",
             "Enter dollars per GPU between 0 and 10,000,000.", 0, 10000000), allow_blank=True)
    row("QuotePrice", "Price per GPU used", "$ per GPU", "Your quote, else the EXAMPLE.",
        lambda i, c: f"=IF({c}{rows['QuotePrice_Override']}=\"\",{c}{rows['QuoteExamplePrice']},"
                     f"{c}{rows['QuotePrice_Override']})", "usd", "calc")
    row("QuoteLeadWeeks", "Delivery lead time", "weeks", "From order to delivery.",
        [q[2] for q in QUOTES], "count", "input",
        Rule("decimal", "Weeks from order to delivery, e.g. 12.",
             "Enter weeks between 0 and 260.", 0, 260))
    row("QuoteSupport", "Support and warranty", "fraction of price",
        "For the whole support term, e.g. 0.10 for 10%.", [q[3] for q in QUOTES], "pct", "input",
        Rule("decimal", "Support as a fraction of the price: 0.10 for 10%.",
             "Enter a fraction between 0 and 5.", 0, 5))
    row("QuoteFreight", "Freight, duties and insurance", "fraction of price",
        "e.g. 0.02 for 2%.", [q[4] for q in QUOTES], "pct", "input",
        Rule("decimal", "Freight, duties and insurance as a fraction: 0.02 for 2%.",
             "Enter a fraction between 0 and 5.", 0, 5))
    row("QuoteLandedPerGPU", "Landed cost per GPU", "$ per GPU",
        "Price x (1 + support + freight).",
        lambda i, c: f"={c}{rows['QuotePrice']}*(1+{c}{rows['QuoteSupport']}+"
                     f"{c}{rows['QuoteFreight']})", "usd", "calc")
    row("QuoteGPUs", "GPUs to buy", "GPUs", "Requirement: whole servers.",
        lambda i, c: "=GPUsToBuy", "count", "calc")
    row("QuoteTotal", "Landed cost, total", "$", "Landed cost per GPU x GPUs to buy.",
        lambda i, c: f"={c}{rows['QuoteLandedPerGPU']}*{c}{rows['QuoteGPUs']}", "usd", "result")
    row("QuotePerPFLOPS", "Cost per effective PFLOP/s", "$ per PFLOP/s",
        "Landed cost per GPU / (peak TFLOPS x MFU / 1000).",
        lambda i, c: f"={c}{rows['QuoteLandedPerGPU']}/(PeakTFLOPS*MFU/1000)", "usd", "calc")
    row("QuotePerGBHBM", "Cost per GB of HBM", "$ per GB",
        "Landed cost per GPU / GPU memory.",
        lambda i, c: f"={c}{rows['QuoteLandedPerGPU']}/GPUMemoryGB", "usd_cents", "calc")
    row("QuoteDelivery", "Delivery date", "date", "Order date (Delivery schedule) + lead time.",
        lambda i, c: f"=OrderDate+{c}{rows['QuoteLeadWeeks']}*7", "date", "calc")
    row("QuoteRankTotal", "Landed total of priced quotes", "$", "Unpriced quotes (price 0) "
        "are left out of the ranking and are never the cheapest.",
        lambda i, c: f"=IF({c}{rows['QuotePrice']}>0,{c}{rows['QuoteTotal']},\"unpriced\")",
        "usd", "calc")
    row("QuoteCheapest", "Cheapest?", "", "Lowest landed total among priced quotes.",
        lambda i, c: f"=IF(NOT({c}{rows['QuotePrice']}>0),\"No price\",IF({c}"
                     f"{rows['QuoteRankTotal']}=MIN(QuoteRankTotal),\"Cheapest\",\"\"))",
        "text", "calc")
    row("QuoteFastest", "Fastest?", "", "Shortest lead time.",
        lambda i, c: f"=IF({c}{rows['QuoteLeadWeeks']}=MIN(QuoteLeadWeeks),\"Fastest\",\"\")",
        "text", "calc")

    green = PatternFill(fill_type="solid", start_color="C6EFCE", end_color="C6EFCE")
    gfont = Font(name=FONT, bold=True, color="006100")
    for key, target in (("QuoteTotal", "QuoteCheapest"), ("QuoteLeadWeeks", "QuoteFastest")):
        rng = f"B{rows[key]}:{last}{rows[key]}"
        ws.conditional_formatting.add(
            rng, FormulaRule(formula=[f"B{rows[target]}=\"{target[5:]}\""], fill=green,
                             font=gfont))
        rng2 = f"B{rows[target]}:{last}{rows[target]}"
        ws.conditional_formatting.add(
            rng2, FormulaRule(formula=[f"OR(B{rows[target]}=\"Cheapest\",B{rows[target]}="
                                       "\"Fastest\")"], fill=green, font=gfont))

    r += 1
    f = Form(wb, ws, row=r, with_default=False, note_width=60, unit_col=unit_col,
             note_col=note_col)
    f.section("Budget")
    f.input("SelectedQuote", "Quote used for the budget", "Cheapest", "choice", "text",
            Rule("list", "Cheapest, Fastest, or one quote by name.", "Pick from the list.",
                 source="=QuoteChoices"), "The capex and the delivery schedule use this quote.")
    cont = default("contingency")
    f.input("Contingency", "Contingency", cont.value, "fraction", "pct",
            Rule("decimal", "Contingency on the hardware budget as a fraction: 0.10 for 10%.",
                 "Enter a fraction between 0 and 1.", 0, 1), cont.source)
    f.result("SelectedQuoteIndex", "Quote number",
             "=IF(SelectedQuote=\"Cheapest\",IF(COUNT(QuoteRankTotal)=0,1,MATCH(MIN("
             "QuoteRankTotal),QuoteRankTotal,0)),"
             "IF(SelectedQuote=\"Fastest\",MATCH(MIN(QuoteLeadWeeks),QuoteLeadWeeks,0),"
             "MATCH(SelectedQuote,QuoteNames,0)))", "1-3", "count", "Position of the quote.")
    f.result("SelectedVendor", "Vendor", "=INDEX(QuoteVendor,SelectedQuoteIndex)", "name", "text",
             "")
    f.result("SelectedLeadWeeks", "Lead time", "=INDEX(QuoteLeadWeeks,SelectedQuoteIndex)",
             "weeks", "count", "")
    f.result("HardwareUSD", "GPU servers, landed", "=INDEX(QuoteTotal,SelectedQuoteIndex)", "$",
             "usd", "Landed total of the chosen quote.")
    f.result(None, "Network", "=NetworkCapexUSD", "$", "usd", "Requirement sheet.")
    f.result(None, "Storage", "=StorageCapexUSD", "$", "usd", "Requirement sheet.")
    f.result("SubtotalUSD", "Subtotal", "=HardwareUSD+NetworkCapexUSD+StorageCapexUSD", "$", "usd",
             "")
    f.result("ContingencyUSD", "Contingency", "=SubtotalUSD*Contingency", "$", "usd", "")
    f.result("CapexUSD", "Capital expenditure incl. contingency", "=SubtotalUSD+ContingencyUSD",
             "$", "usd", "Subtotal x (1 + contingency).", key=True,
             unit_formula="=IF(AND(INDEX(QuotePrice,SelectedQuoteIndex)>0,SwitchPriceUSD>0,"
                          "LinkPriceUSD>0,StorageCapexUSD>0),\"$\",\"$ INCOMPLETE\")")
    names.update(f.inputs)
    names.update(f.results)
    widths = {"A": 36, unit_col: 16, note_col: 60}
    widths.update({c: 18 for c in cols})
    finish_sheet(ws, widths, freeze="B5")
    return names


def _schedule_sheet(wb: Workbook, order: _dt.date) -> dict[str, str]:
    ws = wb.create_sheet("Delivery schedule")
    sheet_heading(ws, "Delivery schedule: GPUs and spend by quarter",
                  "Fiscal quarters (from the fiscal-year start month), the first one holding the "
                  "order date. Deliveries start in the quarter the chosen "
                  "quote's lead time ends and are spread over the tranches; each quarter pays for "
                  "what it receives (hardware, network and storage pro rata), plus contingency.",
                  "I",
                  height=30)
    f = Form(wb, ws, row=4, with_default=False, note_width=100, note_merge_to="I")
    f.header(("Item", "Value", "Unit", "Formula / source"))
    f.input("OrderDate", "Order date", excel_serial(order), "date", "date",
            Rule("date", f"Date the order is placed, e.g. {order.isoformat()}.",
                 "Enter a date between 2000-01-01 and 2100-12-31.",
                 excel_serial(_dt.date(2000, 1, 1)), excel_serial(_dt.date(2100, 12, 31))),
            "Quarter 1 starts here.")
    tr = default("delivery_tranches")
    f.input("DeliveryTranches", "Delivery tranches", tr.value, "quarters", "count",
            Rule("whole", "Quarters over which the servers arrive, e.g. 2.",
                 f"Enter a whole number between 1 and {DELIVERY_QUARTERS}.", 1, DELIVERY_QUARTERS),
            tr.source)
    f.input("FiscalYearStartMonth", "Fiscal year starts in month", 1, "month 1-12", "count",
            Rule("whole", "First month of your fiscal year: 1 for January, 7 for July.",
                 "Enter a whole number from 1 to 12.", 1, 12),
            "1 = calendar quarters. The fiscal year is named after the calendar year it ends in "
            "(a July start makes July 2026 - June 2027 FY2027).")
    f.result("FirstQuarterStart", "First fiscal quarter starts", "=EDATE(DATE(YEAR(OrderDate),"
             "MONTH(OrderDate),1),-MOD(MONTH(OrderDate)-FiscalYearStartMonth,3))", "date", "date",
             "First day of the fiscal quarter that holds the order date.")
    f.result("FirstDeliveryDate", "First delivery", "=OrderDate+SelectedLeadWeeks*7", "date",
             "date", "Order date + lead time of the chosen quote.")
    f.result("FirstDeliveryQuarter", "First delivery quarter",
             "=INT(((YEAR(FirstDeliveryDate)-YEAR(FirstQuarterStart))*12+MONTH(FirstDeliveryDate)-"
             "MONTH(FirstQuarterStart))/3)+1", "quarter",
             "count", "Row of the table (fiscal quarter) that contains the first delivery.")
    f.result("ScheduleCheck", "Check",
             f"=IF(InputProblem<>\"\",InputProblem,IF(FirstDeliveryQuarter+DeliveryTranches-1>"
             f"{DELIVERY_QUARTERS},\"Deliveries run past quarter {DELIVERY_QUARTERS}: the table "
             f"shows the first {DELIVERY_QUARTERS} quarters only\",\"OK\"))", "", "text", "")
    top = f.row + 1
    heads = ("Fiscal quarter", "From", "To", "Servers delivered (cumulative)", "GPUs delivered",
             "Spend ($)", "Contingency ($)", "Spend incl. contingency ($)", "Cumulative ($)")
    header_row(ws, top, heads)
    ws.row_dimensions[top].height = 45
    first = top + 1
    for q in range(1, DELIVERY_QUARTERS + 1):
        r = first + q - 1
        ws[f"A{r}"] = (f"=\"FY\"&(YEAR(B{r})+IF(AND(FiscalYearStartMonth>1,MONTH(B{r})>="
                       f"FiscalYearStartMonth),1,0))&\" Q\"&(INT(MOD(MONTH(B{r})-"
                       "FiscalYearStartMonth,12)/3)+1)")
        style(ws[f"A{r}"], "calc", "text")
        ws[f"B{r}"] = f"=EDATE(FirstQuarterStart,{3 * (q - 1)})"
        style(ws[f"B{r}"], "calc", "date")
        ws[f"C{r}"] = f"=EDATE(FirstQuarterStart,{3 * q})-1"
        style(ws[f"C{r}"], "calc", "date")
        ws[f"D{r}"] = (f"=IF({q}<FirstDeliveryQuarter,0,"
                       + _roundup_count(f"Servers*MIN(1,({q}-FirstDeliveryQuarter+1)/"
                                        "DeliveryTranches)") + ")")
        style(ws[f"D{r}"], "calc", "count")
        prev = "0" if q == 1 else f"D{r - 1}"
        ws[f"E{r}"] = f"=(D{r}-{prev})*GPUsPerServer"
        style(ws[f"E{r}"], "calc", "count")
        ws[f"F{r}"] = f"=(D{r}-{prev})/Servers*SubtotalUSD"
        style(ws[f"F{r}"], "calc", "usd")
        ws[f"G{r}"] = f"=F{r}*Contingency"
        style(ws[f"G{r}"], "calc", "usd")
        ws[f"H{r}"] = f"=F{r}+G{r}"
        style(ws[f"H{r}"], "calc", "usd")
        ws[f"I{r}"] = f"=H{r}" if q == 1 else f"=I{r - 1}+H{r}"
        style(ws[f"I{r}"], "calc", "usd")
    last = first + DELIVERY_QUARTERS - 1
    tot = last + 1
    put_text(ws[f"A{tot}"], "Total")
    style(ws[f"A{tot}"], "result")
    for col, fmt in (("E", "count"), ("F", "usd"), ("G", "usd"), ("H", "usd")):
        ws[f"{col}{tot}"] = f"=SUM({col}{first}:{col}{last})"
        style(ws[f"{col}{tot}"], "result", fmt)
    names = dict(f.inputs)
    names.update(f.results)
    for name, col in (("DeliveryQuarterLabels", "A"), ("DeliveryServersCum", "D"),
                      ("DeliveryGPUs", "E"), ("DeliverySpend", "F"), ("DeliveryContingency", "G"),
                      ("DeliveryTotal", "H")):
        define_name(wb, name, ws, f"{col}{first}:{col}{last}")
        names[name] = f"Delivery schedule column {col}, one row per quarter"
    for name, col in (("DeliveryGPUsTotal", "E"), ("DeliverySpendTotalUSD", "H")):
        define_name(wb, name, ws, f"{col}{tot}")
        names[name] = "Total of the delivery schedule"
    put_text(ws[f"A{tot + 1}"], "The total incl. contingency equals CapexUSD (Vendor quotes) when "
             f"all deliveries fall within {DELIVERY_QUARTERS} quarters.")
    style(ws[f"A{tot + 1}"], "note")
    ws.merge_cells(f"A{tot + 1}:I{tot + 1}")
    finish_sheet(ws, {"A": 30, "B": 14, "C": 14, "D": 16, "E": 14, "F": 16, "G": 16, "H": 18,
                      "I": 18}, freeze="A5")
    return names


def _guide_blocks(gpus: Mapping[str, GpuSpec], models: Mapping[str, ModelSpec]):
    return [
        ("What this workbook answers", [
            "How many GPUs, servers, switches, racks, kW and TB does a training deadline need; "
            "what do three vendor quotes cost landed, per effective PFLOP/s and per GB of HBM; "
            "when do the GPUs arrive and when is what paid?",
        ]),
        ("Who fills what", [
            "ML / platform lead\tRequirement sheet, first sections: model, tokens, MFU, "
            "deadline, GPU type, memory per parameter.",
            "Data-centre / infrastructure\tRequirement sheet: servers and racks, network, "
            "storage, facility (PUE, electricity).",
            "Procurement / finance\tRequirement: server cost and unit prices for network and "
            "storage (EXAMPLES with source and date; storage has none); Vendor quotes: your "
            "quotes in the yellow row (the EXAMPLE row is used while it is blank), the quote to "
            "budget, contingency; Delivery schedule: order date, tranches, fiscal-year start; "
            "Buy vs rent: rent, useful life, utilisation, cost of capital, residual value, "
            "colocation.",
        ]),
        ("How to use", [
            "1. Requirement: pick the model and GPU, set the deadline; check GPUs required, "
            "servers, fabric, racks and power.",
            "2. Vendor quotes: type each vendor's price per GPU, lead time, support and freight. "
            "The cheapest priced quote and the fastest turn green (a quote without a price is "
            "never the cheapest); choose which one the budget uses.",
            "3. Delivery schedule: set the order date, the delivery tranches and the month your "
            "fiscal year starts; read GPUs and spend by fiscal quarter and the capex total with "
            "contingency.",
            "4. Buy vs rent: the owning cost per GPU-hour of the GPUs bought against the rent, "
            "the NPV of buying instead of renting and the undiscounted breakeven month.",
            "Sheets are protected without a password (Review > Unprotect Sheet) so formulas are "
            "not overwritten by accident; blue cells stay editable.",
        ]),
        ("Formulas and sources", [
            "GPUs for the deadline\tk·P·T / (days · 86400 · peak TFLOPS · 1E12 · MFU), rounded up "
            "(Narayanan et al. 2021, eq. 4; GPU_COUNT_TIME).",
            "GPUs by memory\tP · 18 bytes · 1.25 / GPU GB, rounded up (seed article 004; "
            "GPU_COUNT_MEM).",
            "Network\tnon-blocking two-tier leaf-spine: leaves = NICs / (ports / 2), spines = "
            "leaf uplinks / ports; at most ports²/2 endpoints.",
            "Racks and power\tservers per rack = min(rack kW / server kW, rack U / server U); "
            "facility power = IT power x PUE.",
            "Quotes\tlanded = price x (1 + support + freight); per effective PFLOP/s = landed "
            "per GPU / (TFLOPS x MFU / 1000).",
        ]),
        ("Catalogs", [
            f"GPUs sheet: {len(gpus)} accelerators with specs, sources, dates and two editable "
            f"EXAMPLE price columns. Models sheet: {len(models)} models. Example prices sheet: "
            "every example price with its date, source and confidence.",
            "EXAMPLE prices and quote values are orientation only, never quotes.",
        ]),
    ]


def build_procurement_planner(*, gpus: Mapping[str, GpuSpec] | None = None,
                              models: Mapping[str, ModelSpec] | None = None,
                              prices: Sequence[GpuPrice] | None = None,
                              built: _dt.date | None = None,
                              extra_sheets: Sequence[SheetBuilder] = ()) -> Workbook:
    """The procurement planner workbook (openpyxl ``Workbook``, not yet saved).

    Parameters are those of :func:`templates.budget.build_budget_planner`; the order date
    defaults to the first day of the month after ``built``.
    """
    gpus = gpu_catalog() if gpus is None else gpus
    models = model_catalog() if models is None else models
    prices = gpu_prices() if prices is None else prices
    built = built or _dt.date.today()
    wb = Workbook()
    register_styles(wb)
    write_guide(wb, "LLM training procurement planner", _guide_blocks(gpus, models), built)
    req = _requirement_sheet(wb)
    names: dict[str, str] = {**req.inputs, **req.results}
    names.update(_quotes_sheet(wb))
    names.update(_schedule_sheet(wb, first_of_next_month(built)))
    catalog_sheets = [write_gpu_sheet(wb, gpus, prices), write_model_sheet(wb, models),
                      write_price_sheet(wb, prices),
                      write_lists_sheet(wb, models, {"QuoteChoices": QUOTE_CHOICES,
                                                     "PrecisionChoices": PRECISIONS})]
    return finish_planner(wb, names, catalog_sheets, extra_sheets, built)
