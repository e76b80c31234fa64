"""The performance benchmark: a district's year on PostgreSQL, each figure against a baseline.

Entry point ``python -m bench [--quick] [--scale N]`` (``make bench``, ``make bench-quick``);
results go to ``bench/RESULTS.md``; docs/benchmark.md says what they mean for a district.
"""
