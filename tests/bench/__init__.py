"""Smoke tests of the benchmark harness (bench/): it runs, and its checks can fail."""
