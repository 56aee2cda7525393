"""Helpers of benchmarks/full_table.py: the synthetic table and BIRD config (table.py), the
speaker launcher with timing hooks (launch_speaker.py), profile summaries (profiles.py), and
what-if patches of the running speaker (whatif/)."""
