"""The net change of a received-routes event: its parts applied in order (pure)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.received import routes_change
from schemas.attributes import Attributes
from schemas.events import (
    Epoch,
    EventHeader,
    ReceivedRoutes,
    ReceivedUpdates,
    Session,
    UpdatePart,
)

SESSION = Session("speaker", "192.0.2.2", 20002, Epoch("i", 1))
HEADER = EventHeader("p", 0, 0, "")
PREFIXES = [f"185.{i}.0.0/24" for i in range(6)]
ATTRIBUTES = [Attributes(next_hop="192.0.2.2", med=m) for m in range(3)]

part = st.builds(
    UpdatePart,
    st.just(0),
    st.none() | st.sampled_from(ATTRIBUTES),
    st.lists(st.sampled_from(PREFIXES), max_size=4, unique=True).map(tuple),
    st.lists(st.sampled_from(PREFIXES), max_size=3, unique=True).map(tuple),
)


def _one_by_one(parts: list[UpdatePart]) -> dict[str, tuple[int, Attributes] | None]:
    """What an Adj-RIB-In holds after each part by itself: withdrawals, then NLRI."""
    table: dict[str, tuple[int, Attributes] | None] = {}
    for p in parts:
        for prefix in p.withdrawn:
            table[prefix] = None
        if p.attributes is not None:
            for prefix in p.announced:
                table[prefix] = (p.update_seq, p.attributes)
    return table


@settings(max_examples=300, deadline=None)
@given(st.lists(part, min_size=1, max_size=6))
def test_the_net_change_is_the_parts_applied_in_order(parts: list[UpdatePart]) -> None:
    parts = [UpdatePart(i, p.attributes, p.announced, p.withdrawn) for i, p in enumerate(parts)]
    change = routes_change(ReceivedUpdates(HEADER, SESSION, tuple(parts)))
    net: dict[str, tuple[int, Attributes] | None] = dict.fromkeys(change.withdrawn)
    seen = list(change.withdrawn)
    for seq, attributes, prefixes in change.announced:
        assert prefixes, "no empty groups"
        seen += prefixes
        for prefix in prefixes:
            net[prefix] = (seq, attributes)
    assert len(seen) == len(set(seen)), "each prefix settled once"
    assert net == _one_by_one(parts)
    # the groups keep receive order (update_seq numbers the parts here)
    seqs = [a.update_seq for a in change.announced]
    assert seqs == sorted(seqs)


def _last_part_wins(parts: list[UpdatePart]) -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
    """The net change as routes_change() works it out in general, prefix by prefix (its
    shortcut for reads that name no prefix twice must give exactly this)."""
    last: dict[str, int] = {}
    for index, p in enumerate(parts):
        for prefix in p.withdrawn:
            last[prefix] = -1
        if p.attributes is not None:
            for prefix in p.announced:
                last[prefix] = index
    withdrawn = tuple(prefix for prefix, i in last.items() if i < 0)
    announced = []
    for index, p in enumerate(parts):
        kept = tuple(x for x in p.announced if last[x] == index) if p.attributes else ()
        if kept:
            announced.append((p.update_seq, p.attributes, kept))
    return withdrawn, announced


@settings(max_examples=300, deadline=None)
@given(st.lists(part, min_size=2, max_size=6), st.booleans())
def test_the_net_change_is_exactly_the_last_part_winning(parts: list[UpdatePart],
                                                        distinct: bool) -> None:
    parts = [UpdatePart(i, p.attributes, p.announced, p.withdrawn) for i, p in enumerate(parts)]
    if distinct:  # the usual read: no prefix named twice (routes_change's shortcut)
        taken: set[str] = set()
        kept = []
        for p in parts:
            withdrawn = tuple(x for x in p.withdrawn if x not in taken)
            taken.update(withdrawn)
            announced = tuple(x for x in p.announced if x not in taken)
            taken.update(announced if p.attributes is not None else ())
            kept.append(UpdatePart(p.update_seq, p.attributes, announced, withdrawn))
        parts = kept
    change = routes_change(ReceivedUpdates(HEADER, SESSION, tuple(parts)))
    withdrawn, announced = _last_part_wins(parts)
    assert change.withdrawn == withdrawn
    assert [tuple(a) for a in change.announced] == announced


def test_an_older_single_update_event_is_one_part() -> None:
    event = ReceivedRoutes(HEADER, SESSION, 7, ATTRIBUTES[0], (PREFIXES[0],), (PREFIXES[1],))
    change = routes_change(event)
    assert change.withdrawn == (PREFIXES[1],)
    assert change.announced == ((7, ATTRIBUTES[0], (PREFIXES[0],)),)
    assert routes_change(ReceivedRoutes(HEADER, SESSION, 8, None, (), (PREFIXES[2],))
                         ).announced == ()


def test_a_stream_batched_by_read_ends_in_the_same_decisions_as_one_update_per_event(
) -> None:
    from ixrs.config import load_config
    from ixrs.eventlog import Stamper
    from processors.partition import PartitionProcessor
    from schemas.events import Position
    from tests.processors.pipeline import (
        CLIENTS,
        GENERAL,
        _no_data,
        _policies,
        as_reads,
        route_stream,
    )

    policies = _policies(load_config(str(GENERAL), str(CLIENTS)))

    def final(stream: list[tuple[int, object]]) -> dict[str, object]:
        procs = {p: PartitionProcessor(p, policies.imports, _no_data, Stamper("t"),
                                       policies.exports) for p in range(4)}
        for offset, (partition, event) in enumerate(stream):
            procs[partition].handle(Position("routes", partition, offset), event)
        out: dict[str, object] = {}
        for proc in procs.values():
            out.update({prefix: (d.best, d.outcomes, proc.verdicts.get(prefix))
                        for prefix, d in proc.decisions.items()})
            out.update({f"verdicts {prefix}": known for prefix, known in proc.verdicts.items()})
        return out

    # Prefixes drawn from a small pool: reads hold the same prefix several times over.
    stream = route_stream(6_000, 4, seed=3, per_event=3)
    batched = as_reads(stream, 400)
    assert len(batched) < len(stream) / 10
    assert any(len({p for part in e.parts for p in part.announced + part.withdrawn})
               < sum(len(part.announced) + len(part.withdrawn) for part in e.parts)
               for _p, e in batched), "some read names a prefix twice"
    assert final(batched) == final(stream)  # type: ignore[arg-type]
