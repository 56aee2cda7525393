"""Archive and re-seed throughput, and replay from the archive, on a synthetic log.

    .venv/bin/python benchmarks/archive.py [--updates 1000000] [--runs 3]

The routes topic of an embedded broker is filled as for the replay benchmark
(benchmarks/replay.py: full tables of three clients, one event per 1,000 prefixes of a
socket read) and the configuration published as `ixrs run` publishes it.

- **Archive**: `ixrs archive --out DIR` into an empty directory, the command timed whole
  (Python start-up and reading the partition counts included); prefixes per second is
  prefix updates in the log over that wall time.
- **Re-seed**: what `ixrs run` does with that archive on a new embedded broker
  (`ixrs.durable.reseed`: every record produced back at its offset, acknowledged), timed
  in-process.
- **Replay from the archive**: `ixrs replay --at now --what decisions --archive DIR`,
  against the same command on the broker.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from ixrs import admin, prepare  # noqa: E402
from ixrs.config import load_config  # noqa: E402
from ixrs.config.deploy import Deploy  # noqa: E402
from ixrs.durable import reseed  # noqa: E402
from ixrs.embedded import EmbeddedBroker  # noqa: E402
from tests.processors.pipeline import CLIENTS, GENERAL, as_reads, produce, table_stream  # noqa: E402

PARTITIONS = 8
PREFIX = "bench."


def ixrs(*args: str) -> tuple[float, float]:
    """Wall seconds of one command and the CPU seconds of its processes (what a loaded
    machine does not inflate), output discarded; fails loudly."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ixrs", *args, "--topic-prefix", PREFIX],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"ixrs {' '.join(args)}: {done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def size_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*.avro")) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    deploy = Deploy(topic_prefix=PREFIX, partitions=PARTITIONS)
    work = Path(tempfile.mkdtemp(prefix="ixrs-archive-bench-"))
    try:
        with EmbeddedBroker() as broker:
            admin.ensure_topics(broker.bootstrap, PREFIX, PARTITIONS)
            prepare.prepare_log(broker.bootstrap, deploy, work / "state")
            prepare.publish_config(broker.bootstrap, deploy,
                                   load_config(str(GENERAL), str(CLIENTS)),
                                   [str(GENERAL), str(CLIENTS)])
            events = as_reads(table_stream(args.updates, PARTITIONS, args.seed, 10), 1000)
            produce(broker.bootstrap, PREFIX, events)
            print(f"log: {args.updates:,} prefix updates in {len(events):,} routes events, "
                  f"{PARTITIONS} partitions")
            del events

            runs = []
            for run in range(args.runs):
                out = work / f"archive-{run}"
                runs.append(ixrs("archive", "--out", str(out), "--bootstrap", broker.bootstrap))
            median = statistics.median(w for w, _cpu in runs)
            cpu = statistics.median(c for _w, c in runs)
            print(f"archive: {args.updates / median:,.0f} prefixes/s (median {median:.2f} s of "
                  f"{', '.join(f'{w:.2f}' for w, _c in runs)}; {cpu:.2f} CPU s), "
                  f"{size_mb(out):.1f} MB of files")

            kafka = ixrs("replay", "--at", "now", "--what", "decisions",
                         "--bootstrap", broker.bootstrap)
            archived = ixrs("replay", "--at", "now", "--what", "decisions", "--archive",
                            str(out))
        for name, (wall, cpu) in (("Kafka", kafka), ("the archive", archived)):
            print(f"replay --what decisions from {name}: {args.updates / wall:,.0f} prefixes/s "
                  f"({wall:.2f} s, {cpu:.2f} CPU s)")

        walls = []
        for _run in range(args.runs):
            with EmbeddedBroker() as fresh:
                started = time.monotonic()
                records = reseed(fresh.bootstrap, deploy, out)
                walls.append(time.monotonic() - started)
        median = statistics.median(walls)
        print(f"re-seed: {args.updates / median:,.0f} prefixes/s, {records / median:,.0f} "
              f"records/s (median {median:.2f} s of {', '.join(f'{w:.2f}' for w in walls)})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
