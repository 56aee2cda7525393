"""Workers on the real embedded broker: killed with SIGKILL in the middle of 100,000 route
updates and restarted, a worker ends with exactly the outputs of an uninterrupted run, re-sent
ones recognisable by their ids; two workers divide the partitions, and one takes them all
when the other dies."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from ixrs import topics
from schemas.events import Decision
from tests.helpers import wait_for
from tests.processors.pipeline import (
    GENERAL,
    ROOT,
    Tail,
    by_id,
    produce,
    route_stream,
    start_worker,
    uninterrupted,
    worker_argv,
)

PARTITIONS = 4
UPDATES = 100_000


def test_a_worker_killed_mid_stream_ends_with_the_decisions_of_an_uninterrupted_run(
        broker, topic_prefix: str, tmp_path: Path) -> None:
    argv = worker_argv(broker.bootstrap, topic_prefix, tmp_path, PARTITIONS,
                       tmp_path / "state")
    # Saves every half second, so that the kills find saved state to resume from.
    env = {"IXRS_SAVE_INTERVAL": "0.5"}
    worker = start_worker(argv, tmp_path, env=env)
    decisions = Tail(broker.bootstrap, topics.DECISIONS.name(topic_prefix), PARTITIONS)
    verdicts = Tail(broker.bootstrap, topics.VERDICTS.name(topic_prefix), PARTITIONS)
    try:
        stream = route_stream(UPDATES, PARTITIONS)
        produce(broker.bootstrap, topic_prefix, stream)
        expected = uninterrupted(broker.bootstrap, topic_prefix, PARTITIONS)
        expected_decisions = {i for i, e in expected.items() if isinstance(e, Decision)}
        assert len(expected_decisions) > 10_000

        # Killed twice, at a quarter and at two thirds of the way, wherever it then is:
        # between a flush and a save, in a save, or reading.
        for share in (0.25, 0.66):
            wait_for(lambda s=share: len(decisions.poll()) >= s * len(expected_decisions),
                     300, f"{share:.0%} of the decisions")
            worker.kill()
            worker = start_worker(argv, tmp_path, env=env)
        wait_for(lambda: {i for i, _ in by_id(decisions.poll())} >= expected_decisions,
                 300, "every decision of the uninterrupted run")
        wait_for(lambda: len({i for i, _ in by_id(verdicts.poll())}) >=
                 len(expected) - len(expected_decisions), 120, "every verdict")

        seen: dict[str, object] = {}
        duplicates = 0
        for event_id, event in [*by_id(decisions.events), *by_id(verdicts.events)]:
            if event_id in seen:
                duplicates += 1
                assert seen[event_id] == event, f"{event_id} re-sent with other content"
            seen[event_id] = event
        assert seen == expected, "nothing lost, nothing invented"
        # the restarts resumed from saved state, not from the start of every partition
        assert "saved state of" in worker.text()
        print(f"{len(expected_decisions)} decisions, {duplicates} re-sent after the kills")

        # The audit agrees: re-sent outputs are recognised duplicates, nothing diverges.
        audit = subprocess.run(
            [sys.executable, "-m", "ixrs", "replay", "--verify", "--from", "1970-01-01T00:00:00Z",
             "--to", "now", "--bootstrap", broker.bootstrap, "--topic-prefix", topic_prefix],
            capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr[-3000:]
        assert "0 divergences" in audit.stderr
        assert f"{duplicates} duplicates recognised" in audit.stderr
    finally:
        worker.stop()
        decisions.close()
        verdicts.close()


def test_two_workers_divide_the_partitions_and_one_takes_over_when_the_other_dies(
        broker, topic_prefix: str, tmp_path: Path) -> None:
    argv = worker_argv(broker.bootstrap, topic_prefix, tmp_path, PARTITIONS,
                       tmp_path / "state")
    first = start_worker(argv, tmp_path)
    second = start_worker(argv, tmp_path)
    decisions = Tail(broker.bootstrap, topics.DECISIONS.name(topic_prefix), PARTITIONS)
    try:
        def divided() -> bool:
            mine, theirs = first.partitions(), second.partitions()
            return bool(mine and theirs) and sorted(mine + theirs) == list(range(PARTITIONS))

        wait_for(divided, 60, "the two workers to divide the partitions")
        produce(broker.bootstrap, topic_prefix, route_stream(2_000, PARTITIONS, seed=1))
        expected = {i for i, e in uninterrupted(broker.bootstrap, topic_prefix,
                                                 PARTITIONS).items() if isinstance(e, Decision)}
        wait_for(lambda: {i for i, _ in by_id(decisions.poll())} >= expected, 120,
                 "the decisions of every partition")
        assert {p for p, _o, _e in decisions.events} == set(range(PARTITIONS))

        second.kill()
        wait_for(lambda: first.partitions() == list(range(PARTITIONS)), 60,
                 "the survivor to take every partition")
        produce(broker.bootstrap, topic_prefix, route_stream(2_000, PARTITIONS, seed=2))
        expected = {i for i, e in uninterrupted(broker.bootstrap, topic_prefix,
                                                 PARTITIONS).items() if isinstance(e, Decision)}
        wait_for(lambda: {i for i, _ in by_id(decisions.poll())} >= expected, 120,
                 "the decisions of the partitions the survivor took over")
    finally:
        first.stop()
        second.stop()
        decisions.close()


def test_a_new_configuration_judges_and_decides_again_from_its_marker(
        broker, topic_prefix: str, tmp_path: Path) -> None:
    general = tmp_path / "general.yml"
    general.write_text(GENERAL.read_text())
    argv = worker_argv(broker.bootstrap, topic_prefix, tmp_path, PARTITIONS,
                       tmp_path / "state", general)
    worker = start_worker(argv, tmp_path)
    decisions = Tail(broker.bootstrap, topics.DECISIONS.name(topic_prefix), PARTITIONS)
    verdicts = Tail(broker.bootstrap, topics.VERDICTS.name(topic_prefix), PARTITIONS)
    try:
        produce(broker.bootstrap, topic_prefix, route_stream(500, PARTITIONS, seed=3))

        def in_force() -> dict[str, Decision]:
            return {e.prefix: e for _p, _o, e in decisions.poll()}

        wait_for(lambda: any(d.best for d in in_force().values()), 60, "routes exported")
        # /24s become too long for the new configuration: every route is judged again at
        # the marker, and every prefix loses its best path
        general.write_text(GENERAL.read_text().replace("      max: 24", "      max: 23", 1))
        worker.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: all(d.best is None for d in in_force().values()), 60,
                 "every /24 withdrawn under the new configuration")
        rejected = [g for _p, _o, v in verdicts.poll() for g in v.groups if not g.accepted
                    and any(r.name == "invalid_prefix_length" for r in g.reasons)]
        assert rejected, "the new verdicts name the reason"
        assert {e for e in by_id(decisions.events)} <= set(
            uninterrupted(broker.bootstrap, topic_prefix, PARTITIONS).items()), \
            "replayed from the log, the configuration change is met at the same place"
    finally:
        worker.stop()
        decisions.close()
        verdicts.close()
