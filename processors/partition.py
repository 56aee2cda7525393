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

Every prefix whose candidates changed is decided again (:mod:`processors.views`); a
``Decision`` is written only when the result differs from the one in force.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ixrs import topics
from ixrs.eventlog import Stamper
from processors.datasets import DataSet, IrrSet, VrpSet
from processors.export import ExportPolicy, Offer
from processors.ribin import AdjRibIn, PeerKey, RibRoute, peer_key
from processors.validate import ImportPolicy, PolicyData, changed_groups, data_change, validate
from processors.validate.bogons import Bogons
from processors.validate.revalidate import PrefixOutcome
from processors.validate.verdict import judge
from processors.views import PrefixDecision, decide_prefix
from schemas.events import (
    DataSetMarker,
    Position,
    ReceivedRoutes,
    Route,
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
    export: ExportPolicy
    data: PolicyData = field(default_factory=PolicyData)
    rib: AdjRibIn = field(default_factory=AdjRibIn)
    # the outcome of every route in the Adj-RIB-In: prefix -> peer -> outcome
    verdicts: dict[str, dict[PeerKey, PrefixOutcome]] = field(default_factory=dict)
    # the candidates of the decision process: accepted routes, read by the export policy
    offers: dict[str, dict[PeerKey, Offer]] = field(default_factory=dict)
    decisions: dict[str, PrefixDecision] = field(default_factory=dict)

    def handle(self, position: Position, event: object) -> list[Output]:
        if isinstance(event, ReceivedRoutes):
            return self._routes(position, event)
        if isinstance(event, (SessionChange, SpeakerIncarnation)):
            return self._decide(position, self._forget(self.rib.apply(event)))
        if isinstance(event, DataSetMarker):
            return self._dataset(position, event)
        return []

    def _routes(self, position: Position, event: ReceivedRoutes) -> list[Output]:
        if self.rib.stale(event.session):
            return []  # a late event of a session or incarnation that is gone
        changed = self._forget(self.rib.apply(event))
        verdict = judge(event, position, self.stamper.header(), self.policy, self.data)
        if verdict is None:
            return self._decide(position, changed)
        changed |= self._remember(event.session, verdict)
        out = [Output(topics.VERDICTS, event.session.peer_address, verdict)]
        return out + self._decide(position, changed)

    def _remember(self, session: Session, verdict: Verdict) -> set[str]:
        """Record a verdict's outcomes and the candidates it makes or unmakes."""
        key = peer_key(session)
        touched: set[str] = set()
        for group in verdict.groups:
            offer = None
            if group.accepted and not group.reasons and group.attributes is not None:
                # read once per attribute set: it depends on the route, not the prefix
                offer = self.export.analyze(Route(session, group.attributes, session.router_id))
            for prefix in group.prefixes:
                self.verdicts.setdefault(prefix, {})[key] = (group.accepted, group.reasons,
                                                            group.attributes)
                if offer is not None:
                    self.offers.setdefault(prefix, {})[key] = offer
                elif (candidates := self.offers.get(prefix)) is not None:
                    candidates.pop(key, None)
                    if not candidates:
                        del self.offers[prefix]
                touched.add(prefix)
        return touched

    def _forget(self, prefixes: set[str]) -> set[str]:
        """Drop the outcomes and candidates of routes that left the Adj-RIB-In."""
        for prefix in prefixes:
            present = self.rib.routes.get(prefix, {})
            for table in (self.verdicts, self.offers):
                known = table.get(prefix)
                if known is None:
                    continue
                for key in [k for k in known if k not in present]:
                    del known[key]
                if not known:
                    del table[prefix]
        return prefixes

    def _decide(self, position: Position, prefixes: set[str]) -> list[Output]:
        out = []
        for prefix in sorted(prefixes):
            candidates = self.offers.get(prefix, {})
            previous = self.decisions.get(prefix)
            if not candidates and previous is None:
                continue
            decision = decide_prefix(prefix, candidates, self.export)
            if decision == previous:
                continue
            if candidates:
                self.decisions[prefix] = decision
            else:
                del self.decisions[prefix]  # the Decision with no best withdraws it
            event = decision.to_event(self.stamper.header(), f"{position.event_id()}/{prefix}",
                                      position)
            out.append(Output(topics.DECISIONS, prefix, event))
        return out

    # --- data sets ----------------------------------------------------------------------

    def _dataset(self, position: Position, marker: DataSetMarker) -> list[Output]:
        new = _with(self.data, self.load(marker.kind, marker.name, marker.version))
        change = data_change(self.data, new)
        self.data = new
        return self._revalidate(position, change.affects)

    def _revalidate(self, position: Position, affects: Callable[..., bool]) -> list[Output]:
        out, touched = self._reverdict(position, affects)
        return out + self._decide(position, touched)

    def _reverdict(self, position: Position, affects: Callable[..., bool]
                   ) -> tuple[list[Output], set[str]]:
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
        touched: set[str] = set()
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
            touched |= self._remember(route.session, verdict)
            out.append(Output(topics.VERDICTS, route.session.peer_address, verdict))
        return out, touched


def _with(data: PolicyData, dataset: DataSet) -> PolicyData:
    if isinstance(dataset, VrpSet):
        return data.with_vrps(dataset)
    if isinstance(dataset, IrrSet):
        return data.with_irr([dataset])
    if isinstance(dataset, Bogons):
        return data.with_bogons(dataset)
    raise TypeError(f"not a data set: {type(dataset).__name__}")
