"""Benchmarks of the worker path: `ponto bench worker` (throughput) and `ponto bench coldstart`.

Each benchmark measures the approaches it compares side by side, in one run on one machine, and
reports ratios: absolute rates depend on the machine, ratios much less.
"""
