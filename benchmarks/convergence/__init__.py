"""Convergence benchmark (issue 7), in the style of bgperf: N BIRD peers each announce M
distinct prefixes to the route server, and the time is measured until a BIRD monitoring peer
holds all N x M routes; ixrs and the arouteserver-built BIRD route server, same machine,
same configuration files. Run ``.venv/bin/python -m benchmarks.convergence --help``.
"""
