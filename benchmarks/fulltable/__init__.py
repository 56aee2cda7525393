"""Helpers of benchmarks/full_table.py: the synthetic table, and the speaker launcher."""
