"""Decoding parameters: the token probabilities after temperature, top-k and top-p.

References
----------
.. [S004] Seed article 004 (digest §7): temperature divides the logits before softmax;
   top-k keeps the K most likely tokens; top-p keeps the smallest set whose cumulative
   probability reaches P; the kept set is renormalised and sampled. Worked setting:
   temperature 0.8, top-k 36, top-p 0.7, applied in that order.
.. [H19] Holtzman et al. 2019, "The Curious Case of Neural Text Degeneration",
   arXiv 1904.09751, §3.1 eq. (2)-(3): nucleus (top-p) sampling keeps the smallest
   top set with cumulative probability >= p and rescales it.
.. [HF] Hugging Face transformers, ``TemperatureLogitsWarper``, ``TopKLogitsWarper`` and
   ``TopPLogitsWarper``: the same order; tokens tied with the k-th logit are kept.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from .errors import InvalidInputError

__all__ = ["sample_probs"]


def sample_probs(logits, temperature=1, top_k=0, top_p=1):
    """Probability of each token after temperature, top-k, then top-p, renormalised.

    Parameters
    ----------
    logits : array_like
        One logit per token (a 1-D list or array, at least one value).
    temperature : float, optional
        Divides the logits before the softmax; 1 (default) leaves them, below 1 sharpens,
        above 1 flattens. 0 means greedy decoding: probability 1 for the largest logit
        (the first one on a tie).
    top_k : int, optional
        Keep the k most likely tokens (and any tied with the k-th); 0 (default) keeps all.
    top_p : float, optional
        Then keep the smallest most-likely set whose probability reaches top_p; 1 (default)
        keeps all.

    Returns
    -------
    ndarray
        Probabilities in the order of ``logits``; removed tokens get 0; they sum to 1.

    Notes
    -----
    ``p = softmax(logits / temperature)``; top-k zeroes tokens whose logit is below the
    k-th largest; the rest is renormalised; top-p sorts it in decreasing order and keeps
    token i while the probability of the tokens before it is below top_p (so the token
    that reaches top_p is kept); the kept set is renormalised [S004]_ [H19]_ [HF]_.

    Examples
    --------
    The transformers test case for top-p 0.7: probabilities 0.15, 0.3, 0.3, 0.25 keep
    the three largest (0.3 + 0.3 < 0.7 <= 0.3 + 0.3 + 0.25), renormalised by 0.85:

    >>> [round(float(p), 4) for p in sample_probs(np.log([0.15, 0.3, 0.3, 0.25]), 1, 0, 0.7)]
    [0.0, 0.3529, 0.3529, 0.2941]
    >>> [round(float(p), 4) for p in sample_probs([2.0, 1.0, 0.0], 0.5)]
    [0.8668, 0.1173, 0.0159]
    """
    z = v.num("logits", logits).ravel()
    if z.size == 0:
        raise InvalidInputError("logits is empty: expected a range of numbers", arg="logits")
    t = v.non_negative("temperature", temperature)
    k = v.whole("top_k", top_k, 0)
    p_cut = v.fraction("top_p", top_p)
    if np.ndim(t) or np.ndim(k) or np.ndim(p_cut):
        raise InvalidInputError("temperature, top_k and top_p must be single values",
                                arg="temperature")
    t, k, p_cut = float(t), int(k), float(p_cut)
    if t == 0:
        probs = np.zeros_like(z)
        probs[int(np.argmax(z))] = 1.0
        return probs
    scaled = z / t
    if not np.all(np.isfinite(scaled)):
        raise InvalidInputError("temperature is too small for these logits: use at least "
                                "1E-3, or 0 for greedy decoding", arg="temperature",
                                code="#NUM!")
    e = np.exp(scaled - scaled.max())
    probs = e / e.sum()
    if 0 < k < z.size:
        kth = np.sort(scaled)[::-1][k - 1]
        probs = np.where(scaled >= kth, probs, 0.0)
        probs = probs / probs.sum()
    if p_cut < 1:
        order = np.argsort(-probs, kind="stable")
        sorted_p = probs[order]
        before = np.cumsum(sorted_p) - sorted_p
        keep_sorted = before < p_cut * (1 - 1e-12)
        keep = np.zeros(z.size, dtype=bool)
        keep[order] = keep_sorted
        probs = np.where(keep, probs, 0.0)
        probs = probs / probs.sum()
    return probs
