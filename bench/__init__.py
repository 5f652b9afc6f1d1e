"""Benchmarks: `python -m bench.gateway_reads`, `python -m bench.import_compounds` (print figures, assert nothing)."""
