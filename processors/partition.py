"""One routes partition's processing, from its events to its outputs. No Kafka.

The worker feeds it the events of one routes partition in log order, with their
positions, and writes out what it returns; replay feeds it the same events and gets
the same answers. It keeps the partition's Adj-RIB-In (:mod:`processors.ribin`) and
the current outcome of every route, and applies:

- ``ReceivedRoutes``: a ``Verdict`` with every reason (:func:`processors.validate.judge`);
- session-down and speaker-incarnation markers: the routes they end;
- ``DataSetMarker``: a new data-set version comes into force at exactly this point of
  the partition; the routes it may affect are re-validated, and only those whose
  outcome changes get a new ``Verdict``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ixrs import topics
from ixrs.eventlog import Stamper
from processors.datasets import DataSet, IrrSet, VrpSet
from processors.ribin import AdjRibIn, PeerKey, RibRoute, peer_key
from processors.validate import ImportPolicy, PolicyData, changed_groups, data_change, validate
from processors.validate.bogons import Bogons
from processors.validate.revalidate import PrefixOutcome, outcomes
from processors.validate.verdict import judge
from schemas.events import (
    DataSetMarker,
    Position,
    ReceivedRoutes,
    Session,
    SessionChange,
    SpeakerIncarnation,
    Verdict,
)

# (kind, name, version) -> the data set; the worker reads them from the datasets topic.
DataSetLoader = Callable[[str, str, str], DataSet]


@dataclass(frozen=True, slots=True)
class Output:
    topic: topics.TopicSpec
    key: str
    event: object


@dataclass
class PartitionProcessor:
    partition: int
    policy: ImportPolicy
    load: DataSetLoader
    stamper: Stamper
    data: PolicyData = field(default_factory=PolicyData)
    rib: AdjRibIn = field(default_factory=AdjRibIn)
    # the outcome of every route in the Adj-RIB-In: prefix -> peer -> outcome
    verdicts: dict[str, dict[PeerKey, PrefixOutcome]] = field(default_factory=dict)

    def handle(self, position: Position, event: object) -> list[Output]:
        if isinstance(event, ReceivedRoutes):
            return self._routes(position, event)
        if isinstance(event, (SessionChange, SpeakerIncarnation)):
            self._forget(self.rib.apply(event))
            return []
        if isinstance(event, DataSetMarker):
            return self._dataset(position, event)
        return []

    def _routes(self, position: Position, event: ReceivedRoutes) -> list[Output]:
        if self.rib._stale(event.session):
            return []  # a late event of a session or incarnation that is gone
        changed = self.rib.apply(event)
        self._forget(changed)
        verdict = judge(event, position, self.stamper.header(), self.policy, self.data)
        if verdict is None:
            return []
        self._remember(event.session, verdict)
        return [Output(topics.VERDICTS, event.session.peer_address, verdict)]

    def _remember(self, session: Session, verdict: Verdict) -> None:
        key = peer_key(session)
        for prefix, outcome in outcomes(verdict.groups).items():
            self.verdicts.setdefault(prefix, {})[key] = outcome

    def _forget(self, prefixes: set[str]) -> None:
        """Drop the outcomes of routes that left the Adj-RIB-In."""
        for prefix in prefixes:
            known = self.verdicts.get(prefix)
            if not known:
                continue
            present = self.rib.routes.get(prefix, {})
            for key in [k for k in known if k not in present]:
                del known[key]
            if not known:
                del self.verdicts[prefix]

    # --- data sets ----------------------------------------------------------------------

    def _dataset(self, position: Position, marker: DataSetMarker) -> list[Output]:
        new = _with(self.data, self.load(marker.kind, marker.name, marker.version))
        change = data_change(self.data, new)
        self.data = new
        return self._revalidate(position, change.affects)

    def _revalidate(self, position: Position, affects: Callable[..., bool]) -> list[Output]:
        # Routes of one session that share an attribute set are validated as one batch.
        batches: dict[tuple[PeerKey, int], tuple[RibRoute, list[str]]] = {}
        for prefix, candidates in self.rib.routes.items():
            for key, route in candidates.items():
                client = self.policy.for_peer(route.session.peer_address)
                if client is None or not affects(client, self.data, prefix):
                    continue
                batch = batches.setdefault((key, id(route.attributes)), (route, []))
                batch[1].append(prefix)
        out: list[Output] = []
        for (key, _attrs), (route, prefixes) in sorted(
            batches.items(), key=lambda item: item[0][0]
        ):
            client = self.policy.for_peer(route.session.peer_address)
            assert client is not None
            groups = validate(client, route.attributes, prefixes, self.data)
            previous = {p: self.verdicts.get(p, {}).get(key) for p in prefixes}
            moved = changed_groups(previous, groups)  # type: ignore[arg-type]
            if not moved:
                continue
            verdict = Verdict(
                self.stamper.header(),
                f"{position.event_id()}/{key[1]}",
                position,
                route.session,
                moved,
                self.data.refs(client),
            )
            self._remember(route.session, verdict)
            out.append(Output(topics.VERDICTS, route.session.peer_address, verdict))
        return out


def _with(data: PolicyData, dataset: DataSet) -> PolicyData:
    if isinstance(dataset, VrpSet):
        return data.with_vrps(dataset)
    if isinstance(dataset, IrrSet):
        return data.with_irr([dataset])
    if isinstance(dataset, Bogons):
        return data.with_bogons(dataset)
    raise TypeError(f"not a data set: {type(dataset).__name__}")
