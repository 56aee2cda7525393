"""What the import policy changes: LOCAL_PREF, GRACEFUL_SHUTDOWN, BLACKHOLE, scrubbing,
custom communities, and the reject-cause tagging of `reject_policy`."""

from __future__ import annotations

from typing import Any

import pytest

from processors.validate import PolicyData
from processors.validate.communities import BLACKHOLE, GRACEFUL_SHUTDOWN, NO_EXPORT, rfc8097
from processors.validate.rpki import VALID
from schemas.attributes import Attributes
from tests.validate.ixp import (
    RS_AS,
    client_cfg,
    client_policy,
    codes,
    data_with,
    irr,
    names,
    route,
    verdict,
    vrps,
)

V4 = "185.50.0.0/24"


def attrs_of(group: Any) -> Attributes:
    assert group.attributes is not None
    return group.attributes


# --- LOCAL_PREF and GRACEFUL_SHUTDOWN -------------------------------------------------------


def test_received_local_pref_is_ignored() -> None:
    group = verdict(client_policy(), route(local_pref=500), V4)
    assert attrs_of(group).local_pref == 100


def test_attributes_not_touched_by_policy_pass_through() -> None:
    attrs = route(20002, 3333, communities=[(20002, 100)], med=50)
    out = attrs_of(verdict(client_policy(), attrs, V4))
    assert (out.as_path, out.next_hop, out.med, out.communities) == (
        attrs.as_path,
        attrs.next_hop,
        50,
        ((20002, 100),),
    )


GSHUT = {"graceful_shutdown.enabled": True}


def test_graceful_shutdown_sets_local_pref_0() -> None:
    group = verdict(client_policy(GSHUT), route(communities=[GRACEFUL_SHUTDOWN]), V4)
    assert attrs_of(group).local_pref == 0
    assert GRACEFUL_SHUTDOWN in attrs_of(group).communities


def test_graceful_shutdown_local_pref_is_configurable() -> None:
    policy = client_policy({**GSHUT, "graceful_shutdown.local_pref": 7})
    assert attrs_of(verdict(policy, route(communities=[GRACEFUL_SHUTDOWN]), V4)).local_pref == 7


def test_graceful_shutdown_off_for_a_client_strips_the_community() -> None:
    cfg = {"graceful_shutdown": {"enabled": False}}
    policy = client_policy(GSHUT, clients=client_cfg(20002, "192.0.2.2", cfg))
    out = attrs_of(verdict(policy, route(communities=[GRACEFUL_SHUTDOWN, (20002, 1)]), V4))
    assert out.local_pref == 100
    assert out.communities == ((20002, 1),)


def test_graceful_shutdown_off_in_general_leaves_the_community() -> None:
    out = attrs_of(verdict(client_policy(), route(communities=[GRACEFUL_SHUTDOWN]), V4))
    assert out.local_pref == 100
    assert GRACEFUL_SHUTDOWN in out.communities


def test_routes_without_the_community_keep_the_default() -> None:
    assert attrs_of(verdict(client_policy(GSHUT), route(), V4)).local_pref == 100


# --- BLACKHOLE --------------------------------------------------------------------------------

BLACKHOLING = {
    "blackhole_filtering.policy_ipv4": "propagate-unchanged",
    "blackhole_filtering.policy_ipv6": "rewrite-next-hop",
    "blackhole_filtering.rewrite_next_hop_ipv6": "2001:db8:1::66",
    "communities.blackholing.lrg": "rs_as:666:0",
}


def test_a_blackhole_request_is_exempt_from_the_length_limit() -> None:
    group = verdict(client_policy(BLACKHOLING), route(communities=[BLACKHOLE]), "185.50.0.7/32")
    assert group.accepted and group.reasons == ()
    out = attrs_of(group)
    assert BLACKHOLE in out.communities and NO_EXPORT in out.communities
    assert out.next_hop == "192.0.2.2"  # propagate-unchanged


def test_the_local_blackholing_community_asks_too() -> None:
    attrs = route(large=[(RS_AS, 666, 0)])
    group = verdict(client_policy(BLACKHOLING), attrs, "185.50.0.7/32")
    assert group.reasons == ()
    assert BLACKHOLE in attrs_of(group).communities  # added, as RFC 7999 asks


def test_rewrite_next_hop_policy() -> None:
    policy = client_policy(BLACKHOLING, ip="2001:db8:1::2")
    attrs = route(next_hop="2001:db8:1::2", communities=[BLACKHOLE])
    out = attrs_of(verdict(policy, attrs, "2a0c:9a40::1/128"))
    assert out.next_hop == "2001:db8:1::66"
    assert NO_EXPORT in out.communities


def test_no_export_is_optional() -> None:
    policy = client_policy({**BLACKHOLING, "blackhole_filtering.add_noexport": False})
    out = attrs_of(verdict(policy, route(communities=[BLACKHOLE]), "185.50.0.7/32"))
    assert NO_EXPORT not in out.communities and BLACKHOLE in out.communities


def test_without_a_policy_for_the_family_blackholing_is_off() -> None:
    policy = client_policy({"blackhole_filtering.policy_ipv6": "propagate-unchanged"})
    group = verdict(policy, route(communities=[BLACKHOLE]), "185.50.0.7/32")
    assert names(group) == ["invalid_prefix_length"]
    assert NO_EXPORT not in attrs_of(group).communities


def test_a_blackhole_request_skips_rpki_and_graceful_shutdown() -> None:
    general = {**BLACKHOLING, **GSHUT, "filtering.rpki_bgp_origin_validation.enabled": True}
    data = PolicyData(vrps=vrps(("185.50.0.0/24", 24, 20940)))
    attrs = route(20002, 3333, communities=[BLACKHOLE, GRACEFUL_SHUTDOWN])
    group = verdict(client_policy(general), attrs, "185.50.0.7/32", data)
    assert group.accepted and group.reasons == ()
    assert attrs_of(group).local_pref == 100
    assert attrs_of(group).ext_communities == ()  # no RFC 8097 state: not validated


def test_a_blackhole_request_still_needs_to_pass_irr() -> None:
    # RFC 7999 §3.3: covered by a prefix the neighbour is authorized to advertise; with
    # arouteserver that takes allow_longer_prefixes.
    general = {**BLACKHOLING, "filtering.irrdb.enforce_prefix_in_as_set": True}
    data = data_with(sets=[irr("AS20002", prefixes=["185.50.0.0/24"])])
    attrs = route(communities=[BLACKHOLE])
    assert codes(verdict(client_policy(general), attrs, "185.50.0.7/32", data)) == [12]
    general["filtering.irrdb.allow_longer_prefixes"] = True
    assert verdict(client_policy(general), attrs, "185.50.0.7/32", data).reasons == ()


def test_a_blackhole_request_still_faces_the_earlier_checks() -> None:
    group = verdict(client_policy(BLACKHOLING), route(communities=[BLACKHOLE]), "10.0.0.1/32")
    assert names(group) == ["bogon"]


# --- scrubbing and custom communities ----------------------------------------------------

COMMUNITIES = {
    "communities.do_not_announce_to_peer.std": "0:peer_as",
    "communities.origin_present_in_as_set.std": "64512:11",
    "communities.rpki_bgp_origin_validation_valid.lrg": "rs_as:1000:1",
    "communities.reject_cause.lrg": "rs_as:65520:dyn_val",
    "communities.reject_cause_map.5.lrg": "rs_as:65521:5",
    "filtering.reject_policy.policy": "tag",
    "custom_communities.colo_fra.lrg": "rs_as:990:1",
    "custom_communities.colo_ams.std": "65501:2",
}


def test_the_route_servers_own_communities_are_scrubbed_on_import() -> None:
    attrs = route(
        communities=[(0, 3333), (64512, 11), (65501, 2)],
        large=[
            (RS_AS, 1000, 1),
            (RS_AS, 65520, 0),
            (RS_AS, 65521, 5),
            (RS_AS, 990, 1),
            (20002, 1, 1),
        ],
        ext=[rfc8097(VALID)],
    )
    out = attrs_of(verdict(client_policy(COMMUNITIES), attrs, V4))
    # Requests to the route server (inbound) stay for the export policy; its signals go.
    assert out.communities == ((0, 3333),)
    assert out.large_communities == ((20002, 1, 1),)
    assert out.ext_communities == ()


def test_custom_communities_are_attached() -> None:
    cfg = {"attach_custom_communities": ["colo_fra", "colo_ams"]}
    policy = client_policy(COMMUNITIES, clients=client_cfg(20002, "192.0.2.2", cfg))
    out = attrs_of(verdict(policy, route(), V4))
    assert (RS_AS, 990, 1) in out.large_communities
    assert (65501, 2) in out.communities


# --- reject_policy ----------------------------------------------------------------------------

TAGGING = {
    "communities.reject_cause.std": "65520:dyn_val",
    "communities.reject_cause.lrg": "rs_as:65520:dyn_val",
    "communities.reject_cause_map.2.lrg": "rs_as:65521:2",
    "communities.rejected_route_announced_by.std": "65524:dyn_val",
    "communities.rejected_route_announced_by.lrg": "rs_as:65524:dyn_val",
}


def _tagged(policy_name: str, prefix: str = "10.0.0.0/8", **kw: Any) -> Any:
    general = {**TAGGING, "filtering.reject_policy.policy": policy_name, **kw.pop("general", {})}
    attrs = kw.pop("attrs", route())
    return verdict(client_policy(general, **kw), attrs, prefix)


def test_reject_policy_reject() -> None:
    group = verdict(client_policy(), route(), "10.0.0.0/8")
    assert not group.accepted
    assert codes(group) == [2]
    assert attrs_of(group).local_pref == 100


def test_reject_policy_tag_keeps_the_route_tagged() -> None:
    group = _tagged("tag")
    assert group.accepted  # kept: never exported, because of reject_cause 0
    assert codes(group) == [2]
    out = attrs_of(group)
    assert out.local_pref == 1
    assert {(65520, 0), (65520, 2), (65524, 20002)} <= set(out.communities)
    assert {(RS_AS, 65520, 0), (RS_AS, 65520, 2), (RS_AS, 65521, 2), (RS_AS, 65524, 20002)} <= set(
        out.large_communities
    )


def test_reject_policy_tag_and_reject() -> None:
    group = _tagged("tag_and_reject")
    assert not group.accepted
    assert (RS_AS, 65520, 2) in attrs_of(group).large_communities
    assert attrs_of(group).local_pref == 1


def test_the_tag_carries_the_first_cause_in_chain_order() -> None:
    # Too long (13) and a bogon (2): the bogon check comes first in arouteserver's filter.
    group = _tagged("tag", "10.1.0.0/25")
    assert codes(group) == [2, 13]
    tags = {c for c in attrs_of(group).large_communities if c[1] == 65520}
    assert tags == {(RS_AS, 65520, 0), (RS_AS, 65520, 2)}
    assert (RS_AS, 65521, 2) in attrs_of(group).large_communities  # reject_cause_map 2


def test_passing_routes_are_not_tagged() -> None:
    group = _tagged("tag", V4)
    assert group.reasons == () and attrs_of(group).local_pref == 100
    assert not any(c[1] in (65520, 65524) for c in attrs_of(group).large_communities)


@pytest.mark.parametrize(("mapped", "std"), [(None, None), (64600, (65524, 64600))])
def test_announced_by_a_32_bit_asn(mapped: int | None, std: Any) -> None:
    client: dict[str, Any] = {"asn": 196615, "ip": "192.0.2.4"}
    if mapped:
        client["16bit_mapped_asn"] = mapped
    group = _tagged(
        "tag", clients=[client], ip="192.0.2.4", attrs=route(196615, next_hop="192.0.2.4")
    )
    out = attrs_of(group)
    assert (RS_AS, 65524, 196615) in out.large_communities
    assert [c for c in out.communities if c[0] == 65524] == ([std] if std else [])


def test_changes_after_the_first_failure_are_not_made() -> None:
    # BIRD's filter stops at the first failing check: a tagged bogon has no RPKI state,
    # a route refused at the RPKI step has it, and one refused for its length too.
    general = {
        "filtering.rpki_bgp_origin_validation.enabled": True,
        "graceful_shutdown.enabled": True,
    }
    data = PolicyData(vrps=vrps(("185.50.0.0/16", 24, 20940)))
    policy = client_policy({**TAGGING, **general, "filtering.reject_policy.policy": "tag"})
    attrs = route(20002, 3333, communities=[GRACEFUL_SHUTDOWN])
    bogon = attrs_of(verdict(policy, attrs, "10.0.0.0/8", data))
    assert bogon.ext_communities == ()
    invalid = attrs_of(verdict(policy, attrs, "185.50.0.0/24", data))
    assert invalid.ext_communities == (rfc8097(2),)
    too_long = attrs_of(
        verdict(policy, route(20002, 20940, communities=[GRACEFUL_SHUTDOWN]), "185.50.0.0/25", data)
    )
    assert too_long.ext_communities == (rfc8097(2),)  # invalid: too long for maxLength 24
    assert too_long.local_pref == 1  # tagged, not graceful shutdown's 0


def test_a_refused_route_gets_no_graceful_shutdown() -> None:
    # The filter never reaches honor_graceful_shutdown() for a route it refuses.
    policy = client_policy(GSHUT)
    group = verdict(policy, route(communities=[GRACEFUL_SHUTDOWN]), "185.50.0.0/25")
    assert not group.accepted
    assert attrs_of(group).local_pref == 100
