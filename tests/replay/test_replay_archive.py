"""Replay, explain and verify from an archive (`--archive DIR`, no broker) give what they
give from Kafka, on the log of a real pipeline (speaker, worker, the embedded broker)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ixrs.timespec import format_time
from schemas.attributes import Attributes, Origin
from speaker.codec import Update
from tests.processors.test_worker import pipeline  # noqa: F401  (the fixture)
from tests.replay.test_replay_state import _path, sender_and_receiver
from tests.speaker.bgpclient import BgpTestClient
from tests.speaker.conftest import ROOT


def ixrs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ixrs", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def _without_bootstrap(common: list[str]) -> list[str]:
    at = common.index("--bootstrap")
    return common[:at] + common[at + 2:]


def test_replay_and_explain_from_the_archive_equal_those_from_kafka(
        pipeline, tmp_path: Path) -> None:  # noqa: F811
    speaker, common = pipeline
    sender, receiver, rib = sender_and_receiver(speaker)
    other = BgpTestClient("127.0.0.4", speaker.address, 196615)
    other.establish()
    other.announce(Update(attributes=Attributes(origin=Origin.IGP, next_hop="127.0.0.4",
                                                as_path=_path(196615, 49544, 3333)),
                          nlri=("185.50.0.0/24",)))
    rib.until(lambda r: {"185.50.0.0/24", "185.50.1.0/24"} <= set(r))
    first = format_time(time.time_ns() // 1000)
    sender.announce(Update(withdrawn=("185.50.1.0/24",)))
    rib.until(lambda r: "185.50.1.0/24" not in r)

    archive = tmp_path / "archive"
    done = ixrs("archive", "--out", str(archive), *common)
    assert done.returncode == 0, done.stderr
    assert "archive: 0 records" not in done.stdout
    offline = ["--archive", str(archive), *_without_bootstrap(common)]
    last = format_time(time.time_ns() // 1000)  # explain prints its moment: one for both

    for moment in (["--at", first], ["--at", "now"]):
        from_kafka = ixrs("replay", *moment, *common)
        from_archive = ixrs("replay", *moment, *offline)
        assert from_kafka.returncode == 0, from_kafka.stderr
        assert from_archive.returncode == 0, from_archive.stderr
        assert from_archive.stdout == from_kafka.stdout
        assert '"type": "adj-out"' in from_kafka.stdout, "a state with every kind of record"
    assert "185.50.1.0/24" in ixrs("replay", "--at", first, *offline).stdout
    assert "185.50.1.0/24" not in ixrs("replay", "--at", "now", "--what", "decisions",
                                       *offline).stdout

    for client in ("AS20003", "127.0.0.2"):
        story = ["explain", "--at", last, "--client", client, "--prefix", "185.50.0.0/24",
                 "--json"]
        from_kafka, from_archive = ixrs(*story, *common), ixrs(*story, *offline)
        assert from_kafka.returncode == 0, from_kafka.stderr
        assert from_archive.stdout == from_kafka.stdout
        assert '"candidates"' in from_archive.stdout

    # MRT export reads through the same source (cmd_mrt, `_log_source`)
    for kind in (["rib", "--at", last], ["updates", "--from", first, "--to", last]):
        files = tmp_path / "kafka.mrt", tmp_path / "archive.mrt"
        for flags, path in ((common, files[0]), (offline, files[1])):
            done = ixrs("mrt", *kind, "-o", str(path), *flags)
            assert done.returncode == 0, done.stderr
        assert files[1].read_bytes() == files[0].read_bytes()
        assert files[0].stat().st_size > 0

    began = format_time(time.time_ns() // 1000 - 3_600_000_000)
    verify = ["replay", "--verify", "--from", began, "--to", last]
    from_kafka, from_archive = ixrs(*verify, *common), ixrs(*verify, *offline)
    assert (from_archive.returncode, from_archive.stdout) == (from_kafka.returncode,
                                                              from_kafka.stdout)
    summary = from_archive.stderr.strip().splitlines()[-1]
    assert summary == from_kafka.stderr.strip().splitlines()[-1]
    assert " 0 verdicts" not in summary
    for client in (sender, other, receiver):
        client.close()
