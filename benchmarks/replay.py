"""Replay throughput and the time to explain one prefix, through the real command line.

    .venv/bin/python benchmarks/replay.py [--updates 1000000] [--runs 3] [--explain 5]

The routes topic of the embedded broker is filled with full tables (the worker benchmark's
`table` shape: three clients each announce every prefix once, UPDATEs packing the prefixes
of one attribute set, one event per 1,000 prefixes of a socket read), and the configuration
is published as `ixrs run` publishes it. No worker runs: replay recomputes from the routes.

- **Replay**: `ixrs replay --at now --what decisions` to /dev/null; prefixes per second is
  prefix updates in the log over the command's wall time (Python start-up, reading the
  configuration and the partitions, every verdict and decision, and the output included).
  Once more with every kind of record (adj-in, decisions, adj-out), which adds the JSON of
  every route.
- **Explain**: `ixrs explain --at now --client AS20003 --prefix P --json`, for prefixes
  drawn at random from the log, each command timed whole.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from ixrs.embedded import EmbeddedBroker  # noqa: E402
from tests.processors.pipeline import (  # noqa: E402
    as_reads,
    example_topics,
    produce,
    table_stream,
)

PARTITIONS = 8
PREFIX = "bench."


def ixrs(bootstrap: str, *args: str) -> float:
    """Wall seconds of one command, output discarded; fails loudly."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ixrs", *args, "--bootstrap", bootstrap,
                           "--topic-prefix", PREFIX], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"ixrs {' '.join(args)}: {done.stderr[-2000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--explain", type=int, default=5, help="prefixes explained")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with EmbeddedBroker() as broker:
        example_topics(broker.bootstrap, PREFIX, PARTITIONS)
        stream = table_stream(args.updates, PARTITIONS, args.seed, 10)
        prefixes = sorted({p for _partition, event in stream for p in event.announced})
        produce(broker.bootstrap, PREFIX, as_reads(stream, 1000))
        del stream
        print(f"log: {args.updates:,} prefix updates ({len(prefixes):,} prefixes, 3 clients), "
              f"{PARTITIONS} partitions")

        walls = [ixrs(broker.bootstrap, "replay", "--at", "now", "--what", "decisions")
                 for _ in range(args.runs)]
        median = statistics.median(walls)
        print(f"replay --what decisions: {args.updates / median:,.0f} prefixes/s "
              f"(median {median:.2f} s of {', '.join(f'{w:.2f}' for w in walls)})")
        full = ixrs(broker.bootstrap, "replay", "--at", "now")
        print(f"replay, every record: {args.updates / full:,.0f} prefixes/s ({full:.2f} s)")

        rng = random.Random(args.seed)
        times = []
        for prefix in rng.sample(prefixes, args.explain):
            times.append(ixrs(broker.bootstrap, "explain", "--at", "now", "--client",
                              "AS20003", "--prefix", prefix, "--json"))
        print(f"explain one prefix: median {statistics.median(times):.2f} s, "
              f"max {max(times):.2f} s ({', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
