"""Hypothesis strategies for plausible planning inputs (raw counts, fractions, TFLOPS)."""

from hypothesis import strategies as st

params = st.floats(min_value=1e8, max_value=2e12)
tokens = st.floats(min_value=1e9, max_value=2e13)
gpus = st.integers(min_value=1, max_value=100_000)
tflops = st.floats(min_value=10, max_value=5000)
mfu = st.floats(min_value=0.05, max_value=1.0)
days = st.floats(min_value=0.5, max_value=365)  # bounds.csv: deadline_days
gpu_memory = st.floats(min_value=8, max_value=300)
flops_per_token = st.sampled_from([6, 8])
