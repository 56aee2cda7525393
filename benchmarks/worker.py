"""One worker end to end through Kafka: route updates in the routes topic to verdicts and
decisions flushed, and the state saved in RocksDB.

    .venv/bin/python benchmarks/worker.py [--shape churn|table] [--updates 200000]
                                          [--per-event 10] [--per-read 1000] [--runs 3]

One unit is one prefix from one peer. The routes topic is filled first, then one
`ixrs worker` process is started on the
embedded broker. The clock runs from its `worker: partitions` line (the consumer group has
given it the partitions; joining takes a few seconds on this broker and is not counted)
until the decisions topic holds as many records as an uninterrupted run (computed
in-process beforehand) makes, counted without decoding them; the records are then decoded
and checked against that run, off the clock. The worker processes a backlog,
which is what a restart or a full table is.

Two shapes of input (`tests/processors/pipeline.py`):

- `table`: three clients each announce a full table of the same prefixes, each UPDATE
  packing prefixes that share an attribute set; a prefix's paths depend on its origin AS
  (about 14 prefixes per origin). Prefixes of one origin share their candidates, as in real
  tables, and are decided once (the worker memoises decisions by candidate set).
- `churn`: the same three clients announcing random prefixes from pools of 200 attribute
  sets each, 15 % withdrawals: almost every prefix has candidates of its own, and most
  updates change the best path. A worst case for the memo.

Printed per run: updates per second (wall), the worker's CPU seconds and peak RSS, and the
broker's CPU seconds over the same interval. On 2 cores the broker and the worker share the
machine: the broker's CPU is part of the cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from ixrs import admin, prepare, topics  # noqa: E402
from ixrs.config import load_config  # noqa: E402
from ixrs.config.deploy import Deploy  # noqa: E402
from ixrs.embedded import EmbeddedBroker  # noqa: E402
from schemas.decisions import CHUNK  # noqa: E402
from schemas.events import Decision  # noqa: E402
from tests.helpers import wait_for  # noqa: E402
from tests.processors.pipeline import (  # noqa: E402
    CLIENTS,
    GENERAL,
    Tail,
    as_reads,
    produce,
    route_stream,
    start_worker,
    table_stream,
    uninterrupted,
    worker_argv,
)

PARTITIONS = 8


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_once(shape: str, updates: int, per_event: int, per_read: int, seed: int
             ) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp_dir, EmbeddedBroker() as broker:
        tmp = Path(tmp_dir)
        prefix = "bench."
        deploy = Deploy(topic_prefix=prefix, partitions=PARTITIONS)
        admin.ensure_topics(broker.bootstrap, prefix, PARTITIONS)
        config = load_config(str(GENERAL), str(CLIENTS))
        prepare.publish_config(broker.bootstrap, deploy, config, [str(GENERAL), str(CLIENTS)])
        stream = (table_stream if shape == "table" else route_stream)(
            updates, PARTITIONS, seed, per_event)
        produce(broker.bootstrap, prefix, as_reads(stream, per_read) if per_read else stream)
        expected = {i for i, e in uninterrupted(broker.bootstrap, prefix, PARTITIONS).items()
                    if isinstance(e, Decision)}
        # One Decisions record per input event that decided prefixes, one more per CHUNK
        # (each input event here is one decision pass; no record is near the size limit).
        per_input = Counter(i.split("/", 1)[0] for i in expected)  # <input id>/<prefix>
        records = sum(-(-n // CHUNK) for n in per_input.values())
        decisions = Tail(broker.bootstrap, topics.DECISIONS.name(prefix), PARTITIONS)
        counter = Tail(broker.bootstrap, topics.DECISIONS.name(prefix), PARTITIONS)
        worker = start_worker(worker_argv(broker.bootstrap, prefix, tmp, PARTITIONS,
                                          tmp / "state"), tmp)
        try:
            wait_for(lambda: "worker: partitions" in worker.text(), 120, "the partitions")
            started, broker_cpu = time.monotonic(), _cpu_seconds(broker.pid)
            worker_cpu = _cpu_seconds(worker.proc.pid)
            # The clock stops when the decisions topic holds as many records as the
            # uninterrupted run made (no crash here, so no duplicates): counted, not
            # decoded, so that decoding them in this process, on the same 2 cores, is not
            # counted. Their content is checked after, by a second reader.
            wait_for(lambda: counter.count() >= records, 1800, "every decision")
            wall = time.monotonic() - started
            cpu = _cpu_seconds(worker.proc.pid) - worker_cpu
            broker_used = _cpu_seconds(broker.pid) - broker_cpu
            seen = {e.event_id for _p, _o, e in decisions.poll() if isinstance(e, Decision)}
            wait_for(lambda: seen.update(e.event_id for _p, _o, e in decisions.poll()
                                         if isinstance(e, Decision)) or seen >= expected,
                     300, "the decisions of the uninterrupted run")
            return {
                "rate": updates / wall,
                "wall": wall,
                "worker_cpu": cpu,
                "worker_rss": _peak_rss_mb(worker.proc.pid),
                "broker_cpu": broker_used,
                "decisions": len(expected),
            }
        finally:
            worker.stop()
            decisions.close()
            counter.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=("table", "churn"), default="table")
    parser.add_argument("--updates", type=int, default=200_000)
    parser.add_argument("--per-event", type=int, default=10)
    parser.add_argument("--per-read", type=int, default=1000,
                        help="prefixes per socket read of a session, as the speaker batches "
                             "them (0: one event per UPDATE, as before issue 5's batching)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.shape}: {args.updates} prefix updates, up to {args.per_event} per UPDATE, "
          f"{args.per_read or 'one UPDATE'} per read, {PARTITIONS} partitions")
    print(f"{'run':>3} {'updates/s':>10} {'wall s':>7} {'worker cpu s':>12} "
          f"{'worker MB':>9} {'broker cpu s':>12} {'decisions':>9}")
    rates = []
    for run in range(args.runs):
        r = run_once(args.shape, args.updates, args.per_event, args.per_read, seed=run)
        rates.append(r["rate"])
        print(f"{run + 1:>3} {r['rate']:>10,.0f} {r['wall']:>7.1f} {r['worker_cpu']:>12.1f} "
              f"{r['worker_rss']:>9.0f} {r['broker_cpu']:>12.1f} {r['decisions']:>9,}",
              flush=True)
    print(f"median {statistics.median(rates):,.0f} updates/s")


if __name__ == "__main__":
    main()
