"""How long the routes events of full tables take to decode, the first time and again.

    .venv/bin/python benchmarks/routes_decode.py [--updates 1000000] [--root DIR]

The replay benchmark's log (benchmarks/replay.py: three clients each announce every prefix
once, about 71,000 attribute sets, one event per 1,000 prefixes of a socket read and
partition), encoded as the speaker writes it and decoded in this process, twice: the first
pass meets every attribute set for the first time (it builds each one once, then finds it
among the interned ones), the second finds them all interned. CPU seconds of each pass.
``--root`` decodes with another source tree's codec, for a before/after on the same input
(the input is always built with this tree's test pipeline).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1_000_000)
    parser.add_argument("--root", type=Path, default=ROOT, help="source tree to decode with")
    args = parser.parse_args()
    sys.path[:0] = [str(args.root.resolve()), str(ROOT)]
    from ixrs.eventlog import SingleObjectFraming
    from tests.processors.pipeline import as_reads, table_stream

    framing = SingleObjectFraming()
    values = [framing.encode("bench.routes", event)
              for _partition, event in as_reads(table_stream(args.updates, 8, 0, 10), 1000)]
    gc.collect()
    gc.freeze()
    gc.disable()  # as replay runs (ixrs.heap.collect_nothing)
    decode = framing.decode
    for label in ("first pass", "second pass"):
        started = time.process_time()
        for value in values:
            decode(value)
        cpu = time.process_time() - started
        print(f"{label}: {len(values):,} events, {args.updates:,} prefix updates: "
              f"{cpu:.2f} s of CPU, {cpu / args.updates * 1e6:.2f} µs per prefix update")


if __name__ == "__main__":
    main()
