"""The worker's path in one process, no Kafka: encoded routes events -> PartitionProcessor ->
encoded outputs, with a digest of every output.

    .venv/bin/python benchmarks/partition.py [--shape table|churn] [--updates 200000]
                                             [--root TREE] [--profile OUT.prof] [--skip]

The worker benchmark's streams (tests/processors/pipeline.py: ``table``, three clients each
announcing a full table; ``churn``, announcements and withdrawals), eight partitions, one
event per 1,000 prefixes of a socket read. Headers are deterministic (a fixed producer id,
a counting clock), so the printed ``sha`` of every encoded Verdict and Decision can be
compared between two source trees (``--root``): a change that is only faster keeps it.
(The pass's Decisions events of 1d9a44c changed it, and took a fifth off the µs per update.)
CPU is the loop's alone; ``--skip`` builds everything and skips the loop, so that a
callgrind run with it, subtracted from one without, gives the loop's instructions:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python \\
        benchmarks/partition.py --updates 20000 [--skip]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PARTITIONS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=("table", "churn"), default="table")
    parser.add_argument("--updates", type=int, default=200_000)
    parser.add_argument("--root", type=Path, default=ROOT, help="source tree to run")
    parser.add_argument("--profile", help="write a cProfile of the loop here")
    parser.add_argument("--skip", action="store_true", help="build everything, run nothing")
    args = parser.parse_args()
    sys.path[:0] = [str(args.root.resolve())]

    import ixrs.heap
    from ixrs import topics
    from ixrs.config import load_config
    from ixrs.eventlog import SingleObjectFraming, Stamper
    from processors.export import ExportPolicy
    from processors.partition import PartitionProcessor, Policies, SharedCaches
    from processors.validate import ImportPolicy
    from schemas.events import Position
    from tests.processors.pipeline import CLIENTS, GENERAL, as_reads, route_stream, table_stream

    framing = SingleObjectFraming()
    make = table_stream if args.shape == "table" else route_stream
    encoded = [(partition, framing.encode("x", event))
               for partition, event in as_reads(make(args.updates, PARTITIONS, 0, 10), 1000)]
    config = load_config(str(GENERAL), str(CLIENTS))
    policies = Policies(ImportPolicy(config), ExportPolicy.from_config(config))
    clock = iter(range(10**12))
    stamper = Stamper("worker", config.version, clock=lambda: next(clock))
    stamper.producer_id = "worker-fixed"
    caches = SharedCaches()

    def no_data(*_args: Any) -> Any:
        raise AssertionError("no data sets in this stream")

    procs = {n: PartitionProcessor(n, policies.imports, no_data, stamper, policies.exports,
                                   lambda _v: policies, caches=caches)
             for n in range(PARTITIONS)}
    offsets = dict.fromkeys(range(PARTITIONS), 0)
    digest = hashlib.sha256()
    counts = {"verdicts": 0, "decisions": 0}
    ixrs.heap.tune_for_growing_state()  # the worker's collector settings
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    started = time.process_time()
    for partition, value in ([] if args.skip else encoded):
        offset = offsets[partition]
        offsets[partition] = offset + 1
        event = framing.decode(value)
        for out in procs[partition].handle(Position("ixrs.routes", partition, offset), event):
            data = framing.encode(out.topic.name("ixrs."), out.event)
            digest.update(out.topic.suffix.encode() + b"\0" + out.key.encode() + b"\0"
                          + len(data).to_bytes(4, "big") + data)
            if out.topic is topics.VERDICTS:
                counts["verdicts"] += 1
            else:  # a pass's Decisions (one Decision each in trees before it): prefixes
                groups = getattr(out.event, "groups", None)
                counts["decisions"] += 1 if groups is None else sum(
                    len(g.prefixes) for g in groups)
    cpu = time.process_time() - started
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.profile)
    gc.unfreeze()
    print(f"{args.shape}: {cpu:.2f} s of CPU, {cpu / args.updates * 1e6:.2f} µs per update, "
          f"{counts['verdicts']:,} verdicts, {counts['decisions']:,} decisions, "
          f"sha {digest.hexdigest()[:16]}", flush=True)


if __name__ == "__main__":
    main()
