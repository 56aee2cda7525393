"""The chain as a whole: every reason, grouping, and the Verdict event a worker writes."""

from __future__ import annotations

from processors.validate import ImportPolicy, PolicyData, judge, validate
from schemas import codec
from schemas.events import Epoch, EventHeader, Position, ReceivedRoutes, Session, Verdict
from tests.validate.ixp import (
    client_policy,
    codes,
    data_with,
    irr,
    make_config,
    names,
    route,
    verdicts,
    vrps,
)

GOOD = ["185.50.0.0/24", "185.50.1.0/24", "185.50.2.0/24"]


def test_every_reason_is_listed_not_only_the_first() -> None:
    policy = client_policy(
        {
            "filtering.irrdb.enforce_prefix_in_as_set": True,
            "filtering.rpki_bgp_origin_validation.enabled": True,
        }
    )
    data = data_with(vrps(("10.0.0.0/8", 8, 64496)), [irr("AS20002")])
    group = verdicts(policy, route(3333, 20002, next_hop="192.0.2.9"), ["10.0.0.0/25"], data)
    assert names(group["10.0.0.0/25"]) == [
        "invalid_next_hop",
        "invalid_left_most_asn",
        "bogon",
        "prefix_not_in_as_set",
        "rpki_invalid",
        "invalid_prefix_length",
    ]
    assert codes(group["10.0.0.0/25"]) == [5, 6, 2, 12, 14, 13]


def test_prefixes_with_the_same_outcome_share_a_group() -> None:
    prefixes = [
        "185.50.0.0/24",
        "10.0.0.0/8",
        "185.50.1.0/24",
        "185.50.0.0/25",
        "10.1.0.0/16",
        "185.50.2.0/24",
    ]
    groups = validate(client_policy(), route(), prefixes, PolicyData())
    # In the order of their first prefix; the two bogons fail alike (same entry, same detail).
    assert [g.prefixes for g in groups] == [
        ("185.50.0.0/24", "185.50.1.0/24", "185.50.2.0/24"),
        ("10.0.0.0/8", "10.1.0.0/16"),
        ("185.50.0.0/25",),
    ]
    assert sorted(p for g in groups for p in g.prefixes) == sorted(prefixes)
    accepted = [g for g in groups if g.accepted]
    assert len(accepted) == 1 and accepted[0].reasons == ()


def test_the_attribute_set_is_shared_by_identical_outcomes() -> None:
    groups = validate(client_policy(), route(), GOOD, PolicyData())
    assert len(groups) == 1 and groups[0].prefixes == tuple(GOOD)


def _event(peer: str, announced: tuple[str, ...], attributes: object = None) -> ReceivedRoutes:
    session = Session("speaker-1", peer, 20002, Epoch("incarnation-1", 3))
    header = EventHeader("speaker-1", 41, 1_764_170_000_000_000)
    attrs = route() if attributes is None else attributes
    return ReceivedRoutes(header, session, 7, attrs, announced)  # type: ignore[arg-type]


HEADER = EventHeader("worker-1", 9, 1_764_170_000_000_001)
POSITION = Position("ixrs.routes", 3, 1234)


def test_judge_builds_the_verdict_event() -> None:
    config = make_config({"filtering.rpki_bgp_origin_validation.enabled": True})
    policy = ImportPolicy(config)
    data = data_with(vrps(("185.50.0.0/16", 24, 3333)))
    event = _event("192.0.2.2", ("185.50.0.0/24", "10.0.0.0/8"))
    verdict = judge(event, POSITION, HEADER, policy, data)
    assert isinstance(verdict, Verdict)
    assert verdict.event_id == "ixrs.routes:3:1234"
    assert verdict.input == POSITION and verdict.session == event.session
    assert verdict.header.config_version == config.version
    assert {(r.kind, r.name, r.version) for r in verdict.datasets} == {
        ("bogons", "bogons", data.bogons.version),
        ("rpki-vrps", "vrps", data.vrps.version),  # type: ignore[union-attr]
    }
    assert [(g.prefixes, g.accepted) for g in verdict.groups] == [
        (("185.50.0.0/24",), True),
        (("10.0.0.0/8",), False),
    ]
    assert codec.decode(codec.encode(verdict)) == verdict


def test_judge_cites_irr_lists_even_when_not_loaded() -> None:
    config = make_config(
        {"filtering.irrdb.enforce_origin_in_as_set": True},
        asns={"AS20002": {"as_sets": ["AS-EXAMPLE"]}},
    )
    data = data_with(sets=[irr("AS-EXAMPLE", asns=[3333])])
    verdict = judge(_event("192.0.2.2", tuple(GOOD)), POSITION, HEADER, ImportPolicy(config), data)
    assert verdict is not None
    refs = {r.name: r.version for r in verdict.datasets if r.kind == "irr-prefixes"}
    assert refs == {"AS20002": "", "AS-EXAMPLE": data.irr["AS-EXAMPLE"].version}


def test_judge_skips_withdrawals() -> None:
    event = _event("192.0.2.2", ())
    withdrawn = ReceivedRoutes(event.header, event.session, 8, None, (), ("185.50.0.0/24",))
    policy = ImportPolicy(make_config())
    assert judge(withdrawn, POSITION, HEADER, policy, PolicyData()) is None
    assert judge(event, POSITION, HEADER, policy, PolicyData()) is None


def test_judge_refuses_routes_of_a_session_that_is_not_a_client() -> None:
    verdict = judge(
        _event("192.0.2.77", tuple(GOOD)),
        POSITION,
        HEADER,
        ImportPolicy(make_config()),
        PolicyData(),
    )
    assert verdict is not None
    (group,) = verdict.groups
    assert not group.accepted and group.prefixes == tuple(GOOD)
    assert names(group) == ["not_a_client"] and codes(group) == [65535]


def test_judge_cites_vrps_used_as_route_objects() -> None:
    config = make_config(
        {
            "filtering.irrdb.enforce_prefix_in_as_set": True,
            "filtering.irrdb.use_rpki_roas_as_route_objects.enabled": True,
        }
    )
    data = data_with(vrps(("185.50.0.0/16", 24, 3333)), [irr("AS20002")])
    verdict = judge(_event("192.0.2.2", tuple(GOOD)), POSITION, HEADER, ImportPolicy(config), data)
    assert verdict is not None
    assert ("rpki-vrps", "vrps", data.vrps.version) in {  # type: ignore[union-attr]
        (r.kind, r.name, r.version) for r in verdict.datasets
    }
