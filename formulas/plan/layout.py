"""Layout text of the training functions: ``"tp8 pp16 dp64"`` in, the same text out.

A layout names the parallel degrees and the knobs of one training run:

========  ==============================================================  ==========
token     meaning                                                         left out
========  ==============================================================  ==========
``tpN``   tensor-parallel degree (GPUs splitting each layer's matmuls)     1
``ppN``   pipeline stages                                                  1
``cpN``   context-parallel degree (GPUs splitting each sequence)           1
``dpN``   data-parallel degree (replicas); GPUs = tp x pp x cp x dp        required
``epN``   expert-parallel degree (MoE); divides dp x cp, as Megatron-Core  1
``vpN``   model chunks per GPU of the interleaved 1F1B schedule            chosen
``mbN``   micro-batch (sequences per pipeline slot)                        chosen
``zero0``-``zero3``  ZeRO stage (1 = Megatron's distributed optimizer)     chosen
``none`` / ``selective`` / ``full``  activation recomputation              chosen
========  ==============================================================  ==========

Tokens are case-insensitive and separated by spaces or commas. Knobs marked *chosen* are
picked by the step model to minimise the step within GPU memory when the text leaves
them out; :func:`format_layout` spells every knob, so its text parses back to the same
layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InvalidInputError

__all__ = ["Layout", "parse_layout", "format_layout", "RECOMPUTE_NAMES"]

RECOMPUTE_NAMES = ("none", "selective", "full")
_DEGREES = ("tp", "pp", "cp", "dp", "ep", "vp", "mb")
_TOKEN = re.compile(r"^(tp|pp|cp|dp|ep|vp|mb)(\d+)$|^zero([0-3])$|^(none|selective|full)$")
_MAX_DEGREE = 1_000_000


@dataclass(frozen=True)
class Layout:
    """One parsed layout; ``None`` marks a knob the text left out (to be chosen)."""

    tp: int = 1
    pp: int = 1
    cp: int = 1
    dp: int = 1
    ep: int = 1
    vp: int | None = None
    mb: int | None = None
    zero: int | None = None
    recompute: str | None = None

    @property
    def num_gpus(self) -> int:
        """GPUs of the layout: ``tp * pp * cp * dp``."""
        return self.tp * self.pp * self.cp * self.dp


def parse_layout(text) -> Layout:
    """Parse layout text such as ``"TP4 PP8 DP32 CP2 EP8 VP8 MB1"``.

    >>> parse_layout("tp8, pp16 dp64")
    Layout(tp=8, pp=16, cp=1, dp=64, ep=1, vp=None, mb=None, zero=None, recompute=None)
    >>> parse_layout("TP4 PP8 DP32 CP2 EP8 VP8 MB1 zero1 Selective").recompute
    'selective'
    >>> parse_layout("tp8 pp16")
    Traceback (most recent call last):
    ...
    formulas.errors.InvalidInputError: layout 'tp8 pp16' has no dp: add e.g. dp1 (GPUs = tp x pp x cp x dp)
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("layout must be text such as \"tp8 pp16 dp64\"", arg="layout",
                                value=text)
    found: dict[str, object] = {}
    for raw in re.split(r"[\s,;]+", text.strip()):
        if not raw:
            continue
        tok = raw.lower()
        m = _TOKEN.match(tok)
        if not m:
            raise InvalidInputError(
                f"layout token '{raw}' is not understood: use tpN ppN cpN dpN epN vpN mbN, "
                "zero0-zero3, none/selective/full", arg="layout", value=text)
        if m.group(1):
            key, val = m.group(1), int(m.group(2))
            if not 1 <= val <= _MAX_DEGREE:
                raise InvalidInputError(f"layout token '{raw}' must be between 1 and "
                                        f"{_MAX_DEGREE:,}", arg="layout", value=text,
                                        code="#NUM!")
        elif m.group(3):
            key, val = "zero", int(m.group(3))
        else:
            key, val = "recompute", m.group(4)
        if key in found:
            raise InvalidInputError(f"layout gives {key} twice: keep one", arg="layout",
                                    value=text)
        found[key] = val
    if "dp" not in found:
        raise InvalidInputError(f"layout '{text}' has no dp: add e.g. dp1 (GPUs = tp x pp x cp "
                                "x dp)", arg="layout", value=text)
    lay = Layout(**found)
    if (lay.dp * lay.cp) % lay.ep:
        raise InvalidInputError(f"ep{lay.ep} must divide dp x cp = {lay.dp * lay.cp} (experts "
                                "are spread over the data- and context-parallel ranks, as in "
                                "Megatron-Core): change ep or dp", arg="layout", value=text,
                                code="#NUM!")
    return lay


def format_layout(tp, pp, cp, dp, ep, vp, mb, zero, recompute) -> str:
    """Layout text spelling every knob, in the order ``tp pp cp dp ep vp mb zero recompute``.

    >>> format_layout(8, 16, 1, 128, 1, 2, 1, 1, "none")
    'tp8 pp16 cp1 dp128 ep1 vp2 mb1 zero1 none'
    >>> parse_layout(format_layout(4, 8, 2, 32, 8, 8, 1, 1, "full")).num_gpus
    2048
    """
    if not isinstance(recompute, str):
        recompute = RECOMPUTE_NAMES[int(recompute)]
    return (f"tp{int(tp)} pp{int(pp)} cp{int(cp)} dp{int(dp)} ep{int(ep)} vp{int(vp)} "
            f"mb{int(mb)} zero{int(zero)} {recompute}")
