"""Excel function for decoding parameters: token probabilities after temperature, top-k, top-p.

A thin wrapper over :func:`formulas.sampling.sample_probs`, re-exported by :mod:`addin.udfs`.
The logits arrive as a whole range; the probabilities spill in the same shape (a column
gives a column, a row a row), blank cells staying blank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llm_budget_planner import formulas as core

from ._excel import Arg, _is_blank, udf

__all__ = ["SAMPLE_PROBS"]


@dataclass(frozen=True)
class _Logits:
    values: np.ndarray  #: the numbers, blank cells dropped, in reading order
    rows: list  #: the range as Excel sent it, to give the result the same shape


@dataclass(frozen=True)
class _RangeArg(Arg):
    """A "vector" argument that also remembers the range's shape."""

    def convert(self, name, x):
        if isinstance(x, np.ndarray):
            x = x.tolist()
        # A 1x1 range whose one cell holds a whole array (an array constant read with ndim=2
        # by some runtimes): use the array.
        while (isinstance(x, (list, tuple)) and len(x) == 1 and isinstance(x[0], (list, tuple))
               and len(x[0]) == 1 and isinstance(x[0][0], (list, tuple, np.ndarray))):
            x = x[0][0].tolist() if isinstance(x[0][0], np.ndarray) else x[0][0]
        values = super().convert(name, x)
        if isinstance(x, (list, tuple)):
            rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in x]
        else:
            rows = [[x]]
        return _Logits(values, rows)


def _same_shape(probs: np.ndarray, rows: list) -> list:
    it = iter(probs.tolist())
    return [["" if _is_blank(c) else next(it) for c in row] for row in rows]


@udf("Decoding", "=SAMPLE_PROBS({2;1.5;1;0},0.8,36,0.7) -> 0.651, 0.349, 0, 0 (the "
     "article's setting)", broadcast=False,
     example_args=([[2.0], [1.5], [1.0], [0.0]], 0.8, 36, 0.7),
     logits=_RangeArg("Range of logits, one per token (a column or a row), e.g. A1:A50.",
                      "vector"),
     temperature=Arg("Divisor of the logits before softmax, a ratio: 1 (default); 0.8 "
                     "sharpens; 0 is greedy (probability 1 on the largest)."),
     top_k=Arg("Keep the K most likely tokens (ties with the K-th kept); 0 (default) keeps "
               "all. The article: 36."),
     top_p=Arg("Then keep the smallest most-likely set whose probability share reaches "
               "this fraction; 1 (default) keeps all. The article: 0.7."))
def SAMPLE_PROBS(logits, temperature=1, top_k=0, top_p=1):
    """Probability of each token (spills in the range's shape, sums to 1) after temperature, top-k, then top-p, renormalised."""
    probs = core.sample_probs(logits.values, temperature, top_k, top_p)
    return _same_shape(probs, logits.rows)
