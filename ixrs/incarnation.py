"""Which broker's data local state was derived from.

The embedded broker keeps nothing across restarts, so local state (RocksDB
stores, faust data) built from its log is meaningless against a new one and
would even confuse faust (``ConsistencyError``). The first record of the broker
topic names the broker's incarnation; the state directory remembers the one it
was built from, and everything derived is discarded on a mismatch.

State directory layout: ``derived/`` holds what is rebuilt from the log and may
be discarded; anything else (archives, later) is history and is kept.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from ixrs import topics
from ixrs.eventlog import EventProducer, Framing, Stamper, read_partition
from schemas.events import BrokerIncarnation

MARKER_FILE = "broker-incarnation"
DERIVED_DIR = "derived"


def read_incarnation(bootstrap: str, prefix: str, framing: Framing) -> str | None:
    topic = topics.BROKER.name(prefix)
    for _offset, event in read_partition(bootstrap, topic, 0, framing):
        if isinstance(event, BrokerIncarnation):
            return event.incarnation
    return None


def ensure_incarnation(bootstrap: str, prefix: str, framing: Framing) -> str:
    """The broker's incarnation, written first if the broker has none yet.

    Two roles starting at once may both write one; the first record wins, so
    both end up agreeing.
    """
    found = read_incarnation(bootstrap, prefix, framing)
    if found:
        return found
    producer = EventProducer(bootstrap, framing)
    stamper = Stamper("broker")
    event = BrokerIncarnation(stamper.header(), str(uuid.uuid4()))
    producer.produce(topics.BROKER.name(prefix), event, partition=0)
    producer.flush()
    found = read_incarnation(bootstrap, prefix, framing)
    assert found is not None, "the incarnation record just written is not readable"
    return found


@dataclass(frozen=True)
class Reconciled:
    incarnation: str
    discarded_from: str | None  # the old incarnation whose derived state was dropped


def reconcile_state_dir(state_dir: Path, incarnation: str) -> Reconciled:
    """Make ``state_dir/derived`` belong to ``incarnation``, discarding it if it does not."""
    state_dir.mkdir(parents=True, exist_ok=True)
    marker = state_dir / MARKER_FILE
    previous = marker.read_text().strip() if marker.exists() else None
    discarded = None
    if previous != incarnation:
        derived = state_dir / DERIVED_DIR
        if derived.exists():
            shutil.rmtree(derived)
            discarded = previous or "unknown"
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(incarnation + "\n")
        tmp.replace(marker)  # atomic: a crash leaves the old marker or the new one
    (state_dir / DERIVED_DIR).mkdir(exist_ok=True)
    return Reconciled(incarnation, discarded)
