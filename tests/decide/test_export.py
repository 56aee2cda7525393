"""Export policy: who may receive a route, and the attributes it is sent with.

Each test goes through decide_routes and outcome_for, so it checks what a client is really sent.
Sessions (tests/decide/build.py): A and A2 are AS20002, B AS3333, C AS196615, D AS8283.
"""

from __future__ import annotations

import pytest

from processors.control import BLACKHOLE, NO_ADVERTISE, NO_EXPORT, RPKI_INVALID_EXT, ext_value
from processors.export import ExportPolicy
from processors.views import decide_routes, outcome_for
from schemas.attributes import AsPathSegment, Attributes, SegmentType
from schemas.events import Route
from tests.decide.build import CLIENTS, PREFIX, PREFIX6, RS_AS, client_doc, path, policy, route
from tests.decide.strategies import ext_rt

A, A2, B, C, D = "192.0.2.2", "192.0.2.12", "192.0.2.3", "192.0.2.4", "192.0.2.5"
POLICY = policy()


def sent(
    routes: list[Route], ip: str, rs: ExportPolicy = POLICY, prefix: str = PREFIX
) -> tuple[Route | None, Attributes | None]:
    peer = rs.peer(ip)
    assert peer is not None
    return outcome_for(decide_routes(prefix, routes, rs), peer)


def receivers(routes: list[Route], chosen: Route, rs: ExportPolicy = POLICY) -> set[str]:
    """The clients that are sent `chosen`."""
    decision = decide_routes(PREFIX, routes, rs)
    return {p.ip for p in rs.peers if outcome_for(decision, p)[0] is chosen}


def first_asns(attrs: Attributes | None, count: int) -> tuple[int, ...]:
    assert attrs is not None
    return attrs.path_asns()[:count]


# Sessions and loops: no path hiding (RFC 7948 §4.1).


def test_never_back_to_its_own_session() -> None:
    best, second = route(A), route(D, 15169)
    assert sent([best, second], A)[0] is second
    assert sent([best, second], B)[0] is best


def test_never_a_path_with_the_clients_asn() -> None:
    best, second = route(D, 3333), route(C, 15169, 13335)
    assert sent([best, second], B)[0] is second
    assert sent([best, second], A)[0] is best


def test_an_as_set_with_the_clients_asn_is_a_loop_too() -> None:
    best, second = route(D, as_path=path(8283, as_set=(3333,))), route(C, 15169, 13335)
    assert sent([best, second], B)[0] is second


def test_another_router_of_the_same_as_gets_the_next_best() -> None:
    best, second = route(A), route(D, 15169)
    assert sent([best, second], A2)[0] is second


def test_nothing_when_nothing_is_receivable() -> None:
    assert sent([route(A)], A) == (None, None)


# do_not_announce_to_any, do_not_announce_to_peer, announce_to_peer (RFC 7948 §4.6.1).

DENY_ANY = [
    {"communities": ((0, RS_AS),)},
    {"large_communities": ((RS_AS, 0, 0),)},
    {"ext_communities": (ext_rt(0, RS_AS),)},
]


@pytest.mark.parametrize("tags", DENY_ANY, ids=["std", "lrg", "ext"])
def test_do_not_announce_to_any_gives_everyone_the_next_best(tags: dict) -> None:
    blocked, second = route(D, **tags), route(C, 15169)
    assert receivers([blocked, second], blocked) == set()
    assert receivers([blocked, second], second) == {A, A2, B, D, "192.0.2.6"}


@pytest.mark.parametrize(
    "tags",
    [
        {"communities": ((0, 3333),)},
        {"large_communities": ((RS_AS, 0, 3333),)},
        {"ext_communities": (ext_rt(0, 3333),)},
    ],
    ids=["std", "lrg", "ext"],
)
def test_do_not_announce_to_peer(tags: dict) -> None:
    best, second = route(D, **tags), route(C, 15169)
    assert sent([best, second], B)[0] is second
    assert sent([best, second], A)[0] is best


@pytest.mark.parametrize(
    "tags",
    [
        {"communities": ((0, RS_AS), (RS_AS, 3333))},
        {"large_communities": ((RS_AS, 0, 0), (RS_AS, 1, 3333))},
        {"ext_communities": (ext_rt(0, RS_AS), ext_rt(RS_AS, 3333))},
        {"communities": ((0, RS_AS),), "ext_communities": (ext_rt(RS_AS, 3333),)},
    ],
    ids=["std", "lrg", "ext", "mixed"],
)
def test_announce_to_peer_overrides_do_not_announce_to_any(tags: dict) -> None:
    only_b, second = route(D, **tags), route(C, 15169)
    assert receivers([only_b, second], only_b) == {B}


def test_do_not_announce_to_peer_beats_announce_to_peer() -> None:
    tagged = route(D, communities=((0, 3333), (RS_AS, 3333)))
    assert sent([tagged], B)[0] is None
    assert sent([tagged], A)[0] is tagged


def test_a_4_byte_asn_is_named_in_the_large_and_extended_forms() -> None:
    for tags in (
        {"large_communities": ((RS_AS, 0, 196615),)},
        {"ext_communities": (ext_rt(0, 196615),)},
    ):
        best, second = route(D, **tags), route(B, 15169)
        assert sent([best, second], C)[0] is second, tags
        assert sent([best, second], A)[0] is best, tags


def test_a_standard_community_cannot_name_a_4_byte_asn_without_a_mapping() -> None:
    # 196615 does not fit 16 bits; (0, 7) is AS7, not AS196615.
    best = route(D, communities=((0, 196615 & 0xFFFF),))
    assert sent([best], C)[0] is best


def test_16bit_mapped_asn_names_a_4_byte_client_in_standard_form() -> None:
    entries = [client_doc(ip, asn) for ip, asn in CLIENTS if asn != 196615]
    rs = policy([*entries, client_doc(C, 196615, mapped=64512)])
    only_c = route(D, communities=((0, RS_AS), (RS_AS, 64512)))
    assert receivers([only_c], only_c, rs) == {C}
    deny_c, second = route(D, communities=((0, 64512),)), route(B, 15169)
    assert sent([deny_c, second], C, rs)[0] is second


# Prepends: the left-most ASN, once to thrice, to any or to one peer.


@pytest.mark.parametrize("times", [1, 2, 3])
@pytest.mark.parametrize("form", ["std", "lrg"])
def test_prepend_to_any(times: int, form: str) -> None:
    tags = (
        {"communities": ((65500 + times, RS_AS),)}
        if form == "std"
        else {"large_communities": ((RS_AS, 100 + times, 0),)}
    )
    r = route(D, 15169, **tags)
    for ip in (A, B, C):
        assert sent([r], ip)[1].path_asns() == (8283,) * (times + 1) + (15169,)  # type: ignore[union-attr]


@pytest.mark.parametrize("times", [1, 2, 3])
@pytest.mark.parametrize("form", ["std", "lrg"])
def test_prepend_to_peer(times: int, form: str) -> None:
    tags = (
        {"communities": ((65500 + times, 3333),)}
        if form == "std"
        else {"large_communities": ((RS_AS, 100 + times, 3333),)}
    )
    r = route(D, 15169, **tags)
    assert sent([r], B)[1].path_asns() == (8283,) * (times + 1) + (15169,)  # type: ignore[union-attr]
    assert sent([r], A)[1].path_asns() == (8283, 15169)  # type: ignore[union-attr]


def test_prepend_to_a_4_byte_peer_in_large_form() -> None:
    r = route(D, large_communities=((RS_AS, 102, 196615),))
    assert first_asns(sent([r], C)[1], 3) == (8283, 8283, 8283)
    assert first_asns(sent([r], B)[1], 2) == (8283,)


def test_prepend_to_peer_wins_over_to_any_and_once_over_thrice() -> None:
    r = route(D, communities=((65503, 3333), (65501, 3333), (65502, RS_AS)))
    assert sent([r], B)[1].path_asns() == (8283, 8283)  # type: ignore[union-attr]
    assert sent([r], A)[1].path_asns() == (8283, 8283, 8283)  # type: ignore[union-attr]


def test_prepend_rs_as_goes_on_top_of_requested_prepends() -> None:
    entries = [client_doc(ip, asn) for ip, asn in CLIENTS if ip != B]
    rs = policy([*entries, client_doc(B, 3333, prepend_rs_as=True)])
    r = route(D, 15169, communities=((65501, RS_AS),))
    assert sent([r], B, rs)[1].path_asns() == (RS_AS, 8283, 8283, 15169)  # type: ignore[union-attr]
    assert sent([r], A, rs)[1].path_asns() == (8283, 8283, 15169)  # type: ignore[union-attr]


def test_prepend_keeps_one_segment_and_starts_a_new_one_when_full() -> None:
    r = route(D, communities=((65501, RS_AS),))
    assert sent([r], A)[1].as_path == (  # type: ignore[union-attr]
        AsPathSegment(SegmentType.AS_SEQUENCE, (8283, 8283)),
    )
    full = route(D, as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (8283,) * 255),))
    tagged = Route(
        full.session,
        Attributes(as_path=full.attributes.as_path, communities=((65501, RS_AS),)),
        full.router_id,
    )
    assert sent([tagged], A)[1].as_path[0].asns == (8283,)  # type: ignore[union-attr]


def test_no_prepend_without_a_left_most_asn() -> None:
    as_set = path(as_set=(8283, 15169))
    r = route(D, as_path=as_set, communities=((65502, RS_AS),))
    assert sent([r], A)[1].as_path == as_set  # type: ignore[union-attr]


# NO_EXPORT and NO_ADVERTISE, towards one peer or any.


@pytest.mark.parametrize(
    ("tags", "added"),
    [
        ({"communities": ((65504, 3333),)}, NO_EXPORT),
        ({"large_communities": ((RS_AS, 901, 3333),)}, NO_EXPORT),
        ({"communities": ((65505, 3333),)}, NO_ADVERTISE),
        ({"large_communities": ((RS_AS, 902, 3333),)}, NO_ADVERTISE),
    ],
)
def test_add_no_export_or_no_advertise_towards_a_peer(tags: dict, added: tuple) -> None:
    r = route(D, **tags)
    assert sent([r], B)[1].communities == (added,)  # type: ignore[union-attr]
    assert sent([r], A)[1].communities == ()  # type: ignore[union-attr]


def test_add_no_export_towards_a_4_byte_peer() -> None:
    r = route(D, large_communities=((RS_AS, 901, 196615),))
    assert sent([r], C)[1].communities == (NO_EXPORT,)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("tags", "added"),
    [
        ({"large_communities": ((RS_AS, 901, 0),)}, NO_EXPORT),
        ({"communities": ((65505, RS_AS),)}, NO_ADVERTISE),
    ],
)
def test_add_no_export_or_no_advertise_to_any(tags: dict, added: tuple) -> None:
    r = route(D, **tags)
    for ip in (A, B, C):
        assert sent([r], ip)[1].communities == (added,)  # type: ignore[union-attr]


def test_no_export_is_added_once() -> None:
    r = route(D, communities=(NO_EXPORT, (65504, 3333)))
    assert sent([r], B)[1].communities == (NO_EXPORT,)  # type: ignore[union-attr]


# Scrubbing, and what passes unchanged.


def test_control_and_internal_communities_are_scrubbed_the_rest_kept() -> None:
    r = route(
        D,
        communities=((0, 20940), (65501, 20940), (20002, 100), (0, 64600)),
        large_communities=(
            (RS_AS, 1, 20940),
            (RS_AS, 1000, 1),  # internal: RPKI valid
            (RS_AS, 65535, 7),  # internal with dyn_val: any value
            (RS_AS, 0, 196615),  # 4-byte peer
            (RS_AS, 2000, 1),  # outbound: stays
            (RS_AS, 0, 4200000001),  # not a public ASN: BIRD's ranges leave it
        ),
        ext_communities=(ext_rt(0, 20940), ext_rt(20002, 5), bytes((0x40, 2, 0, 1, 0, 0, 0, 1))),
    )
    attrs = sent([r], A)[1]
    assert attrs is not None
    # (0, 64600): a private ASN is never a peer, so BIRD's 1..64511 range does not scrub it.
    assert attrs.communities == ((20002, 100), (0, 64600))
    assert attrs.large_communities == ((RS_AS, 2000, 1), (RS_AS, 0, 4200000001))
    assert attrs.ext_communities == (ext_rt(20002, 5),)


def test_a_mapped_16bit_value_is_scrubbed() -> None:
    entries = [client_doc(ip, asn) for ip, asn in CLIENTS if asn != 196615]
    rs = policy([*entries, client_doc(C, 196615, mapped=64512)])
    r = route(D, communities=((0, 64512), (0, 64513)))
    assert sent([r], A, rs)[1].communities == ((0, 64513),)  # type: ignore[union-attr]


def test_next_hop_med_and_path_unchanged_local_pref_not_sent() -> None:
    r = route(D, 15169, med=50, local_pref=200, next_hop="192.0.2.55")
    attrs = sent([r], A)[1]
    assert attrs == Attributes(
        as_path=path(8283, 15169), next_hop="192.0.2.55", med=50, local_pref=None
    )


# Well-known communities (rfc1997_wellknown_communities).


@pytest.mark.parametrize("community", [NO_EXPORT, NO_ADVERTISE, (65535, 65283)])
def test_well_known_pass_through_by_default(community: tuple) -> None:
    r = route(D, communities=(community,))
    assert sent([r], A)[1].communities == (community,)  # type: ignore[union-attr]


@pytest.mark.parametrize("community", [NO_EXPORT, NO_ADVERTISE, (65535, 65283)])
def test_rfc1997_policy_keeps_them_from_every_client(community: tuple) -> None:
    rs = policy(rfc1997_wellknown_communities={"policy": "rfc1997"})
    blocked, second = route(D, communities=(community,)), route(C, 15169)
    assert receivers([blocked, second], blocked, rs) == set()
    assert sent([blocked, second], A, rs)[0] is second


def test_rfc1997_policy_still_announces_blackholes_import_tagged_no_export() -> None:
    rs = policy(
        rfc1997_wellknown_communities={"policy": "rfc1997"},
        blackhole_filtering={"policy_ipv4": "propagate-unchanged", "add_noexport": True},
    )
    r = route(D, communities=(BLACKHOLE, NO_EXPORT))
    assert sent([r], A, rs)[0] is r


# RPKI and blackholes.


@pytest.mark.parametrize(
    "tags",
    [{"ext_communities": (RPKI_INVALID_EXT,)}, {"large_communities": ((RS_AS, 1000, 4),)}],
    ids=["rfc8097", "internal"],
)
def test_rpki_invalid_is_never_announced(tags: dict) -> None:
    invalid, second = route(D, **tags), route(C, 15169)
    assert receivers([invalid, second], invalid) == set()


def test_client_that_refuses_blackholes_gets_the_next_best() -> None:
    entries = [client_doc(ip, asn) for ip, asn in CLIENTS if ip != B]
    rs = policy([*entries, client_doc(B, 3333, blackhole_filtering={"announce_to_client": False})])
    hole, second = route(D, communities=(BLACKHOLE,)), route(C, 15169)
    assert sent([hole, second], B, rs)[0] is second
    assert sent([hole, second], A, rs)[0] is hole


def test_blackhole_needs_a_policy_for_the_family() -> None:
    # general_doc sets a policy for IPv4 only: in IPv6 it is an ordinary route.
    refuse = {"blackhole_filtering": {"announce_to_client": False}}
    entries = [client_doc(ip, asn) for ip, asn in CLIENTS if ip != B]
    v6 = "2001:db8:1::3"
    rs = policy([*entries, client_doc(B, 3333, **refuse), client_doc(v6, 3333, **refuse)])
    hole = route(D, large_communities=((RS_AS, 666, 0),))
    assert sent([hole], v6, rs, PREFIX6)[0] is hole
    assert sent([hole], B, rs, PREFIX)[0] is None


@pytest.mark.parametrize(
    ("action", "expected"),
    [("add", (BLACKHOLE, (64999, 666))), ("replace", ((64999, 666),))],
)
def test_client_blackhole_community(action: str, expected: tuple) -> None:
    entries = [client_doc(ip, asn) for ip, asn in CLIENTS if ip != B]
    community = {"std": "64999:666", "lrg": "3333:666:0", "action": action}
    rs = policy(
        [*entries, client_doc(B, 3333, blackhole_filtering={"client_community": community})]
    )
    hole = route(D, communities=(BLACKHOLE,))
    attrs = sent([hole], B, rs)[1]
    assert attrs is not None
    assert attrs.communities == expected
    assert attrs.large_communities == ((3333, 666, 0),)
    assert sent([hole], A, rs)[1].communities == (BLACKHOLE,)  # type: ignore[union-attr]
    plain = route(D)
    assert sent([plain], B, rs)[1].communities == ()  # type: ignore[union-attr]


# Extended community values, as general.yml writes them.


def test_ext_value_reads_both_as_specific_encodings() -> None:
    assert ext_value(ext_rt(0, 196615)) == ("rt", 0, 196615)
    assert ext_value(ext_rt(196615, 7)) == ("rt", 196615, 7)
    assert ext_value(bytes((0, 3, 0, 1, 0, 0, 0, 2))) == ("ro", 1, 2)


def test_ext_value_refuses_other_types_and_non_canonical_forms() -> None:
    assert ext_value(RPKI_INVALID_EXT) is None
    assert ext_value(bytes((0x40, 2, 0, 1, 0, 0, 0, 2))) is None  # non-transitive
    assert ext_value(bytes((2, 2, 0, 0, 0, 1, 0, 2))) is None  # 4-octet form of a 16-bit AS


# Offer.exceptions: the clients that see a route otherwise than ordinary ones, read once.


def test_exceptions_are_the_clients_a_route_singles_out() -> None:
    def ips(r: Route, version: int = 4) -> set[str]:
        return {p.ip for p in POLICY.analyze(r).exceptions[version]}

    assert ips(route(D, 3333)) == {D, B}  # its own session, and AS3333 on the path
    assert ips(route(D, 3333), version=6) == set()  # no IPv6 session
    assert ips(route(D, communities=((0, 20002),))) == {D, A, A2}  # do not announce to AS20002
    # Announced to AS3333 only: B may receive it though ordinary clients may not.
    assert ips(route(D, communities=((0, RS_AS), (RS_AS, 3333)))) == {B}
    # Two plain routes of one session share one reading of their exceptions.
    one, two = POLICY.analyze(route(D, 15169)), POLICY.analyze(route(D, 13335))
    assert one.exceptions is two.exceptions
