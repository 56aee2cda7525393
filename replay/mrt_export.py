"""Writing an MRT export to a file: ``ixrs mrt rib`` and ``ixrs mrt updates`` end here.

The file appears whole or not at all: records go to a temporary file beside it, renamed
over FILE at the end, so that a failed export never leaves a truncated dump where a
reader would take it for a complete one. A name ending in ``.gz`` or ``.bz2`` is
compressed so (bgpdump, bgpkit and mrtparse read both); ``-`` is standard output.
"""

from __future__ import annotations

import bz2
import gzip
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO


def _open(path: Path, suffix: str) -> BinaryIO:
    """``path`` opened for writing, compressed as a file named with ``suffix`` is."""
    if suffix == ".gz":
        return gzip.open(path, "wb")  # type: ignore[return-value]
    if suffix == ".bz2":
        return bz2.open(path, "wb")  # type: ignore[return-value]
    return path.open("wb")


def write_records(target: str, records: Iterable[bytes]) -> int:
    """Write every record; the number of records written."""
    count = 0
    if target == "-":
        out = sys.stdout.buffer
        for data in records:
            out.write(data)
            count += 1
        out.flush()
        return count
    path = Path(target)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with _open(temporary, path.suffix) as out:
            for data in records:
                out.write(data)
                count += 1
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return count
