"""Decoding parameters: SAMPLE_PROBS against the transformers warpers' test cases, the
article's order (temperature 0.8, top-k 36, top-p 0.7) and properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llm_budget_planner.addin.udfs as x
from llm_budget_planner import formulas as core

SETTINGS = settings(max_examples=150, deadline=None)


def col(values):
    return [[float(v)] for v in values]


def flat(result):
    return [c for row in result for c in row]


# ----------------------------------------------- transformers test_logits_process.py cases

@pytest.mark.parametrize("top_p", [0.7, 0.8])
def test_top_p_cases_of_transformers(top_p):
    """test_top_p_dist_warper: log of [0.3, 0.1, 0.1, 0.5] keeps 0.3 and 0.5, log of
    [0.15, 0.3, 0.3, 0.25] keeps 0.3, 0.3 and 0.25 ("min num values so that sum is >= top_p"),
    for top_p 0.7 and for the edge case 0.8 (= 0.3 + 0.5 exactly)."""
    for dist, kept in (([0.3, 0.1, 0.1, 0.5], [0.3, 0, 0, 0.5]),
                       ([0.15, 0.3, 0.3, 0.25], [0, 0.3, 0.3, 0.25])):
        got = flat(x.SAMPLE_PROBS(col(np.log(dist)), 1, 0, top_p))
        assert got == pytest.approx(np.array(kept) / sum(kept), abs=1e-12)


def test_top_k_case_of_transformers():
    """test_top_k_dist_warper: ramp logits arange(10) - 5 with top_k 3 keep the last three."""
    logits = np.arange(10) - 5
    got = flat(x.SAMPLE_PROBS(col(logits), 1, 3))
    assert [p > 0 for p in got] == 7 * [False] + 3 * [True]
    e = np.exp([2.0, 3.0, 4.0])
    assert got[7:] == pytest.approx(e / e.sum())


def test_temperature_case_of_transformers():
    """test_temperature_dist_warper: a uniform distribution stays uniform; temperature 0.5
    sharpens (larger max), 1.3 smooths (smaller max)."""
    n = 20
    uniform = [1 / n] * n
    assert flat(x.SAMPLE_PROBS(col(uniform), 0.5)) == pytest.approx([1 / n] * n)
    scores = [1 / n] * n
    scores[5] += 0.1
    scores[10] -= 0.4
    base = max(flat(x.SAMPLE_PROBS(col(scores))))
    assert max(flat(x.SAMPLE_PROBS(col(scores), 0.5))) > base
    assert max(flat(x.SAMPLE_PROBS(col(scores), 1.3))) < base


# --------------------------------------------------------------- the article's setting

def reference(logits, t, k, p):
    """The article's steps written out one by one, with loops (seed 004 §7)."""
    z = [v / t for v in logits]
    m = max(z)
    probs = [math.exp(v - m) for v in z]
    total = sum(probs)
    probs = [q / total for q in probs]
    order = sorted(range(len(z)), key=lambda i: -z[i])
    keep = set(order[:k])  # top-k (distinct logits here)
    total = sum(probs[i] for i in keep)
    probs = [probs[i] / total if i in keep else 0.0 for i in range(len(z))]
    cum, kept = 0.0, set()
    for i in sorted(keep, key=lambda i: -probs[i]):  # top-p on the renormalised top-k set
        kept.add(i)
        cum += probs[i]
        if cum >= p:
            break
    total = sum(probs[i] for i in kept)
    return [probs[i] / total if i in kept else 0.0 for i in range(len(z))]


def test_article_setting_temperature_top_k_then_top_p():
    """Temperature 0.8, top-k 36, top-p 0.7 in that order on 100 tokens with a long tail."""
    logits = [3.0 - 0.05 * i for i in range(100)]
    got = flat(x.SAMPLE_PROBS(col(logits), 0.8, 36, 0.7))
    want = reference(logits, 0.8, 36, 0.7)
    assert got == pytest.approx(want, abs=1e-12)
    kept = sum(p > 0 for p in got)
    assert kept == sum(p > 0 for p in want) == 16
    # Order matters: top-p on the full distribution (before top-k) keeps 20 tokens, and a
    # top-k of 36 after it would cut nothing; top-k first renormalises the 36 survivors, so
    # top-p reaches 0.7 after 16 of them.
    full = flat(x.SAMPLE_PROBS(col(logits), 0.8, 0, 0.7))
    assert sum(p > 0 for p in full) == 20


# ------------------------------------------------------------------------ properties

logit_lists = st.lists(st.floats(-30, 30), min_size=1, max_size=60)


@SETTINGS
@given(logit_lists, st.floats(0.05, 5), st.integers(0, 70), st.floats(0.01, 1))
def test_probabilities_sum_to_one_and_respect_top_k_and_top_p(logits, t, k, p):
    probs = core.sample_probs(logits, t, k, p)
    assert probs.shape == (len(logits),)
    assert np.all(probs >= 0) and probs.sum() == pytest.approx(1, abs=1e-9)
    z = np.array(logits)
    kept = probs > 0
    if 0 < k < len(logits):
        kth = np.sort(z)[::-1][k - 1]
        assert not np.any(kept & (z < kth))  # nothing below the k-th logit survives
        assert kept.sum() <= (z >= kth).sum()
    # The kept set is the smallest top set of the top-k distribution reaching top_p.
    base = core.sample_probs(logits, t, k, 1)
    mass = base[kept].sum()
    assert mass >= p * (1 - 1e-9) or kept.sum() == (base > 0).sum()
    smallest_kept = base[kept].min()
    assert mass - smallest_kept < p * (1 + 1e-9)
    assert np.all(base[~kept] <= smallest_kept * (1 + 1e-12))  # kept tokens are the likeliest


@SETTINGS
@given(logit_lists)
def test_temperature_zero_is_greedy(logits):
    probs = core.sample_probs(logits, 0)
    assert probs.sum() == 1 and probs[int(np.argmax(logits))] == 1


def test_output_mirrors_the_range():
    assert len(x.SAMPLE_PROBS([[1.0], [2.0], [3.0]])) == 3  # column in, column out
    row = x.SAMPLE_PROBS([[1.0, 2.0, 3.0]])
    assert len(row) == 1 and len(row[0]) == 3
    with_blank = x.SAMPLE_PROBS([[1.0], [None], [1.0]])
    assert with_blank == [[0.5], [""], [0.5]]
    block = x.SAMPLE_PROBS([[0.0, 0.0], [0.0, 0.0]])
    assert block == [[0.25, 0.25], [0.25, 0.25]]


@pytest.mark.parametrize("call,start", [
    (lambda: x.SAMPLE_PROBS([[None], [None]]), "#VALUE! logits is empty"),
    (lambda: x.SAMPLE_PROBS([[1.0], ["abc"]]), "#VALUE! logits is text"),
    (lambda: x.SAMPLE_PROBS([[1.0], [2.0]], -1), "#NUM! temperature must be 0 or more"),
    (lambda: x.SAMPLE_PROBS([[1.0], [2.0]], 1, 1.5), "#NUM! top_k must be a whole"),
    (lambda: x.SAMPLE_PROBS([[1.0], [2.0]], 1, 0, 70), "#NUM! top_p is"),
    (lambda: x.SAMPLE_PROBS([[1.0], [2.0]], 5e-324), "#NUM! temperature is too small"),
    (lambda: x.SAMPLE_PROBS([[1.0], [2.0]], [[1], [2]]), "#VALUE! temperature must be a single"),
])
def test_bad_input(call, start):
    out = call()
    assert isinstance(out, str) and out.startswith(start) and "\n" not in out, out
