"""MRT export throughput, through the real command line.

    .venv/bin/python benchmarks/mrt.py [--updates 1000000] [--runs 3]

The embedded broker is filled as the speaker fills it, with full tables (the replay
benchmark's `table` shape: three clients each announce every prefix once, UPDATEs packing
the prefixes of one attribute set, socket reads of about 1,000 prefixes):

- routes: the `ReceivedUpdates` of every read (what `mrt rib` rebuilds the Adj-RIB-In from);
- raw-updates: the same UPDATEs as bytes, one `RawUpdates` per read;
- sent: the first client's table sent to the second, one `SentUpdate` per UPDATE;
- sessions: the three sessions established; config: the configuration, as `ixrs run`
  publishes it.

Measured, each command timed whole (Python start-up, reading the log, encoding, writing the
file), median of the runs:

- `ixrs mrt rib --at now`: RIB entries (prefix and client) per second;
- `ixrs mrt rib --at now --client AS20003`: Adj-RIB-Out entries per second;
- `ixrs mrt updates --from -1d --to now`: prefixes (announced or withdrawn, in received and
  sent UPDATEs) per second.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from ixrs import topics  # noqa: E402
from ixrs.embedded import EmbeddedBroker  # noqa: E402
from ixrs.eventlog import EventProducer, SingleObjectFraming, Stamper  # noqa: E402
from schemas.events import (  # noqa: E402
    RawUpdates,
    ReceivedRoutes,
    ReceivedUpdates,
    SentUpdate,
    Session,
    SessionChange,
    SessionState,
)
from speaker.codec import Update, encode  # noqa: E402
from speaker.codec.negotiated import Negotiated  # noqa: E402
from tests.processors.pipeline import (  # noqa: E402
    as_reads,
    example_topics,
    table_stream,
)

PARTITIONS = 8
PREFIX = "bench."
PER_READ = 1000


def fill(bootstrap: str, updates: int) -> tuple[int, int, int]:
    """Fill the log; (RIB entries, entries sent to 192.0.2.3, prefixes in UPDATEs)."""
    stamper = Stamper("speaker-bench")
    producer = EventProducer(bootstrap, SingleObjectFraming())
    stream = table_stream(updates, PARTITIONS, 0, 10)
    sessions: dict[str, Session] = {e.session.peer_address: e.session for _p, e in stream}
    for session in sessions.values():
        producer.produce(topics.SESSIONS.name(PREFIX), SessionChange(
            stamper.header(), session, SessionState.ESTABLISHED, SessionState.OPENCONFIRM,
            "bench", None, "", ("ipv4-unicast",), True), session.peer_address, 0)
    for partition, event in as_reads(stream, PER_READ):
        stamped = ReceivedUpdates(stamper.header(), event.session, event.parts)
        producer.produce(topics.ROUTES.name(PREFIX), stamped, event.session.peer_address,
                         partition)
    four = Negotiated()
    reads: dict[str, list[tuple[int, bytes]]] = {}
    prefixes = 0

    def flush(address: str) -> None:
        pending = reads.pop(address)
        raw = RawUpdates(stamper.header(), sessions[address], pending[0][0],
                         tuple(m for _s, m in pending))
        producer.produce(topics.RAW_UPDATES.name(PREFIX), raw, address,
                         topics.partition_for(address, PARTITIONS))

    sent = 0
    receiver = sessions["192.0.2.3"]
    for _partition, event in stream:
        message = encode(_update(event), four)
        address = event.session.peer_address
        reads.setdefault(address, []).append((event.update_seq, message))
        prefixes += len(event.announced)
        if len(reads[address]) * 10 >= PER_READ:  # UPDATEs of 10 prefixes
            flush(address)
        if address == "192.0.2.2":  # its table, as the route server sends it on
            producer.produce(topics.SENT.name(PREFIX), SentUpdate(
                stamper.header(), receiver, message, ("bench",)), receiver.peer_address,
                topics.partition_for(receiver.peer_address, PARTITIONS))
            sent += len(event.announced)
            prefixes += len(event.announced)
    for address in list(reads):
        flush(address)
    producer.flush(300)
    return sum(len(e.announced) for _p, e in stream), sent, prefixes


def _update(event: ReceivedRoutes) -> Update:
    return Update(attributes=event.attributes, nlri=event.announced)


def ixrs(bootstrap: str, *args: str) -> float:
    """Wall seconds of one command; fails loudly."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "ixrs", *args, "--bootstrap", bootstrap,
                           "--topic-prefix", PREFIX], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"ixrs {' '.join(args)}: {done.stderr[-2000:]}")
    return wall


def timed(bootstrap: str, runs: int, *args: str) -> tuple[float, list[float]]:
    walls = [ixrs(bootstrap, *args) for _ in range(runs)]
    return statistics.median(walls), walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        example_topics(broker.bootstrap, PREFIX, PARTITIONS)
        entries, sent, prefixes = fill(broker.bootstrap, args.updates)
        print(f"log: {entries:,} RIB entries (3 clients), {sent:,} sent to AS20003, "
              f"{prefixes:,} prefixes in UPDATEs, {PARTITIONS} partitions")
        out = str(Path(tmp) / "out.mrt")
        for label, count, what, command in (
                ("mrt rib", entries, "entries",
                 ("mrt", "rib", "--at", "now", "-o", out)),
                ("mrt rib --client AS20003", sent, "entries",
                 ("mrt", "rib", "--at", "now", "--client", "AS20003", "-o", out)),
                ("mrt updates", prefixes, "prefixes",
                 ("mrt", "updates", "--from", "-1d", "--to", "now", "-o", out))):
            median, walls = timed(broker.bootstrap, args.runs, *command)
            size = Path(out).stat().st_size
            print(f"{label}: {count / median:,.0f} {what}/s (median {median:.2f} s of "
                  f"{', '.join(f'{w:.2f}' for w in walls)}; {size / 1e6:,.1f} MB)")


if __name__ == "__main__":
    main()
