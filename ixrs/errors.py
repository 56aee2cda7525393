"""Exit codes and the errors that map onto them (../shared/CLI.md)."""

from __future__ import annotations

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage that argparse itself cannot see (e.g. no bootstrap servers)."""
