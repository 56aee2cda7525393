"""The bounded per-client queue: a client that does not keep up is reported, never held."""

from __future__ import annotations

from speaker.outbound import Outbound, Outgoing, PendingQueue
from tests.decide.build import route
from tests.outbound.build import A2, FOUR, B, D, Feed, Router, expected, make_policy

POLICY = make_policy()


def message(size: int, *causes: str) -> Outgoing:
    return Outgoing(bytes(size), causes)


def test_take_returns_the_oldest_up_to_a_size_but_at_least_one() -> None:
    queue = PendingQueue(limit=10_000)
    assert queue.put([message(100), message(200), message(300)])
    assert [len(m.raw) for m in queue.take(250)] == [100]
    assert [len(m.raw) for m in queue.take(10)] == [200]  # at least one
    assert [len(m.raw) for m in queue.take()] == [300]
    assert queue.take() == [] and queue.size == 0


def test_past_its_bound_the_queue_empties_and_stays_overflowed() -> None:
    queue = PendingQueue(limit=1000)
    assert queue.put([message(600, "a")])
    assert queue.size == 608  # octets plus a pointer per cause
    assert not queue.put([message(600)])
    assert queue.overflowed and len(queue) == 0 and queue.size == 0
    assert not queue.put([message(1)])  # nothing more is held
    assert len(queue) == 0


def test_a_client_that_does_not_read_is_reported_and_forgotten() -> None:
    outbound, feed = Outbound(POLICY, queue_limit=1500), Feed(POLICY)
    for address in (A2, B):
        outbound.establish(address, FOUR)
    router = Router(FOUR)
    router.receive(outbound.take(A2))
    overflowed: list[str] = []
    for n in range(40):  # different attributes each time: one UPDATE per prefix
        decision = feed.decide(f"10.0.{n}.0/24", [route(D, 15169, med=n)])
        report = outbound.apply([decision])
        overflowed += report.overflowed
        router.receive(outbound.take(A2))  # A2 reads, B does not
    assert overflowed == [B]
    assert outbound.overflowed(B) and B not in outbound.clients
    assert outbound.pending(B) == 0 and outbound.take(B) == []
    assert outbound.footprint().clients == 1
    assert router.rib == expected(outbound, A2, FOUR)
    # the session ends; a new one starts from a full table (which must fit the bound)
    outbound.drop(B)
    outbound.queue_limit = 100_000
    assert not outbound.overflowed(B)
    fresh = Router(FOUR)
    fresh.receive(outbound.establish(B, FOUR).output[B])
    assert fresh.rib == expected(outbound, B, FOUR)
