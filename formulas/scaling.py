"""Data scaling: compute-optimal training tokens.

References
----------
.. [H22] Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models"
   (Chinchilla), arXiv 2203.15556, Table 3: ~20 tokens per parameter (1B -> 20.2B tokens).
.. [S000] Seed articles 000/003 (digest §6): 20 tokens per parameter; GPT-3 used 1-2.
"""

from __future__ import annotations

from . import _validate as v

__all__ = ["chinchilla_tokens"]


def chinchilla_tokens(P, tokens_per_param=20):
    """Compute-optimal training tokens: ``tokens_per_param * P``.

    Parameters
    ----------
    P : float or array_like
        Parameters (raw count).
    tokens_per_param : float, optional
        20 by default [H22]_ [S000]_; Table 3 of [H22]_ gives 20.2 at 1B.

    Returns
    -------
    float or ndarray
        Training tokens (raw count).

    Examples
    --------
    >>> chinchilla_tokens(1e9, 20.2)
    20200000000.0
    """
    P = v.params("P", P, use="active")
    k = v.positive("tokens_per_param", tokens_per_param)
    return v.out(k * P)
