"""Export policy per client: which candidates a client may receive, and with which attributes.

It follows the export filter arouteserver writes for each BIRD client (`announce_to_<client>`),
in its order, with two additions that avoid path hiding (RFC 7948 §4.1): a client is never
offered a route from its own session, nor one whose AS_PATH holds its own ASN (it would drop
that one by loop detection, RFC 4271 §9.1.2), so the decision picks the next best instead.

Candidates are the routes the import policy accepted, with their post-policy attributes: the
blackhole policy (NEXT_HOP, NO_EXPORT) and GRACEFUL_SHUTDOWN (LOCAL_PREF) are already applied.
Pure: the policy is compiled from the configuration once, and each route is read once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace

from ixrs.config import Client, RouteServerConfig
from processors.control import (
    BLACKHOLE,
    NO_ADVERTISE,
    NO_EXPORT,
    NOTHING,
    Request,
    Requests,
    Rules,
)
from processors.decide import Candidate, candidate_values
from schemas.attributes import AsPathSegment, Attributes, SegmentType
from schemas.decoder import constructor
from schemas.events import Route

BOTH_FAMILIES = frozenset({4, 6})
NONE: frozenset[int] = frozenset()
# Every set of IP versions, one object each: offers share them rather than hold copies, which
# keeps the objects a decision reads few and in the CPU cache (measured: decide_prefix about
# 2 % faster).
_FAMILY_SETS = {s: s for s in (NONE, frozenset({4}), frozenset({6}), BOTH_FAMILIES)}
_MAX_SEGMENT = 255  # ASNs in one AS_PATH segment (RFC 4271 §4.3)


@dataclass(frozen=True, slots=True)
class Profile:
    """What a client's own settings change in its export, the same for every prefix.

    Clients that share a profile and that no route singles out receive equal attributes.
    """

    receives_blackholes: bool  # blackhole_filtering.announce_to_client
    prepend_rs_as: bool
    rtbh_std: tuple[int, int] | None = None  # blackhole_filtering.client_community
    rtbh_lrg: tuple[int, int, int] | None = None
    rtbh_replace: bool = False  # client_community.action == "replace"


@dataclass(frozen=True, eq=False)
class Peer:
    """One client session, as the export policy sees it. Compared by identity."""

    ip: str
    asn: int
    std_value: int | None  # what `peer_as` is in standard communities: the ASN or its mapping
    families: frozenset[int]  # IP versions its session carries
    profile: Profile
    settings: ExportSettings = field(repr=False)


@dataclass(frozen=True, eq=False)
class ExportSettings:
    """The route-server-wide part of the export policy."""

    rs_as: int
    rules: Rules
    interpret_well_known: bool  # rfc1997_wellknown_communities.policy == "rfc1997"
    blackhole_families: frozenset[int]  # IP versions with a blackhole_filtering policy
    blackhole_adds_no_export: bool


@dataclass(frozen=True, slots=True, eq=False)
class Offer(Candidate):
    """A candidate route read once against the export policy. Compared by identity.

    `ordinary_in` are the IP versions in which an ordinary client may receive it (see views).
    `excluded` are the clients that may never receive it: the client of its own session and
    the clients whose ASN is on its AS_PATH. `named` are the other clients its communities
    name for export (do-not-announce or announce to a peer). `styled` are the clients whose
    attributes a community on it changes (prepend, NO_EXPORT, NO_ADVERTISE towards a peer).
    `exceptions` are, per IP version, the clients whose session carries it and for which
    may_receive() differs from what an ordinary client gets: all of `excluded` if ordinary
    clients may receive it, and those of the others its communities or blackhole settings
    single out. They are found here, once per UPDATE, so that deciding a prefix does not ask
    the export policy about any client.
    """

    peer_address: str
    path_asns: frozenset[int]
    deny_any: bool  # do_not_announce_to_any
    blocked_in: frozenset[int]  # IP versions in which no client may receive it
    blackhole_in: frozenset[int]  # IP versions in which it is a blackhole route
    ordinary_in: frozenset[int]
    exceptions: dict[int, tuple[Peer, ...]]  # may be shared between offers: never changed
    denied: frozenset[str] = frozenset()
    allowed: frozenset[str] = frozenset()
    styled: frozenset[str] = frozenset()
    excluded: tuple[Peer, ...] = ()
    named: tuple[Peer, ...] = ()


# Offer's fields built by slot setters, Candidate's inherited ones included (analyze).
_new_offer = constructor(Offer)
assert _new_offer is not Offer, "Offer is built by slot setters (schemas.decoder.slot_setters)"
assert [f.name for f in fields(Offer)][len(fields(Candidate)):] == [
    "peer_address", "path_asns", "deny_any", "blocked_in", "blackhole_in", "ordinary_in",
    "exceptions", "denied", "allowed", "styled", "excluded", "named",
], "ExportPolicy.analyze gives Offer's fields in this order"
# Offer's denied, allowed, styled and named (ExportPolicy._named); as their defaults for a
# route whose communities name no client.
_Names = tuple[frozenset[str], frozenset[str], frozenset[str], tuple["Peer", ...]]
_NAMES_NONE: _Names = (frozenset(), frozenset(), frozenset(), ())

_STYLE = (Request.PREPEND_PEER, Request.NO_EXPORT_PEER, Request.NO_ADVERTISE_PEER)


@dataclass(frozen=True, eq=False)
class ExportPolicy:
    """The export policy of one configuration version; build it once with from_config().

    `Session.peer_address` is expected as the configuration writes a client's address (the
    compressed text form), which is how the speaker fills it in.
    """

    settings: ExportSettings = field(repr=False)
    peers: tuple[Peer, ...]
    by_ip: dict[str, Peer]
    by_asn: dict[int, tuple[Peer, ...]]
    by_std: dict[int, tuple[Peer, ...]]
    default_receives_blackholes: bool
    unusual: tuple[Peer, ...]  # clients whose blackhole reception is not general.yml's

    @classmethod
    def from_config(cls, config: RouteServerConfig) -> ExportPolicy:
        general = config.general
        bh = general.blackhole_filtering
        mapped = (c.mapped_16bit_asn for c in config.clients if c.mapped_16bit_asn)
        settings = ExportSettings(
            rs_as=general.rs_as,
            rules=Rules.build(general.communities, mapped),
            interpret_well_known=general.rfc1997_wellknown_communities.policy == "rfc1997",
            blackhole_families=frozenset(
                v for v, p in ((4, bh.policy_ipv4), (6, bh.policy_ipv6)) if p
            ),
            blackhole_adds_no_export=bh.add_noexport,
        )
        peers = tuple(sorted((_peer(c, settings) for c in config.clients), key=lambda p: p.ip))
        default = bh.announce_to_client
        return cls(
            settings=settings,
            peers=peers,
            by_ip={p.ip: p for p in peers},
            by_asn=_index(peers, lambda p: p.asn),
            by_std=_index(peers, lambda p: p.std_value),
            default_receives_blackholes=default,
            unusual=tuple(p for p in peers if p.profile.receives_blackholes != default),
        )

    def peer(self, ip: str) -> Peer | None:
        return self.by_ip.get(ip)

    def analyze(self, route: Route) -> Offer:
        """Read a route once: its decision values, its requests, the clients it concerns.

        It depends on the route only, not on the prefix: the prefixes of one UPDATE share it.
        """
        attrs = route.attributes
        settings = self.settings
        requests = settings.rules.read(attrs)
        # Attributes.path_asns() walks the path in a generator; a one-segment path (most
        # of them) gives the same ASNs in the same order straight from its tuple, and so
        # the same frozenset, iterated in the same order by _excluded().
        as_path = attrs.as_path
        path_asns = frozenset(as_path[0].asns if len(as_path) == 1 else attrs.path_asns())
        peer_address = route.session.peer_address
        excluded = self._excluded(peer_address, path_asns)
        if requests is NOTHING:
            # Communities that ask nothing (most routes): blocked nowhere, not a blackhole,
            # ordinary clients may receive it in both versions, no client named; what
            # the lines below work out for it, without the set arithmetic.
            blackhole_in = blocked_in = NONE
            deny_any = False
            ordinary_in = BOTH_FAMILIES
            denied, allowed, styled, named = _NAMES_NONE
        else:
            blackhole_in = settings.blackhole_families if requests.blackhole else NONE
            blocked_in = _FAMILY_SETS[_blocked_in(requests, blackhole_in, settings)]
            deny_any = (Request.DENY_ANY, 0) in requests.general
            ordinary_in = NONE if deny_any else BOTH_FAMILIES - blocked_in
            if not self.default_receives_blackholes:
                ordinary_in -= blackhole_in
            ordinary_in = _FAMILY_SETS[ordinary_in]
            denied, allowed, styled, named = (
                self._named(requests, excluded) if requests.named else _NAMES_NONE)
        # Clients other than `excluded` may see it otherwise than ordinary ones if it names
        # some for export, or if it is a blackhole and some have a blackhole setting of their own.
        singles_out = bool(named or (self.unusual and blackhole_in))
        if singles_out:
            exceptions: dict[int, tuple[Peer, ...]] = {}  # filled in below, from the offer
        else:
            exceptions = _usual_exceptions(excluded, ordinary_in)
        # Offer.of(route, ...) by slot setters (_new_offer): a frozen dataclass's __init__
        # with keywords costs twice as much, once per session and attribute set.
        offer = _new_offer(
            *candidate_values(route),
            peer_address,
            path_asns,
            deny_any,
            blocked_in,
            blackhole_in,
            ordinary_in,
            exceptions,
            denied,
            allowed,
            styled,
            excluded,
            named,
        )
        if singles_out:
            exceptions.update((v, self._exceptions(offer, v)) for v in BOTH_FAMILIES)
        return offer

    def _exceptions(self, offer: Offer, version: int) -> tuple[Peer, ...]:
        """Offer.exceptions in one IP version, asking may_receive() about every client the
        route singles out."""
        usual = version in offer.ordinary_in
        others = [*offer.named]
        if version in offer.blackhole_in:
            others += (p for p in self.unusual if p not in offer.excluded and p not in others)
        found = [*offer.excluded] if usual else []  # may_receive() refuses each of them
        found += (p for p in others if may_receive(p, offer, version) != usual)
        return tuple(p for p in found if version in p.families)

    def _excluded(self, address: str, path_asns: frozenset[int]) -> tuple[Peer, ...]:
        found: dict[Peer, None] = {}
        own = self.by_ip.get(address)
        if own is not None:
            found[own] = None
        for asn in path_asns:
            for peer in self.by_asn.get(asn, ()):
                found[peer] = None
        return tuple(found)

    def _named(self, requests: Requests, excluded: tuple[Peer, ...]) -> _Names:
        """The clients that the peer-scoped requests name, as Offer's fields denied,
        allowed, styled and named."""
        found: dict[Request, set[str]] = {}
        for (request, _), (std, value) in requests.named:
            peers = (self.by_std if std else self.by_asn).get(value, ())
            found.setdefault(request, set()).update(p.ip for p in peers)
        denied = frozenset(found.get(Request.DENY_PEER, ()))
        allowed = frozenset(found.get(Request.ALLOW_PEER, ()))
        named = (self.by_ip[ip] for ip in sorted(denied | allowed))
        return (
            denied,
            allowed,
            frozenset().union(*(found.get(r, ()) for r in _STYLE)),
            tuple(p for p in named if p not in excluded),
        )


@functools.lru_cache(maxsize=4096)
def _usual_exceptions(
    excluded: tuple[Peer, ...], ordinary_in: frozenset[int]
) -> dict[int, tuple[Peer, ...]]:
    """Offer.exceptions of a route no community names and no client sees otherwise for being a
    blackhole: only `excluded`, in the versions where ordinary clients may receive it. Many
    routes share it (those of one session without a client on their path); it is never
    changed."""
    return {
        v: tuple(p for p in excluded if v in p.families) if v in ordinary_in else ()
        for v in BOTH_FAMILIES
    }


def _peer(client: Client, settings: ExportSettings) -> Peer:
    bh = client.settings.blackhole_filtering
    community = bh.client_community
    # arouteserver tags blackhole routes for a client only if it receives them and some
    # family has a blackhole policy.
    used = bh.announce_to_client and bool(settings.blackhole_families)
    std = community.std.render() if used and community.std else None
    lrg = community.lrg.render() if used and community.lrg else None
    profile = Profile(
        receives_blackholes=bh.announce_to_client,
        prepend_rs_as=client.settings.prepend_rs_as,
        rtbh_std=std,  # type: ignore[arg-type]
        rtbh_lrg=lrg,  # type: ignore[arg-type]
        rtbh_replace=community.action == "replace" and bool(std or lrg),
    )
    std_value = client.asn if client.asn <= 0xFFFF else client.mapped_16bit_asn
    # A session carries its own address family; an IPv6 one carries IPv4 too with RFC 8950.
    families = {client.ip_version} | ({4} if client.settings.rfc8950 else set())
    return Peer(client.ip, client.asn, std_value, frozenset(families), profile, settings)


def _index(peers: Iterable[Peer], key: Callable[[Peer], int | None]) -> dict[int, tuple[Peer, ...]]:
    found: dict[int, tuple[Peer, ...]] = {}
    for peer in peers:
        value = key(peer)
        if value is not None:
            found[value] = (*found.get(value, ()), peer)
    return found


def _blocked_in(
    requests: Requests, blackhole_in: frozenset[int], settings: ExportSettings
) -> frozenset[int]:
    # arouteserver announces no RPKI-invalid route to any client (without hooks).
    if requests.rpki_invalid:
        return BOTH_FAMILIES
    if not settings.interpret_well_known:
        return frozenset()
    # rfc1997 policy: BIRD's `interpret communities` keeps NO_ADVERTISE routes from every peer,
    # and NO_EXPORT / NO_EXPORT_SUBCONFED routes from EBGP peers (all clients are EBGP).
    if requests.no_advertise:
        return BOTH_FAMILIES
    if not requests.no_export:
        return frozenset()
    # Import adds NO_EXPORT to blackhole routes (add_noexport); BIRD adds it on export, after
    # this check, so it must not stop them here.
    if settings.blackhole_adds_no_export:
        return BOTH_FAMILIES - blackhole_in
    return BOTH_FAMILIES


def may_receive(peer: Peer, offer: Offer, version: int) -> bool:
    """Whether the client may be sent this route, in a prefix of IP version `version`."""
    if version not in peer.families:
        return False
    # Never back to the session it came from, as no BGP speaker does (BIRD: "reject our routes").
    if offer.peer_address == peer.ip:
        return False
    # Never a path the client would drop by loop detection: offering it would hide the next best.
    if peer.asn in offer.path_asns:
        return False
    return passes(offer, version, peer.profile.receives_blackholes, peer.ip)


def passes(offer: Offer, version: int, receives_blackholes: bool, ip: str | None) -> bool:
    """The export filter's checks, in arouteserver's order; `ip` None is a client no
    community names."""
    if version in offer.blocked_in:
        return False
    if version in offer.blackhole_in and not receives_blackholes:
        return False
    # do_not_announce_to_peer first, then announce_to_peer, which overrides
    # do_not_announce_to_any (RFC 7948 §4.6.1 export control).
    if ip is not None and ip in offer.denied:
        return False
    if ip is not None and ip in offer.allowed:
        return True
    return not offer.deny_any


def export_attributes(route: Route, peer: Peer, version: int) -> Attributes:
    """The attributes the client is sent: NEXT_HOP, MED and the rest as received, except for
    what the control communities and the client's settings ask, in arouteserver's order."""
    return _export(route, peer.profile, peer.settings, version, (peer.std_value, peer.asn))


def profile_attributes(
    route: Route, profile: Profile, settings: ExportSettings, version: int
) -> Attributes:
    """What every client with this profile is sent when no community on the route names it.

    A client without a delta in a decision gets exactly this, so it can be computed once per
    route and profile (update groups)."""
    return _export(route, profile, settings, version, (None, None))


def _export(
    route: Route,
    profile: Profile,
    settings: ExportSettings,
    version: int,
    who: tuple[int | None, int | None],
) -> Attributes:
    attrs = route.attributes
    requests = settings.rules.read(attrs)
    path = _prepend_requested(attrs, requests, who)
    if profile.prepend_rs_as:
        path = _prepend(path, settings.rs_as, 1)
    communities = list(attrs.communities)
    if _asked(requests, who, Request.NO_EXPORT_ANY, Request.NO_EXPORT_PEER):
        _add(communities, NO_EXPORT)
    if _asked(requests, who, Request.NO_ADVERTISE_ANY, Request.NO_ADVERTISE_PEER):
        _add(communities, NO_ADVERTISE)
    scrub = settings.rules.scrub
    communities = list(scrub.communities(communities))
    large = list(scrub.large(attrs.large_communities))
    if requests.blackhole and version in settings.blackhole_families:
        _rtbh(profile, communities, large)
    return replace(
        attrs,
        as_path=path,
        communities=tuple(communities),
        large_communities=tuple(large),
        ext_communities=scrub.extended(attrs.ext_communities),
        local_pref=None,  # RFC 4271 §5.1.5: never sent to an external peer
    )


def _prepend_requested(
    attrs: Attributes, requests: Requests, who: tuple[int | None, int | None]
) -> tuple[AsPathSegment, ...]:
    # The first matching request wins, towards the peer before towards any, once before twice
    # before thrice; the left-most ASN is repeated (arouteserver's apply_prepend).
    times = requests.asks_about(Request.PREPEND_PEER, *who)
    times = times or requests.asks(Request.PREPEND_ANY)
    path = attrs.as_path
    # The left-most ASN is that of a leading AS_SEQUENCE; without one there is nothing to repeat
    # (BIRD's bgp_path.first would give 0 there, see docs/differences.md).
    if not times or not path or path[0].type != SegmentType.AS_SEQUENCE or not path[0].asns:
        return path
    return _prepend(path, path[0].asns[0], min(times))


def _prepend(path: tuple[AsPathSegment, ...], asn: int, times: int) -> tuple[AsPathSegment, ...]:
    head = path[0] if path else None
    if head and head.type == SegmentType.AS_SEQUENCE and len(head.asns) + times <= _MAX_SEGMENT:
        return (AsPathSegment(SegmentType.AS_SEQUENCE, (asn,) * times + head.asns), *path[1:])
    return (AsPathSegment(SegmentType.AS_SEQUENCE, (asn,) * times), *path)


def _asked(
    requests: Requests, who: tuple[int | None, int | None], to_any: Request, to_peer: Request
) -> bool:
    return bool(requests.asks(to_any) or requests.asks_about(to_peer, *who))


def _add(values: list, value: object) -> None:
    if value not in values:
        values.append(value)


def _rtbh(profile: Profile, communities: list, large: list) -> None:
    # The client's own blackhole community, added after scrubbing so that it stays.
    if profile.rtbh_std:
        _add(communities, profile.rtbh_std)
    if profile.rtbh_lrg:
        _add(large, profile.rtbh_lrg)
    if profile.rtbh_replace and profile.rtbh_std != BLACKHOLE and BLACKHOLE in communities:
        communities.remove(BLACKHOLE)
