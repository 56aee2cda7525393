from __future__ import annotations

from speaker.maxprefix import Action, Limits, PrefixCounter


def _prefixes(n: int, start: int = 0) -> list[str]:
    return [f"185.{(i >> 8) & 255}.{i & 255}.0/24" for i in range(start, start + n)]


def test_under_the_limit_nothing_happens() -> None:
    counter = PrefixCounter(Limits(10, 5, Action.SHUTDOWN))
    assert not counter.apply(_prefixes(10), []).exceeded
    assert counter.count("ipv4") == 10


def test_reannouncing_does_not_count_twice() -> None:
    counter = PrefixCounter(Limits(3, 0, Action.SHUTDOWN))
    for _ in range(5):
        assert not counter.apply(_prefixes(3), []).exceeded
    assert counter.count("ipv4") == 3


def test_withdrawals_make_room() -> None:
    counter = PrefixCounter(Limits(3, 0, Action.SHUTDOWN))
    counter.apply(_prefixes(3), [])
    assert not counter.apply(_prefixes(1, 10), _prefixes(1)).exceeded


def test_shutdown_when_exceeded() -> None:
    counter = PrefixCounter(Limits(3, 0, Action.SHUTDOWN))
    outcome = counter.apply(_prefixes(4), [])
    assert outcome.exceeded and outcome.action is Action.SHUTDOWN
    assert (outcome.family, outcome.count, outcome.limit) == ("ipv4", 4, 3)
    # the prefix over the limit is not passed on, even for the moment before the close
    assert outcome.refused == (_prefixes(4)[3],)


def test_restart_refuses_what_is_over_too() -> None:
    counter = PrefixCounter(Limits(3, 0, Action.RESTART))
    outcome = counter.apply(_prefixes(5), [])
    assert outcome.exceeded and outcome.refused == tuple(_prefixes(5)[3:])


def test_warning_passes_everything_on() -> None:
    counter = PrefixCounter(Limits(3, 0, Action.WARNING))
    outcome = counter.apply(_prefixes(5), [])
    assert outcome.exceeded and outcome.refused == ()
    assert counter.count("ipv4") == 5


def test_block_refuses_only_what_is_over() -> None:
    counter = PrefixCounter(Limits(3, 0, Action.BLOCK))
    outcome = counter.apply(_prefixes(5), [])
    assert outcome.exceeded and outcome.refused == tuple(_prefixes(5)[3:])
    assert counter.count("ipv4") == 3


def test_families_have_their_own_limits() -> None:
    counter = PrefixCounter(Limits(100, 2, Action.SHUTDOWN))
    outcome = counter.apply(["2a0c:9a40::/32", "2a0c:9a41::/32", "2a0c:9a42::/32"], [])
    assert outcome.exceeded and outcome.family == "ipv6"


def test_no_action_means_not_enforced() -> None:
    counter = PrefixCounter(Limits(1, 1, None))
    assert not counter.apply(_prefixes(50), []).exceeded


def test_warning_once_per_crossing() -> None:
    counter = PrefixCounter(Limits(2, 0, Action.WARNING))
    assert counter.apply(_prefixes(3), []).exceeded
    assert not counter.apply(_prefixes(1, 50), []).exceeded
