"""Properties: passing routes have no reasons, reasons do not depend on the order of the
checks, the indexes answer as a brute-force scan would, data sets survive their events."""

from __future__ import annotations

import ipaddress
import random
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.datasets import from_events, irr_set, to_events, vrp_set
from processors.validate import CHAIN, PolicyData, validate
from processors.validate.client import ClientPolicy
from processors.validate.communities import BLACKHOLE, GRACEFUL_SHUTDOWN
from processors.validate.net import parse_prefix
from processors.validate.prefix_index import PrefixList, PrefixRule
from processors.validate.rpki import INVALID, NOT_FOUND, VALID, origin_validation
from schemas import codec
from schemas.attributes import AsPathSegment, Attributes, SegmentType
from schemas.events import EventHeader, IrrPrefix, VerdictGroup, Vrp
from tests.strategies import prefix_v4, prefix_v6
from tests.validate.ixp import client_policy, data_with, irr, vrps

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- a configured route server and its data -------------------------------------------------

GENERAL: dict[str, Any] = {
    "filtering.irrdb.enforce_origin_in_as_set": True,
    "filtering.irrdb.enforce_prefix_in_as_set": True,
    "filtering.irrdb.tag_as_set": True,
    "filtering.rpki_bgp_origin_validation.enabled": True,
    "filtering.transit_free.action": "reject",
    "filtering.transit_free.asns": "174, 3356",
    "filtering.never_via_route_servers.asns": "15169",
    "filtering.global_black_list_pref": [{"prefix": "185.50.9.0", "length": 24}],
    "graceful_shutdown.enabled": True,
    "blackhole_filtering.policy_ipv4": "propagate-unchanged",
    "blackhole_filtering.policy_ipv6": "propagate-unchanged",
    "communities.reject_cause.lrg": "rs_as:65520:dyn_val",
    "communities.origin_present_in_as_set.lrg": "rs_as:64512:11",
    "communities.prefix_not_present_in_as_set.lrg": "rs_as:64512:22",
    "communities.rpki_bgp_origin_validation_valid.lrg": "rs_as:1000:1",
}
ASNS = {"AS20002": {"as_sets": ["AS-EXAMPLE"]}}


@cache
def policy(reject_policy: str, ip: str = "192.0.2.2") -> ClientPolicy:
    general = {**GENERAL, "filtering.reject_policy.policy": reject_policy}
    if reject_policy == "reject":  # arouteserver allows reject_cause only when tagging
        del general["communities.reject_cause.lrg"]
    return client_policy(general, ip=ip, asns=ASNS)


REGISTERED_V4 = ["185.50.0.0/24", "185.50.1.0/24", "185.50.2.0/23", "193.0.0.0/21"]
REGISTERED_V6 = ["2a0c:9a40::/32", "2a0c:9a41::/48"]
DATA = data_with(
    vrps(("185.50.0.0/22", 24, 3333), ("193.0.0.0/21", 21, 20940), ("2a0c:9a40::/31", 48, 3333)),
    [irr("AS-EXAMPLE", [3333, 20940], REGISTERED_V4 + REGISTERED_V6)],
)

# --- strategies --------------------------------------------------------------------------------

PUBLIC = [3333, 20940, 13335, 196615, 8283]
ASNS_ANY = [*PUBLIC, 20002, 20003, 0, 23456, 64512, 65551, 4200000001, 174, 3356, 15169]
INTERESTING = [
    *REGISTERED_V4,
    "185.50.0.0/25",
    "185.50.9.0/24",
    "10.0.0.0/8",
    "192.0.2.0/24",
    "185.51.0.0/24",
    "0.0.0.0/0",
    *REGISTERED_V6,
    "2001:db8::/32",
    "fc00::/7",
    "2a0c:9a40::/64",
    "4000::/16",
]
COMMUNITIES = [GRACEFUL_SHUTDOWN, BLACKHOLE, (20002, 1), (0, 20003), (65535, 65281)]
LARGE = [(59900, 64512, 11), (59900, 65520, 0), (59900, 1000, 1), (20002, 1, 1)]

prefixes = st.lists(
    st.sampled_from(INTERESTING) | prefix_v4() | prefix_v6(), min_size=1, max_size=12
)
segment = st.builds(
    AsPathSegment,
    st.sampled_from([SegmentType.AS_SEQUENCE] * 4 + [SegmentType.AS_SET]),
    st.lists(st.sampled_from(ASNS_ANY), min_size=1, max_size=4).map(tuple),
)
any_route = st.builds(
    Attributes,
    as_path=st.lists(segment, max_size=3).map(tuple),
    next_hop=st.sampled_from(["192.0.2.2", "192.0.2.22", "192.0.2.3", "2001:db8:1::2"]),
    local_pref=st.none() | st.integers(0, 1000),
    communities=st.lists(st.sampled_from(COMMUNITIES), max_size=3, unique=True).map(tuple),
    large_communities=st.lists(st.sampled_from(LARGE), max_size=3, unique=True).map(tuple),
)


@st.composite
def good_route(draw: st.DrawFn) -> tuple[Attributes, list[str]]:
    """A route every check lets through: the peer first, public ASNs, a registered origin,
    its own next hop, registered prefixes that are RPKI valid or not found."""
    origin = draw(st.sampled_from([3333, 20940, 20002]))
    middle = draw(st.lists(st.sampled_from(PUBLIC), max_size=3))
    path = (20002, *middle, origin) if origin != 20002 else (20002,)
    # (prefix, origin) pairs that are VALID or NOT FOUND under DATA's VRPs.
    allowed = {
        3333: ["185.50.0.0/24", "185.50.1.0/24", "185.50.2.0/23"],
        20940: ["193.0.0.0/21"],
        20002: [],
    }[origin]
    chosen = draw(st.lists(st.sampled_from(allowed), unique=True)) if allowed else []
    communities = draw(st.lists(st.sampled_from([GRACEFUL_SHUTDOWN, (20002, 7)]), unique=True))
    attrs = Attributes(
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, path),),
        next_hop="192.0.2.2",
        communities=tuple(communities),
    )
    return attrs, chosen


# --- properties ------------------------------------------------------------------------------


def _tags(attrs: Attributes | None) -> set[tuple[int, int, int]]:
    assert attrs is not None
    return {c for c in attrs.large_communities if c[:2] == (59900, 65520)}


def _tagged(group: VerdictGroup, received: Attributes, mode: str) -> bool:
    """Whether the policy added reject-cause communities. When tagging, any the client sent
    are scrubbed; otherwise reject_cause is not configured, and a client's lookalike is just
    a community of its own, passed on."""
    if mode == "reject":
        return bool(_tags(group.attributes) - _tags(received))
    return bool(_tags(group.attributes))


@FAST
@given(good_route(), st.sampled_from(["reject", "tag", "tag_and_reject"]))
def test_a_route_that_passes_has_no_reasons(route: tuple[Attributes, list[str]], mode: str) -> None:
    attrs, chosen = route
    for group in validate(policy(mode), attrs, chosen, DATA):
        assert group.accepted and group.reasons == ()
        assert not _tagged(group, attrs, mode)


@FAST
@given(any_route, prefixes, st.sampled_from(["reject", "tag", "tag_and_reject"]))
def test_reasons_decide_acceptance_and_tagging(
    attrs: Attributes, texts: list[str], mode: str
) -> None:
    for group in validate(policy(mode), attrs, texts, DATA):
        assert group.attributes is not None
        if not group.reasons:
            assert group.accepted and not _tagged(group, attrs, mode)
            assert group.attributes.local_pref in (0, 100)
            continue
        assert group.accepted is (mode == "tag" and group.reasons[0].name != "malformed_prefix")
        assert _tagged(group, attrs, mode) is (mode != "reject")
        assert group.attributes.local_pref == (1 if mode != "reject" else 100)


def _by_prefix(groups: tuple[VerdictGroup, ...]) -> dict[str, tuple[object, ...]]:
    return {p: (g.accepted, g.reasons, g.attributes) for g in groups for p in g.prefixes}


@FAST
@given(any_route, prefixes, st.sampled_from(["reject", "tag"]), st.randoms(use_true_random=False))
def test_reasons_do_not_depend_on_the_order_of_the_checks(
    attrs: Attributes, texts: list[str], mode: str, rnd: random.Random
) -> None:
    reference = validate(policy(mode), attrs, texts, DATA)
    shuffled = list(CHAIN)
    rnd.shuffle(shuffled)
    assert _by_prefix(validate(policy(mode), attrs, texts, DATA, shuffled)) == _by_prefix(reference)
    # And each check alone finds what it finds in the whole chain.
    alone: dict[str, set[object]] = {p: set() for p in texts}
    for check in shuffled:
        for group in validate(policy(mode), attrs, texts, DATA, [check]):
            for p in group.prefixes:
                alone[p] |= set(group.reasons)
    whole = {p: set(g.reasons) for g in reference for p in g.prefixes}
    malformed = {
        p for p, found in whole.items() if any(r.name == "malformed_prefix" for r in found)
    }
    assert {p: r for p, r in alone.items() if p not in malformed} == {
        p: r for p, r in whole.items() if p not in malformed
    }


@FAST
@given(any_route, prefixes, st.sampled_from(["reject", "tag", "tag_and_reject"]))
def test_the_screened_chain_gives_exactly_what_its_checks_give_one_by_one(
    attrs: Attributes, texts: list[str], mode: str
) -> None:
    # validate() screens CHAIN's per-prefix checks in one loop (chain._screened) and runs
    # them only when one may fail; any other sequence of checks, even an equal list, is run
    # check by check. Same groups, in the same order, with the same reasons and attributes.
    screened = validate(policy(mode), attrs, texts, DATA)
    assert screened == validate(policy(mode), attrs, texts, DATA, list(CHAIN))


@FAST
@given(any_route, prefixes)
def test_every_prefix_gets_exactly_one_verdict(attrs: Attributes, texts: list[str]) -> None:
    groups = validate(policy("reject"), attrs, texts, DATA)
    assert sorted(p for g in groups for p in g.prefixes) == sorted(texts)


# --- indexes against brute force -------------------------------------------------------------


@st.composite
def rule(draw: st.DrawFn, v6: bool) -> PrefixRule:
    text = draw(prefix_v6() if v6 else prefix_v4())
    bits = 128 if v6 else 32
    length = parse_prefix(text).length
    ge = draw(st.integers(length, bits))
    le = draw(st.integers(ge, bits))
    return PrefixRule(text, ge, le)


def _within(route: str, rule_prefix: str) -> bool:
    a, b = ipaddress.ip_network(route), ipaddress.ip_network(rule_prefix)
    return a.version == b.version and a.subnet_of(b)  # type: ignore[arg-type]


def _near(draw: st.DrawFn, rules: list[PrefixRule], v6: bool) -> str:
    """A route prefix, often within one of the rules (random prefixes rarely are)."""
    if rules and draw(st.booleans()):
        base = ipaddress.ip_network(draw(st.sampled_from(rules)).prefix)
        extra = draw(st.integers(0, min(8, base.max_prefixlen - base.prefixlen)))
        subnets = list(base.subnets(prefixlen_diff=extra)) if extra else [base]
        return str(draw(st.sampled_from(subnets[:64])))
    return draw(prefix_v6() if v6 else prefix_v4())


@FAST
@given(st.data(), st.booleans(), st.booleans())
def test_prefix_list_matches_as_a_scan(data: st.DataObject, v6: bool, longer: bool) -> None:
    rules = data.draw(st.lists(rule(v6), max_size=8))
    route = _near(data.draw, rules, v6)
    bits = 128 if v6 else 32
    length = parse_prefix(route).length
    expected = any(
        _within(route, r.prefix) and r.ge <= length <= (bits if longer else r.le) for r in rules
    )
    assert (PrefixList(rules, longer=longer).match(parse_prefix(route)) is not None) is expected


def _rfc6811(entries: list[tuple[str, int, int]], route: str, origin: int | None) -> int:
    covering = [(p, m, a) for p, m, a in entries if _within(route, p)]
    if not covering:
        return NOT_FOUND
    length = ipaddress.ip_network(route).prefixlen
    if any(a == origin and length <= m and a != 0 for _, m, a in covering):
        return VALID
    return INVALID


@FAST
@given(st.data(), st.booleans())
def test_origin_validation_as_rfc6811_says(data: st.DataObject, v6: bool) -> None:
    bits = 128 if v6 else 32
    prefixes_ = data.draw(st.lists(prefix_v6() if v6 else prefix_v4(), min_size=1, max_size=6))
    entries = [
        (
            p,
            data.draw(st.integers(parse_prefix(p).length, bits)),
            data.draw(st.sampled_from([0, 3333, 20940])),
        )
        for p in prefixes_
    ]
    route = _near(data.draw, [PrefixRule(p, 0, bits) for p in prefixes_], v6)
    origin = data.draw(st.sampled_from([None, 3333, 20940]))
    state = origin_validation(vrps(*entries).index, parse_prefix(route), origin)
    assert state == _rfc6811(entries, route, origin)


# --- data sets through their events ---------------------------------------------------------

HEADER = EventHeader("load", 1, 1)


@FAST
@given(
    st.lists(
        st.tuples(
            prefix_v4() | prefix_v6(),
            st.integers(0, 4),
            st.integers(0, 2**32 - 1),
            st.sampled_from(["ripe", "arin", ""]),
        ),
        max_size=80,
    ),
    st.integers(600, 4000),
)
def test_vrp_sets_round_trip_through_chunk_events(
    raw: list[tuple[str, int, int, str]], max_bytes: int
) -> None:
    original = vrp_set(
        Vrp(p, min(parse_prefix(p).length + extra, 128 if ":" in p else 32), asn, ta)
        for p, extra, asn, ta in raw
    )
    chunks, manifest = to_events(original, HEADER, max_bytes)
    wire = [codec.decode(codec.encode(c)) for c in chunks]
    assert all(len(codec.encode(c)) <= max_bytes for c in chunks)
    back = from_events(codec.decode(codec.encode(manifest)), wire[::-1])
    assert back.version == original.version and back.vrps == original.vrps  # type: ignore[union-attr]


@FAST
@given(
    st.lists(st.integers(1, 2**32 - 1), max_size=20),
    st.lists(st.tuples(prefix_v4() | prefix_v6(), st.booleans(), st.integers(0, 3)), max_size=40),
)
def test_irr_sets_round_trip_through_chunk_events(
    asns: list[int], raw: list[tuple[str, bool, int]]
) -> None:
    entries = []
    for p, exact, extra in raw:
        length, bits = parse_prefix(p).length, 128 if ":" in p else 32
        top = min(length + extra, bits)
        entries.append(
            IrrPrefix("prefixes", p) if exact else IrrPrefix("prefixes", p, False, top, top)
        )
    original = irr_set("AS64496:AS-A-RATHER-LONG-NAME-FOR-A-CUSTOMER-CONE", asns, entries)
    chunks, manifest = to_events(original, HEADER, 700)
    assert all(len(codec.encode(c)) <= 700 for c in chunks)
    back = from_events(manifest, [codec.decode(codec.encode(c)) for c in chunks])
    assert back.version == original.version
    assert back.asns == original.asns and back.prefixes == original.prefixes  # type: ignore[union-attr]
    assert PolicyData().with_irr([back]).irr[original.name] is back
