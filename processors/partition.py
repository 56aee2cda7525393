"""One routes partition's processing, from its events to its outputs. No Kafka.

The worker feeds it the events of one routes partition in log order, with their
positions, and writes out what it returns; replay feeds it the same events and gets
the same answers. It keeps the partition's Adj-RIB-In (:mod:`processors.ribin`) and
the current outcome of every route, and applies:

- ``ReceivedUpdates`` (``ReceivedRoutes`` in older logs): a ``Verdict`` with every reason
  (:func:`processors.validate.judge`) on the event's net change (:mod:`processors.received`);
- session-down and speaker-incarnation markers: the routes they end;
- ``DataSetMarker``: a new data-set version comes into force at exactly this point of
  the partition; the routes it may affect are re-validated, and only those whose
  outcome changes get a new ``Verdict``. A marker of kind ``config`` does the same for a
  new configuration version: every route is judged again, every candidate read again
  against the new export policy, and every prefix decided again. Because the change of
  configuration has a place in each partition's log, replay meets it at the same point.

Every prefix whose candidates changed is decided again (:mod:`processors.views`); a
decision is made only when the result differs from the one in force; the decisions of
one pass are one ``Decisions`` event (:mod:`schemas.decisions`).

``dirty`` collects the prefixes whose state changed since the owner last saved it
(:mod:`processors.store`); ``in_force`` names the data-set versions applied, so that a
saved state can be brought back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from ixrs import topics
from ixrs.eventlog import Stamper
from processors.datasets import DataSet, IrrSet, VrpSet
from processors.export import ExportPolicy, Offer
from processors.received import RoutesChange, routes_change
from processors.ribin import AdjRibIn, PeerKey, RibRoute, peer_key
from processors.validate import ImportPolicy, PolicyData, changed_groups, data_change, validate
from processors.validate.bogons import Bogons
from processors.validate.revalidate import PrefixOutcome
from processors.validate.verdict import judge
from processors.views import PrefixDecision, decide_prefix
from schemas.attributes import KEPT, Attributes, interned
from schemas.decoder import constructor
from schemas.events import (
    DataSetMarker,
    DecisionGroup,
    Decisions,
    EventHeader,
    Position,
    ReceivedRoutes,
    ReceivedUpdates,
    Route,
    Session,
    SessionChange,
    SpeakerIncarnation,
    Verdict,
    VerdictGroup,
)

# (kind, name, version) -> the data set; the worker reads them from the datasets topic.
DataSetLoader = Callable[[str, str, str], DataSet]
# configuration version -> its policies; the worker reads them from the config topic.
PolicyLoader = Callable[[str], "Policies"]


_NO_ROUTES: dict[PeerKey, RibRoute] = {}  # read only: a prefix with no routes
_NO_OFFERS: dict[PeerKey, Offer] = {}  # read only: a prefix with no candidates
_MEMO_LIMIT = 100_000  # entries of either memo; a full one is started again
_DATA_KEPT = 8  # combinations of data-set versions shared; each may hold a VRP set


@dataclass
class SharedCaches:
    """Memos whose entries are pure functions of their keys, so that the partitions of one
    worker can share them: a table's attribute set reaches several partitions (the speaker
    splits UPDATEs by prefix), and so does a candidate set (the routes of one origin AS).
    Each processor has its own unless its owner passes one in."""

    # in-force data-set versions, in the order they came in -> the policy data they make
    data: dict[tuple[tuple[tuple[str, str], str], ...], PolicyData] = field(
        default_factory=dict)
    # ids of (export policy, session, attribute set) -> these three, and the route read
    # against the policy (PartitionProcessor._offer)
    offers: dict[tuple[int, int, int], tuple[ExportPolicy, Session, Attributes, Offer]] = field(
        default_factory=dict)
    # (IP version, ids of the offers) -> the offers, kept so that their ids stay theirs,
    # and the decision
    decisions: dict[tuple[object, ...], tuple[tuple[Offer, ...], PrefixDecision]] = field(
        default_factory=dict)


@dataclass(frozen=True, slots=True)
class Policies:
    """Import and export policy compiled from one configuration version."""

    imports: ImportPolicy
    exports: ExportPolicy

    @property
    def version(self) -> str:
        return self.imports.version


class Output(NamedTuple):
    """What to write: an event, the topic and the key to write it with."""

    topic: topics.TopicSpec
    key: str
    event: object


# An Output is a NamedTuple so that one C call makes it (_new: measured in 40 % of the time
# the slot setters took for the frozen dataclass it was). A decision, built once per decided
# prefix (a table's every route), and a decision group by slot setters, in half the time of
# a frozen dataclass's __init__ (schemas.decoder.constructor).
_new = tuple.__new__
_new_decision = constructor(PrefixDecision)
_new_group = constructor(DecisionGroup)


@dataclass
class PartitionProcessor:
    partition: int
    policy: ImportPolicy
    load: DataSetLoader
    stamper: Stamper
    export: ExportPolicy
    load_policies: PolicyLoader | None = None
    data: PolicyData = field(default_factory=PolicyData)
    # (kind, name) -> version of every data set brought into force by a marker, in order
    in_force: dict[tuple[str, str], str] = field(default_factory=dict)
    rib: AdjRibIn = field(default_factory=AdjRibIn)
    # the outcome of every route in the Adj-RIB-In: prefix -> peer -> outcome
    verdicts: dict[str, dict[PeerKey, PrefixOutcome]] = field(default_factory=dict)
    # the candidates of the decision process: accepted routes, read by the export policy
    offers: dict[str, dict[PeerKey, Offer]] = field(default_factory=dict)
    decisions: dict[str, PrefixDecision] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    caches: SharedCaches = field(default_factory=SharedCaches, repr=False)

    def __post_init__(self) -> None:
        # Partitions without data sets in force share one (empty) PolicyData, and with it
        # its memo of validation batches.
        self.data = self.caches.data.setdefault(tuple(self.in_force.items()), self.data)

    def handle(self, position: Position, event: object) -> list[Output]:
        if isinstance(event, (ReceivedUpdates, ReceivedRoutes)):
            return self._routes(position, routes_change(event))
        if isinstance(event, (SessionChange, SpeakerIncarnation)):
            return self._decide(position, self._forget(self.rib.apply(event)))
        if isinstance(event, DataSetMarker):
            if event.kind == topics.CONFIG_MARKER:
                return self._configure(position, event.version)
            return self._dataset(position, event)
        return []

    def _routes(self, position: Position, change: RoutesChange) -> list[Output]:
        if self.rib.stale(change.session):
            return []  # a late event of a session or incarnation that is gone
        changed, lost = self.rib.apply_fresh(change)
        # Only a withdrawn prefix, or one of a session this event replaced, can have lost a
        # route: an announced prefix keeps every route it had (this session's is replaced,
        # not removed), and outcomes and candidates only exist for routes in the
        # Adj-RIB-In, so it has nothing to forget. Sparing _forget() the announcements
        # saves a table a look at two more dicts per prefix (a replaced session's prefix
        # announced again is looked at, and keeps what it has).
        if lost:
            self._forget(lost)
        verdict = judge(change, position, self.stamper.header(), self.policy, self.data)
        if verdict is None:
            return self._decide(position, changed)
        # The verdict's prefixes are the announced ones, all in `changed` already.
        self._record(change.session, verdict.groups)
        out = [_new(Output, (topics.VERDICTS, change.session.peer_address, verdict))]
        return out + self._decide(position, changed)

    def _remember(self, session: Session, verdict: Verdict) -> set[str]:
        """Record a verdict's outcomes and the candidates it makes or unmakes; the prefixes
        it names."""
        touched: set[str] = set()
        for group in verdict.groups:
            touched.update(group.prefixes)
        self._record(session, verdict.groups)
        return touched

    def _record(self, session: Session, groups: tuple[VerdictGroup, ...]) -> None:
        """Record the groups' outcomes and the candidates they make or unmake."""
        key = peer_key(session)
        verdicts, offers = self.verdicts, self.offers
        export, memo = self.export, self.caches.offers
        kept = KEPT
        for group in groups:
            # interned(), its first test inlined: validate's attribute sets are kept ones
            attributes = group.attributes
            if attributes is not None and kept.get(id(attributes)) is not attributes:
                attributes = interned(attributes)
            accepted, reasons = group.accepted, group.reasons
            # Per prefix, this loop is the hot path of a table: the outcome is one tuple
            # per group (immutable, so its prefixes share it), and a prefix's dict is made
            # only when it has none (setdefault(prefix, {}) builds an empty dict every time).
            outcome = (accepted, reasons, attributes)
            offer = None
            if accepted and not reasons and attributes is not None:
                # _offer(), its memo's hit inlined (once per group: about two prefixes)
                hit = memo.get((id(export), id(session), id(attributes)))
                if hit is not None and hit[0] is export and hit[1] is session \
                        and hit[2] is attributes:
                    offer = hit[3]
                else:
                    offer = self._offer(session, attributes)
            for prefix in group.prefixes:
                known = verdicts.get(prefix)
                if known is None:
                    verdicts[prefix] = {key: outcome}
                else:
                    known[key] = outcome
                candidates = offers.get(prefix)
                if offer is not None:
                    if candidates is None:
                        offers[prefix] = {key: offer}
                    else:
                        candidates[key] = offer
                elif candidates is not None:
                    candidates.pop(key, None)
                    if not candidates:
                        del offers[prefix]

    def _offer(self, session: Session, attributes: Attributes) -> Offer:
        """A route read against the export policy: once per session and attribute set, so
        that the prefixes sharing them share one Offer (and decisions can be memoised)."""
        # Keyed by identity: hashing a session and an attribute set by value costs more
        # than the lookup, and both are interned (the decoder and schemas.attributes), so
        # equal ones are almost always one object. A hit is checked to be these very
        # objects (an id can be reused once its object is gone); an equal but distinct
        # object only misses, and gets an Offer of its own.
        # The entry holds the three objects its key names, so that checking a hit reads
        # the entry alone (not the offer's route: two more objects to fetch from memory).
        # _record() inlines the hit: keep the two alike.
        offers = self.caches.offers
        export = self.export
        key = (id(export), id(session), id(attributes))
        hit = offers.get(key)
        if hit is not None and hit[0] is export and hit[1] is session \
                and hit[2] is attributes:
            return hit[3]
        if len(offers) >= _MEMO_LIMIT:
            offers.clear()
        offer = export.analyze(Route(session, attributes, session.router_id))
        offers[key] = (export, session, attributes, offer)
        return offer

    def _forget(self, prefixes: set[str]) -> set[str]:
        """Drop the outcomes and candidates of routes that left the Adj-RIB-In."""
        routes = self.rib.routes
        for prefix in prefixes:
            present = routes.get(prefix, _NO_ROUTES)
            for table in (self.verdicts, self.offers):
                known = table.get(prefix)
                if known is None:
                    continue
                if known.keys() <= present.keys():
                    continue  # all still have their route (an announcement): one C-level test
                for key in [k for k in known if k not in present]:
                    del known[key]
                if not known:
                    del table[prefix]
        return prefixes

    def _decide(self, position: Position, prefixes: set[str]) -> list[Output]:
        """Decide the prefixes again; the changed results as one Decisions event (the pass),
        prefixes with the same result in one group (schemas.decisions)."""
        self.dirty |= prefixes
        # Once per changed prefix (a table's every route): the state and the memo are
        # looked up once per call instead of once per prefix, and the decision memo is read
        # here (_decided() fills it).
        offers, decisions, memo = self.offers, self.decisions, self.caches.decisions
        # memo key -> the first decision made under it, and the prefixes given its result:
        # the memo gives the prefixes of one key one result, so the key is the group.
        groups: dict[tuple[object, ...], tuple[PrefixDecision, list[str]]] = {}
        for prefix in sorted(prefixes):
            candidates = offers.get(prefix, _NO_OFFERS)
            previous = decisions.get(prefix)
            # _memo_key(), inlined (keep the two the same).
            count = len(candidates)
            if count == 1:
                key: tuple[object, ...] = (":" in prefix, id(next(iter(candidates.values()))))
            elif count == 2:
                one, two = map(id, candidates.values())
                key = (":" in prefix, one, two) if one < two else (":" in prefix, two, one)
            elif count:
                key = (":" in prefix, *sorted(map(id, candidates.values())))
            elif previous is None:
                continue
            else:
                key = (":" in prefix,)
            hit = memo.get(key)
            if hit is None:
                decision = self._decided(prefix, candidates, key)
                if previous is not None and _unchanged(previous, decision):
                    continue
            else:
                # _unchanged() without building the decision first, its first tests inlined
                d = hit[1]
                if previous is not None and previous.candidates == d.candidates \
                        and previous.step == d.step and _unchanged(previous, d):
                    continue
                decision = _new_decision(prefix, d.best, d.step, d.candidates, d.outcomes)
            if count:
                decisions[prefix] = decision
            else:
                del decisions[prefix]  # the Decision with no best withdraws it
            group = groups.get(key)
            if group is None:
                groups[key] = (decision, [prefix])
            else:
                group[1].append(prefix)
        if not groups:
            return []
        event = Decisions(self._header(), position, tuple(
            _new_group(tuple(members), d.best, d.step, d.candidates, d.outcomes)
            for d, members in groups.values()))
        first = next(iter(groups.values()))[1][0]  # the smallest prefix decided
        return [_new(Output, (topics.DECISIONS, first, event))]

    def _decision(self, prefix: str, candidates: dict[PeerKey, Offer]) -> PrefixDecision:
        """decide_prefix(), memoised by candidate set: the prefixes of a table that share
        their candidates (same peers, same attribute sets: one origin AS, typically) are
        decided once. The result depends on the offers and the IP version only. (_decide()
        reads the memo itself; replay's settling processor and the store's restore call this.)"""
        key = _memo_key(prefix, candidates)
        hit = self.caches.decisions.get(key)
        if hit is not None:
            d = hit[1]
            return _new_decision(prefix, d.best, d.step, d.candidates, d.outcomes)
        return self._decided(prefix, candidates, key)

    def _decided(self, prefix: str, candidates: dict[PeerKey, Offer], key: tuple[object, ...]
                 ) -> PrefixDecision:
        """decide_prefix() for candidates not in the memo yet, and into it under `key`."""
        decision = decide_prefix(prefix, candidates, self.export)
        memo = self.caches.decisions
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        # the offers are kept with the result, so that their ids name them while it lives
        memo[key] = (tuple(candidates.values()), decision)
        return decision

    def _header(self) -> EventHeader:
        # partitions of one worker may be at different configuration versions for a while
        return self.stamper.header(self.policy.version)

    # --- data sets and configuration ----------------------------------------------------

    def _dataset(self, position: Position, marker: DataSetMarker) -> list[Output]:
        new = self.bring_into_force(marker.kind, marker.name, marker.version)
        change = data_change(self.data, new)
        self.data = new
        return self._revalidate(position, change.affects)

    def bring_into_force(self, kind: str, name: str, version: str) -> PolicyData:
        """The policy data with this data-set version in force (not yet applied)."""
        self.in_force.pop((kind, name), None)  # re-inserted last: the order they came in
        self.in_force[(kind, name)] = version
        key = tuple(self.in_force.items())
        known = self.caches.data
        data = known.get(key)
        if data is None:
            if len(known) >= _DATA_KEPT:  # a partition still on an old one keeps its own
                del known[next(iter(known))]
            data = known[key] = _with(self.data, self.load(kind, name, version))
        return data

    def _configure(self, position: Position, version: str) -> list[Output]:
        if version == self.policy.version or self.load_policies is None:
            return []
        policies = self.load_policies(version)
        self.policy, self.export = policies.imports, policies.exports
        # Offers are memoised per export policy, and decisions per offer: nothing to clear.
        out, touched = self._reverdict(position, lambda *_: True)
        # The export policy changed too: every candidate is read again, and every prefix
        # that has candidates or a decision in force is decided again.
        touched |= self.reoffer()
        return out + self._decide(position, touched | set(self.decisions))

    def reoffer(self) -> set[str]:
        """Read every accepted route again against the export policy in force."""
        self.offers = {}
        for prefix, known in self.verdicts.items():
            candidates = self.rib.routes.get(prefix, {})
            for key, (accepted, reasons, attributes) in known.items():
                route = candidates.get(key)
                if not accepted or reasons or attributes is None or route is None:
                    continue
                self.offers.setdefault(prefix, {})[key] = self._offer(route.session, attributes)
        return set(self.offers)

    def _revalidate(self, position: Position, affects: Callable[..., bool]) -> list[Output]:
        out, touched = self._reverdict(position, affects)
        return out + self._decide(position, touched)

    def _reverdict(self, position: Position, affects: Callable[..., bool]
                   ) -> tuple[list[Output], set[str]]:
        # Routes of one session that share an attribute set are validated as one batch.
        # Batches are formed by equal attributes and taken in a sorted order, so that a
        # processor restored from its store (other objects, another dict order) gives
        # exactly the verdicts of one that never stopped.
        batches: dict[tuple[PeerKey, Attributes], tuple[RibRoute, list[str]]] = {}
        for prefix, candidates in self.rib.routes.items():
            for key, route in candidates.items():
                client = self.policy.for_peer(route.session.peer_address)
                if client is None or not affects(client, self.data, prefix):
                    continue
                batch = batches.setdefault((key, route.attributes), (route, []))
                batch[1].append(prefix)
        ordered = sorted(
            ((key, route, sorted(prefixes)) for (key, _a), (route, prefixes) in batches.items()),
            key=lambda batch: (batch[0], batch[2][0]),
        )
        out: list[Output] = []
        touched: set[str] = set()
        for key, route, prefixes in ordered:
            client = self.policy.for_peer(route.session.peer_address)
            assert client is not None
            groups = validate(client, route.attributes, prefixes, self.data)
            previous = {p: self.verdicts.get(p, {}).get(key) for p in prefixes}
            moved = changed_groups(previous, groups)  # type: ignore[arg-type]
            if not moved:
                continue
            verdict = Verdict(
                self._header(),
                f"{position.event_id()}/{key[1]}/{prefixes[0]}",  # unique per batch
                position,
                route.session,
                moved,
                self.data.refs(client),
            )
            touched |= self._remember(route.session, verdict)
            out.append(Output(topics.VERDICTS, route.session.peer_address, verdict))
        return out, touched


def _unchanged(previous: PrefixDecision, decision: PrefixDecision) -> bool:
    """`previous == decision` for two decisions of one prefix (so their prefixes are equal),
    with the fields compared cheapest and likeliest to differ first, and the best routes
    compared without Route's and Session's generated __eq__ (Python calls, a churn's most
    frequent) unless they may be equal: identity first, as a tuple's comparison does, then
    the peer address, which tells two sessions apart."""
    if previous.candidates != decision.candidates or previous.step != decision.step:
        return False
    old, new = previous.best, decision.best
    if old is not new:
        if old is None or new is None:
            return False
        was, now = old.session, new.session
        if was is not now and (was.peer_address != now.peer_address or was != now):
            return False
        if old.attributes is not new.attributes and old.attributes != new.attributes:
            return False
        if old.router_id != new.router_id:
            return False
    return previous.outcomes == decision.outcomes


def _memo_key(prefix: str, candidates: dict[PeerKey, Offer]) -> tuple[object, ...]:
    """The decision memo's key: the IP version and the ids of the offers, sorted so that
    the prefixes with the same candidates share it whatever order those came in (one
    candidate: a table's first client, any churned prefix's usual case, needs no sort; two
    are put in order by one comparison). PartitionProcessor._decide() inlines it."""
    count = len(candidates)
    if count == 1:
        return (":" in prefix, id(next(iter(candidates.values()))))
    if count == 2:
        one, two = map(id, candidates.values())
        return (":" in prefix, one, two) if one < two else (":" in prefix, two, one)
    return (":" in prefix, *sorted(map(id, candidates.values())))


def _with(data: PolicyData, dataset: DataSet) -> PolicyData:
    if isinstance(dataset, VrpSet):
        return data.with_vrps(dataset)
    if isinstance(dataset, IrrSet):
        return data.with_irr([dataset])
    if isinstance(dataset, Bogons):
        return data.with_bogons(dataset)
    raise TypeError(f"not a data set: {type(dataset).__name__}")
