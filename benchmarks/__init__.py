"""Benchmarks of BENCHMARKS.md: neuralcodes against its peers, measured side by side.

Never imported by the library or the default test suite. ``python benchmarks/run_all.py`` (or
``make bench``) runs them all; each ``bench_*.py`` can also run alone (``python -m benchmarks.X``).
"""
