"""`ixrs replay --verify` on a real pipeline: clean on the untampered log, sharp on a
tampered one."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time

from ixrs.eventlog import EventProducer, SingleObjectFraming, read_partitions
from ixrs.timespec import format_time
from schemas.attributes import Attributes, Origin
from schemas.decisions import batched, per_prefix
from schemas.events import Decision, SentUpdate
from speaker.codec import Update, encode
from speaker.codec.negotiated import Negotiated
from tests.processors.test_worker import pipeline  # noqa: F401  (the fixture)
from tests.replay.test_replay_state import Rib, _path
from tests.speaker.bgpclient import BgpTestClient
from tests.speaker.conftest import PARTITIONS, ROOT


def verify(start: int, *common: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ixrs", "replay", "--verify", "--from",
                           format_time(start), "--to", "now", *common],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_verify_is_clean_then_finds_the_tampered_decision(pipeline) -> None:  # noqa: F811
    speaker, common = pipeline
    start = time.time_ns() // 1000 - 60_000_000
    sender = BgpTestClient("127.0.0.2", speaker.address, 20002)
    sender.establish()
    receiver = BgpTestClient("127.0.0.3", speaker.address, 20003)
    receiver.establish()
    rib = Rib(receiver)
    attrs = Attributes(origin=Origin.IGP, next_hop="127.0.0.2", as_path=_path(20002, 3333))
    prefixes = tuple(f"185.50.{i}.0/24" for i in range(20))
    sender.announce(Update(attributes=attrs, nlri=prefixes))
    sender.announce(Update(attributes=attrs, nlri=("10.99.0.0/16",)))  # filtered
    rib.until(lambda r: set(prefixes) <= set(r))
    sender.announce(Update(withdrawn=prefixes[:5]))
    rib.until(lambda r: not set(prefixes[:5]) & set(r))

    clean = verify(start, *common)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "0 divergences" in clean.stderr
    summary = clean.stderr.strip().splitlines()[-1]
    counts = dict((w, int(n)) for n, w in
                  (p.split()[:2] for p in summary.split(": ", 2)[2].split(", ")[:3]))
    assert counts["verdicts"] >= 3 and counts["decisions"] >= 25 and counts["sent"] >= 2

    # Tamper: write a recorded decision again, same id, another best step.
    bootstrap, prefix = speaker.bootstrap, speaker.prefix
    topic = prefix + "decisions"
    found = [(p, o, d) for p, o, e in read_partitions(bootstrap, topic, list(range(PARTITIONS)),
                                                      SingleObjectFraming())
             for d in per_prefix(e) if isinstance(d, Decision) and d.prefix == prefixes[7]]
    partition, _offset, original = found[-1]
    forged = dataclasses.replace(original, step="med")
    producer = EventProducer(bootstrap, SingleObjectFraming())
    producer.produce(topic, batched([forged]), prefixes[7], partition)  # as a worker writes
    producer.flush()
    offsets = [o for p, o, e in read_partitions(bootstrap, topic, [partition],
                                                 SingleObjectFraming()) if forged in per_prefix(e)]

    tampered = verify(start, *common)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    [line] = tampered.stdout.splitlines()
    divergence = json.loads(line)
    assert divergence["divergence"] == "differs"
    assert divergence["record"] == f"{topic}:{partition}:{offsets[-1]}"
    assert divergence["input"] == "{}:{}:{}".format(*str(original.input.event_id()).split(":"))
    assert "step" in divergence["detail"]

    # Tamper with what was sent: the same causes, another next hop.
    sent_topic = prefix + "sent"
    sent = [(p, e) for p, _o, e in read_partitions(bootstrap, sent_topic,
                                                    list(range(PARTITIONS)),
                                                    SingleObjectFraming())
            if isinstance(e, SentUpdate) and e.session.peer_address == "127.0.0.3"
            and e.kind == "update"
            and any(c.endswith("/" + prefixes[9]) for c in e.caused_by)]
    sent_partition, record = sent[-1]
    lie = Update(attributes=dataclasses.replace(attrs, next_hop="127.0.0.66"),
                 nlri=(prefixes[9],))
    forged_sent = dataclasses.replace(record, raw=encode(lie, Negotiated()),
                                      caused_by=tuple(c for c in record.caused_by
                                                      if c.endswith("/" + prefixes[9])))
    producer.produce(sent_topic, forged_sent, "127.0.0.3", sent_partition)
    producer.flush()
    both = verify(start, *common)
    assert both.returncode == 1
    kinds = sorted(json.loads(line)["divergence"] for line in both.stdout.splitlines())
    assert kinds == ["differs", "sent-differs"], both.stdout
    assert "127.0.0.66" in both.stdout
    sender.close()
    receiver.close()
