"""What one UPDATE becomes in the log (pure)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from ixrs.topics import partition_for
from schemas.attributes import Attributes
from schemas.events import Epoch, EventHeader, Session
from speaker.codec import Action, MpReach, MpUnreach, Note, Update
from speaker.publish import received_events, route_events
from tests.strategies import prefix_v4, prefix_v6

SESSION = Session("speaker", "192.0.2.2", 20002, Epoch("i", 1))
V4 = Attributes(next_hop="192.0.2.2")


def _header() -> EventHeader:
    counter = itertools.count()
    return lambda: EventHeader("p", next(counter), 0, "")  # type: ignore[return-value]


@settings(max_examples=100, deadline=None)
@given(st.lists(prefix_v4(), max_size=40, unique=True),
       st.lists(prefix_v6(), max_size=40, unique=True),
       st.lists(prefix_v4(), max_size=20, unique=True),
       st.integers(1, 16))
def test_every_prefix_lands_once_in_its_partition(v4: list[str], v6: list[str],
                                                  gone: list[str], partitions: int) -> None:
    update = Update(withdrawn=tuple(gone), attributes=V4 if v4 or v6 else None, nlri=tuple(v4),
                    mp_reach=MpReach(2, 1, "2001:db8:1::2", None, tuple(v6)) if v6 else None)
    events = route_events(SESSION, 7, update, _header(), partitions)
    announced = [(part, p) for part, e in events for p in e.announced]
    withdrawn = [(part, p) for part, e in events for p in e.withdrawn]
    assert sorted(p for _, p in announced) == sorted(v4 + v6)
    assert sorted(p for _, p in withdrawn) == sorted(gone)
    assert all(part == partition_for(p, partitions) for part, p in announced + withdrawn)
    for _part, event in events:
        assert event.update_seq == 7 and event.session == SESSION
        if event.announced:
            nh = event.attributes.next_hop
            assert nh == ("2001:db8:1::2" if ":" in event.announced[0] else "192.0.2.2")
        else:
            assert event.attributes is None
    # one event per (partition, attribute set): never two for the same pair
    keys = [(part, e.attributes) for part, e in events if e.announced]
    assert len(keys) == len(set(keys))


def test_treat_as_withdraw_withdraws_and_says_why() -> None:
    update = Update(attributes=V4, nlri=("185.50.0.0/24",), treat_as_withdraw=True,
                    notes=(Note(1, Action.TREAT_AS_WITHDRAW, "invalid ORIGIN 7"),))
    [(_part, event)] = route_events(SESSION, 1, update, _header(), 4)
    assert event.announced == () and event.withdrawn == ("185.50.0.0/24",)
    assert event.attributes is None
    assert event.notes == ("treat-as-withdraw: attribute 1: invalid ORIGIN 7",)


def test_end_of_rib_makes_no_event() -> None:
    assert route_events(SESSION, 1, Update(), _header(), 4) == []
    assert route_events(SESSION, 1, Update(mp_unreach=MpUnreach(2, 1, ())), _header(), 4) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(prefix_v4(), max_size=8, unique=True),
                          st.lists(prefix_v4(), max_size=4, unique=True)),
                min_size=1, max_size=6),
       st.integers(1, 8))
def test_one_read_makes_one_event_per_partition_with_the_updates_in_order(
        updates: list[tuple[list[str], list[str]]], partitions: int) -> None:
    numbered = [(10 + i, Update(withdrawn=tuple(gone), attributes=V4 if nlri else None,
                                nlri=tuple(nlri)))
                for i, (nlri, gone) in enumerate(updates)]
    events = received_events(SESSION, numbered, _header(), partitions)
    assert [p for p, _e in events] == sorted({p for p, _e in events})  # one per partition
    # Each partition's parts are exactly the single-UPDATE events' parts, in UPDATE order.
    for partition, event in events:
        assert event.session == SESSION
        expected = [(e.update_seq, e.attributes, e.announced, e.withdrawn)
                    for seq, update in numbered
                    for p, e in route_events(SESSION, seq, update, _header(), partitions)
                    if p == partition]
        assert [(x.update_seq, x.attributes, x.announced, x.withdrawn)
                for x in event.parts] == expected
    everything = [e for seq, u in numbered for e in route_events(SESSION, seq, u, _header(),
                                                                 partitions)]
    assert sum(len(e.parts) for _p, e in events) == len(everything)
