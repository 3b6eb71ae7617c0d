"""Benchmarks of dbtasks against the tools it wraps: `inv bench` or `python -m bench`.

See docs/benchmarks.md for what each comparison measures and checks.
"""
