"""IRR origin and prefix checks (causes 9 and 12), white lists, ROAs as route objects."""

from __future__ import annotations

from typing import Any

import pytest

from processors.validate import PolicyData
from schemas.attributes import AsPathSegment, SegmentType
from schemas.events import IrrPrefix
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

ENFORCE = {
    "filtering.irrdb.enforce_origin_in_as_set": True,
    "filtering.irrdb.enforce_prefix_in_as_set": True,
}
AS_SET = {"AS20002": {"as_sets": ["AS20002:AS-CUSTOMERS"]}}
CUSTOMERS = irr("AS20002:AS-CUSTOMERS", asns=[20002, 3333], prefixes=["185.50.0.0/24"])
DATA = data_with(sets=[CUSTOMERS])


def policy(general: dict[str, Any] | None = None, **kw: Any) -> Any:
    return client_policy({**ENFORCE, **(general or {})}, asns=kw.pop("asns", AS_SET), **kw)


def test_origin_and_prefix_in_the_as_set_pass() -> None:
    group = verdict(policy(), route(20002, 3333), "185.50.0.0/24", DATA)
    assert group.accepted and group.reasons == ()


def test_origin_not_in_the_as_set_is_cause_9() -> None:
    group = verdict(policy(), route(20002, 20940), "185.50.0.0/24", DATA)
    assert names(group) == ["origin_not_in_as_set"]
    assert codes(group) == [9]
    assert "AS20940" in group.reasons[0].detail
    assert "AS20002:AS-CUSTOMERS" in group.reasons[0].detail


def test_prefix_not_in_the_as_set_is_cause_12() -> None:
    group = verdict(policy(), route(20002, 3333), "185.51.0.0/24", DATA)
    assert names(group) == ["prefix_not_in_as_set"]
    assert codes(group) == [12]


def test_both_irr_failures_are_reported() -> None:
    group = verdict(policy(), route(20002, 20940), "185.51.0.0/24", DATA)
    assert codes(group) == [9, 12]


def test_the_clients_own_asn_is_always_an_allowed_origin() -> None:
    # arouteserver always adds the AS<asn> bundle, whose ASN list is the ASN itself.
    group = verdict(
        policy(),
        route(20002),
        "185.50.0.0/24",
        PolicyData().with_irr([irr("AS20002:AS-CUSTOMERS", prefixes=["185.50.0.0/24"])]),
    )
    assert group.reasons == ()


def test_the_asn_list_prefixes_count_too() -> None:
    own = irr("AS20002", prefixes=["185.60.0.0/24"])
    data = DATA.with_irr([own])
    assert verdict(policy(), route(20002), "185.60.0.0/24", data).reasons == ()


def test_an_origin_at_the_end_of_an_as_set_has_no_origin() -> None:
    path = (
        AsPathSegment(SegmentType.AS_SEQUENCE, (20002,)),
        AsPathSegment(SegmentType.AS_SET, (3333,)),
    )
    p = policy({"filtering.allow_as_set": True})
    group = verdict(p, route(segments=path), "185.50.0.0/24", DATA)
    assert names(group) == ["origin_not_in_as_set"]
    assert "none (AS_SET)" in group.reasons[0].detail


def test_more_specifics_need_allow_longer_prefixes() -> None:
    assert names(verdict(policy(), route(), "185.50.0.0/25", DATA)) == [
        "prefix_not_in_as_set",
        "invalid_prefix_length",
    ]
    longer = policy(
        {
            "filtering.irrdb.allow_longer_prefixes": True,
            "filtering.ipv4_pref_len": {"min": 8, "max": 32},
        }
    )
    assert verdict(longer, route(), "185.50.0.128/25", DATA).reasons == ()
    assert verdict(longer, route(), "185.50.0.7/32", DATA).reasons == ()
    # Still not a shorter prefix, nor a neighbour.
    assert names(verdict(longer, route(), "185.50.0.0/23", DATA)) == ["prefix_not_in_as_set"]
    assert names(verdict(longer, route(), "185.50.1.0/24", DATA)) == ["prefix_not_in_as_set"]


def test_aggregated_bgpq4_entries_use_their_range() -> None:
    entry = IrrPrefix("prefixes", "185.50.0.0/22", exact=False, ge=23, le=24)
    data = PolicyData().with_irr([irr("AS20002:AS-CUSTOMERS", asns=[3333], prefixes=[entry])])
    assert verdict(policy(), route(), "185.50.2.0/23", data).reasons == ()
    assert verdict(policy(), route(), "185.50.3.0/24", data).reasons == ()
    assert names(verdict(policy(), route(), "185.50.0.0/22", data)) == ["prefix_not_in_as_set"]


def test_the_clients_own_as_sets_replace_the_asns_section() -> None:
    clients = client_cfg(20002, "192.0.2.2", {"filtering": {"irrdb": {"as_sets": ["AS-OTHER"]}}})
    p = policy(clients=clients)
    assert p.irr is not None and p.irr.names == ("AS20002", "AS-OTHER")
    assert names(verdict(p, route(20002, 3333), "185.50.0.0/24", DATA)) == [
        "origin_not_in_as_set",
        "prefix_not_in_as_set",
    ]


def test_as_set_names_are_case_insensitive() -> None:
    p = policy(asns={"AS20002": {"as_sets": ["as20002:as-customers"]}})
    assert verdict(p, route(20002, 3333), "185.50.0.0/24", DATA).reasons == ()


def test_a_list_not_loaded_fails_and_says_so() -> None:
    group = verdict(policy(), route(20002, 3333), "185.50.0.0/24", PolicyData())
    assert codes(group) == [9, 12]
    assert "not loaded: AS20002, AS20002:AS-CUSTOMERS" in group.reasons[1].detail


def test_enforcement_can_be_turned_off_per_client() -> None:
    cfg = {"filtering": {"irrdb": {"enforce_origin_in_as_set": False}}}
    p = policy(clients=client_cfg(20002, "192.0.2.2", cfg))
    assert names(verdict(p, route(20002, 20940), "185.51.0.0/24", DATA)) == ["prefix_not_in_as_set"]


def test_white_list_pref_and_asn() -> None:
    cfg = {
        "filtering": {
            "irrdb": {
                "white_list_pref": [{"prefix": "185.51.0.0", "length": 16}],
                "white_list_asn": [20940],
            }
        }
    }
    p = policy(clients=client_cfg(20002, "192.0.2.2", cfg))
    assert verdict(p, route(20002, 20940), "185.51.7.0/24", DATA).reasons == ()
    assert names(verdict(p, route(20002, 13335), "185.51.7.0/24", DATA)) == ["origin_not_in_as_set"]


@pytest.mark.parametrize(("origin", "ok"), [(20940, True), (13335, False)])
def test_white_list_route_with_an_origin(origin: int, ok: bool) -> None:
    cfg = {
        "filtering": {
            "irrdb": {
                "white_list_route": [
                    {"prefix": "185.52.0.0", "length": 22, "le": 24, "asn": 20940}
                ],
            }
        }
    }
    p = policy(clients=client_cfg(20002, "192.0.2.2", cfg))
    group = verdict(p, route(20002, origin), "185.52.1.0/24", DATA)
    assert (group.reasons == ()) is ok
    if not ok:
        assert codes(group) == [9, 12]


def test_white_list_route_without_an_origin_validates_any() -> None:
    cfg = {
        "filtering": {
            "irrdb": {
                "white_list_route": [{"prefix": "185.52.0.0", "length": 22, "exact": True}],
            }
        }
    }
    p = policy(clients=client_cfg(20002, "192.0.2.2", cfg))
    assert verdict(p, route(20002, 13335), "185.52.0.0/22", DATA).reasons == ()
    assert codes(verdict(p, route(20002, 13335), "185.52.0.0/23", DATA)) == [9, 12]


ROAS = {"filtering.irrdb.use_rpki_roas_as_route_objects.enabled": True}


def test_a_roa_stands_in_for_a_route_object() -> None:
    data = data_with(vrps(("185.53.0.0/22", 24, 3333)), [CUSTOMERS])
    p = policy(ROAS)
    assert verdict(p, route(20002, 3333), "185.53.1.0/24", data).reasons == ()
    # Not when the route is RPKI INVALID (longer than the maxLength)...
    strict = data.with_vrps(vrps(("185.53.0.0/22", 22, 3333)))
    assert codes(verdict(p, route(20002, 3333), "185.53.1.0/24", strict)) == [12]
    # ...nor does a VALID route whose origin is not in the AS-SET.
    data = data.with_vrps(vrps(("185.53.0.0/22", 24, 20940)))
    assert codes(verdict(p, route(20002, 20940), "185.53.1.0/24", data)) == [9, 12]


def test_roas_are_not_route_objects_unless_enabled() -> None:
    data = data_with(vrps(("185.53.0.0/22", 24, 3333)), [CUSTOMERS])
    assert codes(verdict(policy(), route(20002, 3333), "185.53.1.0/24", data)) == [12]


TAGS = {
    "filtering.irrdb.tag_as_set": True,
    "communities.origin_present_in_as_set.lrg": "rs_as:64512:11",
    "communities.origin_not_present_in_as_set.lrg": "rs_as:64512:21",
    "communities.prefix_present_in_as_set.lrg": "rs_as:64512:12",
    "communities.prefix_not_present_in_as_set.lrg": "rs_as:64512:22",
    "communities.prefix_validated_via_rpki_roas.lrg": "rs_as:64512:31",
    "communities.route_validated_via_white_list.lrg": "rs_as:64512:41",
}


def _tags(general: dict[str, Any], *args: Any, **kw: Any) -> set[tuple[int, int, int]]:
    p = client_policy(general, asns=AS_SET, **kw)
    group = verdict(p, *args)
    assert group.attributes is not None
    return {c for c in group.attributes.large_communities if c[1] == 64512}


def test_tag_as_set_tags_without_enforcing() -> None:
    found = _tags(TAGS, route(20002, 3333), "185.50.0.0/24", DATA)
    assert found == {(RS_AS, 64512, 11), (RS_AS, 64512, 12)}
    found = _tags(TAGS, route(20002, 20940), "185.51.0.0/24", DATA)
    assert found == {(RS_AS, 64512, 21), (RS_AS, 64512, 22)}


def test_tag_as_set_off_adds_no_communities() -> None:
    general = {**TAGS, "filtering.irrdb.tag_as_set": False}
    assert _tags(general, route(20002, 3333), "185.50.0.0/24", DATA) == set()


def test_validated_routes_are_tagged_as_such() -> None:
    data = data_with(vrps(("185.53.0.0/22", 24, 3333)), [CUSTOMERS])
    found = _tags({**TAGS, **ROAS, **ENFORCE}, route(20002, 3333), "185.53.1.0/24", data)
    assert found == {(RS_AS, 64512, 11), (RS_AS, 64512, 22), (RS_AS, 64512, 31)}
    cfg = {"filtering": {"irrdb": {"white_list_route": [{"prefix": "185.52.0.0", "length": 24}]}}}
    found = _tags(
        {**TAGS, **ENFORCE},
        route(20002, 20940),
        "185.52.0.0/24",
        DATA,
        clients=client_cfg(20002, "192.0.2.2", cfg),
    )
    assert found == {(RS_AS, 64512, 21), (RS_AS, 64512, 22), (RS_AS, 64512, 41)}


def test_incoming_irr_tags_are_scrubbed() -> None:
    # A client cannot claim its route was validated: outbound communities are scrubbed.
    attrs = route(20002, 20940, large=[(RS_AS, 64512, 11), (RS_AS, 64512, 41)])
    found = _tags(TAGS, attrs, "185.51.0.0/24", DATA)
    assert found == {(RS_AS, 64512, 21), (RS_AS, 64512, 22)}


def test_no_irr_tags_when_an_earlier_check_failed() -> None:
    # BIRD's filter stops before verify_irrdb() for a bogon: a tagged bogon has no IRR tags.
    general = {
        **TAGS,
        "filtering.reject_policy.policy": "tag",
        "communities.reject_cause.lrg": "rs_as:65520:dyn_val",
    }
    assert _tags(general, route(20002, 3333), "10.0.0.0/8", DATA) == set()
    assert _tags(general, route(20002, 3333), "185.50.0.0/24", DATA) != set()


def test_tag_as_set_without_its_communities_needs_no_irr_data() -> None:
    p = client_policy({"filtering.irrdb.tag_as_set": True}, asns=AS_SET)
    assert p.irr is None
    assert client_policy(TAGS, asns=AS_SET).irr is not None
