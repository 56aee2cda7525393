"""The speaker over real TCP on loopback, publishing to the real embedded broker."""

from __future__ import annotations

import signal

from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import (
    PeerNotice,
    RawUpdate,
    ReceivedRoutes,
    SessionChange,
    SessionState,
    SpeakerIncarnation,
)
from speaker.codec import (
    CeaseSubcode,
    ErrorCode,
    MpReach,
    OpenSubcode,
    Update,
    encode,
)
from tests.helpers import per_update, wait_for
from tests.speaker.bgpclient import BgpTestClient
from tests.speaker.conftest import PARTITIONS, RunningSpeaker, start_speaker


def _attrs(asn: int, nh: str = "127.0.0.2", **extra: object) -> Attributes:
    return Attributes(origin=Origin.IGP, next_hop=nh,
                      as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (asn, 3333)),), **extra)


def _routes(speaker: RunningSpeaker, address: str) -> list[ReceivedRoutes]:
    return [e for e in per_update(speaker.events("routes"))
            if isinstance(e, ReceivedRoutes) and e.session.peer_address == address]


def _states(speaker: RunningSpeaker, address: str) -> list[SessionState]:
    return [e.state for e in speaker.events("sessions", 1)
            if isinstance(e, SessionChange) and e.session.peer_address == address]


def test_announce_and_withdraw_with_exact_attributes(speaker: RunningSpeaker) -> None:
    client = BgpTestClient("127.0.0.2", speaker.address, 20002)
    client.establish()
    attrs = _attrs(20002, med=50, communities=((20002, 100),),
                   large_communities=((20002, 1, 2),))
    update = Update(attributes=attrs, nlri=("185.50.0.0/24", "185.50.1.0/24"))
    client.announce(update)
    events = wait_for(lambda: _routes(speaker, "127.0.0.2"), 15, "the routes")
    assert sorted(p for e in events for p in e.announced) == ["185.50.0.0/24", "185.50.1.0/24"]
    assert {e.attributes for e in events} == {attrs}
    assert {e.session.router_id for e in events} == {"127.0.0.2"}  # from the client's OPEN
    [raw] = [e for e in per_update(speaker.events("raw-updates")) if isinstance(e, RawUpdate)]
    from speaker.codec import encode

    assert raw.raw == encode(update, client.negotiated)
    assert {e.update_seq for e in events} == {raw.update_seq}

    client.announce(Update(withdrawn=("185.50.0.0/24",)))
    wait_for(lambda: any("185.50.0.0/24" in e.withdrawn for e in _routes(speaker, "127.0.0.2")),
             15, "the withdrawal")
    client.close()


def test_ipv6_and_four_octet_asn(speaker: RunningSpeaker) -> None:
    client = BgpTestClient("127.0.0.4", speaker.address, 196615)
    client.establish()
    attrs = Attributes(origin=Origin.IGP,
                       as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (196615, 212232)),))
    client.announce(Update(attributes=attrs,
                           mp_reach=MpReach(2, 1, "2001:db8:1::4", "fe80::4", ("2a0c:9a40::/32",))))
    [event] = wait_for(lambda: _routes(speaker, "127.0.0.4"), 15, "the IPv6 route")
    assert event.announced == ("2a0c:9a40::/32",)
    assert event.attributes.next_hop == "2001:db8:1::4"
    assert event.attributes.next_hop_link_local == "fe80::4"
    assert event.attributes.path_asns() == (196615, 212232)
    client.close()


def test_two_octet_peer_gets_its_four_octet_path_back(speaker: RunningSpeaker) -> None:
    client = BgpTestClient("127.0.0.3", speaker.address, 20003, four_octet=False)
    client.establish()
    assert not client.negotiated.four_octet_as
    attrs = Attributes(origin=Origin.IGP, next_hop="127.0.0.3",
                       as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (20003, 196615)),))
    client.announce(Update(attributes=attrs, nlri=("185.51.0.0/24",)))  # AS_TRANS + AS4_PATH
    [event] = wait_for(lambda: _routes(speaker, "127.0.0.3"), 15, "the route")
    assert event.attributes.path_asns() == (20003, 196615)
    client.close()


def test_unknown_address_is_rejected_and_recorded(speaker: RunningSpeaker) -> None:
    client = BgpTestClient("127.0.0.99", speaker.address, 20099).connect()
    note = client.expect_notification()
    assert (note.code, note.subcode) == (ErrorCode.CEASE, CeaseSubcode.CONNECTION_REJECTED)
    client.expect_closed()
    wait_for(lambda: [e for e in speaker.events("sessions", 1) if isinstance(e, PeerNotice)
                      and e.kind == "connection-rejected" and e.peer_address == "127.0.0.99"],
             15, "the notice")


def test_wrong_as_gets_bad_peer_as(speaker: RunningSpeaker) -> None:
    client = BgpTestClient("127.0.0.2", speaker.address, 20003)
    client.connect()
    client.send_message(client.open_message)
    note = client.expect_notification()
    assert (note.code, note.subcode) == (ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS)
    wait_for(lambda: [e for e in speaker.events("sessions", 1) if isinstance(e, PeerNotice)
                      and e.kind == "bad-peer-as"], 15, "the notice")


def test_scanner_notices_are_rate_limited(speaker: RunningSpeaker) -> None:
    for _ in range(10):
        client = BgpTestClient("127.0.0.98", speaker.address, 1).connect()
        client.expect_notification()
        client.close()
    notices = wait_for(lambda: [e for e in speaker.events("sessions", 1)
                                if isinstance(e, PeerNotice) and e.peer_address == "127.0.0.98"],
                       15, "notices")
    assert 1 <= len(notices) <= 3, "a scanner must not flood the log"


def test_session_down_marker_follows_the_routes_in_every_partition(
        speaker: RunningSpeaker) -> None:
    client = BgpTestClient("127.0.0.2", speaker.address, 20002)
    client.establish()
    prefixes = tuple(f"185.52.{i}.0/24" for i in range(32))
    client.announce(Update(attributes=_attrs(20002), nlri=prefixes))
    wait_for(lambda: len([p for e in _routes(speaker, "127.0.0.2") for p in e.announced]) == 32,
             15, "the routes")
    client.close()  # TCP closed: the session goes down
    def ends_with_marker(partition: int) -> list[object] | None:
        events = per_update(speaker.partition_events("routes", partition))
        return events if isinstance(events[-1], SessionChange) else None

    for partition in range(PARTITIONS):
        events = wait_for(lambda p=partition: ends_with_marker(p), 15, "the marker")
        marker = events[-1]
        assert marker.state == SessionState.IDLE
        assert marker.previous_state == SessionState.ESTABLISHED
        assert all(not isinstance(e, ReceivedRoutes) for e in events[events.index(marker):])


def test_reconnect_gets_a_new_epoch(speaker: RunningSpeaker) -> None:
    epochs = []
    for round_ in range(2):
        client = BgpTestClient("127.0.0.2", speaker.address, 20002)
        client.establish()
        client.announce(Update(attributes=_attrs(20002), nlri=("185.53.0.0/24",)))
        wait_for(lambda n=round_: len(_routes(speaker, "127.0.0.2")) > n, 15, "routes")
        client.close()
        wait_for(lambda n=round_: _states(speaker, "127.0.0.2").count(SessionState.IDLE) > n,
                 15, "session down")
        epochs.append(_routes(speaker, "127.0.0.2")[-1].session.epoch)
    assert epochs[0] != epochs[1]


def test_max_prefix_shutdown(speaker: RunningSpeaker) -> None:
    client = BgpTestClient("127.0.0.5", speaker.address, 20005)
    client.establish()
    # One write: the UPDATE over the limit, then one more, read together by the speaker.
    over = Update(attributes=_attrs(20005, "127.0.0.5"),
                  nlri=tuple(f"185.54.{i}.0/24" for i in range(4)))
    after = Update(attributes=_attrs(20005, "127.0.0.5"), nlri=("185.54.9.0/24",))
    client.send(encode(over, client.negotiated) + encode(after, client.negotiated))
    note = client.expect_notification()
    assert (note.code, note.subcode) == (ErrorCode.CEASE, CeaseSubcode.MAX_PREFIXES_REACHED)
    assert note.data == b"\x00\x01\x01\x00\x00\x00\x03"  # AFI 1, SAFI 1, limit 3 (RFC 4486)
    wait_for(lambda: [e for e in speaker.events("sessions", 1) if isinstance(e, PeerNotice)
                      and e.kind == "max-prefix" and e.action == "shutdown"], 15, "the notice")
    # "shutdown" stays down: the client is refused when it comes back, not re-admitted
    # (it would announce the same routes and be shut down again, over and over).
    again = BgpTestClient("127.0.0.5", speaker.address, 20005).connect()
    note = again.expect_notification()
    assert (note.code, note.subcode) == (ErrorCode.CEASE, CeaseSubcode.CONNECTION_REJECTED)
    # The routes of the read that were within the limit are published before the session's
    # down marker in every partition, and nothing of the session follows the marker: routes
    # after it would outlive the session in the processors.
    for partition in range(PARTITIONS):
        events = wait_for(lambda p=partition: [
            e for e in per_update(speaker.partition_events("routes", p))
            if isinstance(e, (ReceivedRoutes, SessionChange))
            and e.session.peer_address == "127.0.0.5"] or None,
            15, "the marker")
        assert isinstance(events[-1], SessionChange), events[-1]
    assert "185.54.9.0/24" not in [p for e in _routes(speaker, "127.0.0.5") for p in e.announced]


def test_max_prefix_block_refuses_the_excess(speaker: RunningSpeaker) -> None:
    client = BgpTestClient("127.0.0.6", speaker.address, 20006)
    client.establish()
    client.announce(Update(attributes=_attrs(20006, "127.0.0.6"),
                           nlri=tuple(f"185.55.{i}.0/24" for i in range(5))))
    wait_for(lambda: [e for e in speaker.events("sessions", 1) if isinstance(e, PeerNotice)
                      and e.kind == "max-prefix" and e.action == "block"], 15, "the notice")
    announced = [p for e in _routes(speaker, "127.0.0.6") for p in e.announced]
    assert len(announced) == 3
    client.keepalive()  # the session stays up
    client.announce(Update(attributes=_attrs(20006, "127.0.0.6"), nlri=("185.55.0.0/24",)))
    assert SessionState.IDLE not in _states(speaker, "127.0.0.6")
    client.close()


def test_max_prefix_restart_refuses_until_the_delay(speaker: RunningSpeaker) -> None:
    client = BgpTestClient("127.0.0.7", speaker.address, 20007)
    client.establish()
    client.announce(Update(attributes=_attrs(20007, "127.0.0.7"),
                           nlri=tuple(f"185.56.{i}.0/24" for i in range(4))))
    assert client.expect_notification().subcode == CeaseSubcode.MAX_PREFIXES_REACHED
    again = BgpTestClient("127.0.0.7", speaker.address, 20007).connect()
    note = again.expect_notification()
    assert (note.code, note.subcode) == (ErrorCode.CEASE, CeaseSubcode.CONNECTION_REJECTED)


def test_hold_timer_expires_for_a_silent_peer(speaker: RunningSpeaker) -> None:
    client = BgpTestClient("127.0.0.8", speaker.address, 20008, hold_time=3)
    client.establish()
    note = client.expect_notification(timeout=10)  # we never send a KEEPALIVE again
    assert note.code == ErrorCode.HOLD_TIMER_EXPIRED


def test_killed_speaker_restarts_with_a_new_incarnation(broker, topic_prefix, tmp_path) -> None:
    first = start_speaker(broker, topic_prefix, tmp_path)
    try:
        client = BgpTestClient("127.0.0.2", first.address, 20002)
        client.establish()
        client.announce(Update(attributes=_attrs(20002), nlri=("185.57.0.0/24",)))
        wait_for(lambda: _routes(first, "127.0.0.2"), 15, "the route")
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
        client.close()
        second = start_speaker(broker, topic_prefix, tmp_path, port=first.port)
        try:
            for partition in range(PARTITIONS):
                events = per_update(second.partition_events("routes", partition))
                markers = [e for e in events if isinstance(e, SpeakerIncarnation)]
                assert len(markers) == 2 and markers[0].incarnation != markers[1].incarnation
                # every route of the old incarnation is before the new marker
                old = [i for i, e in enumerate(events) if isinstance(e, ReceivedRoutes)]
                assert all(i < events.index(markers[1]) for i in old)
        finally:
            second.stop()
    finally:
        first.stop()


def test_sighup_reload_admits_new_clients_and_drops_removed_ones(
        speaker: RunningSpeaker, tmp_path) -> None:
    from tests.speaker.conftest import CLIENTS

    kept = BgpTestClient("127.0.0.2", speaker.address, 20002)
    kept.establish()
    removed = BgpTestClient("127.0.0.3", speaker.address, 20003)
    removed.establish()
    assert BgpTestClient("127.0.0.9", speaker.address, 20009).connect() \
        .expect_notification().subcode == CeaseSubcode.CONNECTION_REJECTED
    clients = CLIENTS.replace('  - asn: 20003\n    ip: "127.0.0.3"\n', "")
    clients += '  - asn: 20009\n    ip: "127.0.0.9"\n'
    (tmp_path / "clients.yml").write_text(clients)
    speaker.proc.send_signal(signal.SIGHUP)
    note = removed.expect_notification()
    assert (note.code, note.subcode) == (ErrorCode.CEASE, CeaseSubcode.PEER_DECONFIGURED)
    BgpTestClient("127.0.0.9", speaker.address, 20009).establish()
    kept.keepalive()
    assert speaker.proc.poll() is None
    assert SessionState.IDLE not in _states(speaker, "127.0.0.2")


def test_a_bad_reload_keeps_the_running_configuration(speaker: RunningSpeaker,
                                                      tmp_path) -> None:
    (tmp_path / "clients.yml").write_text("clients:\n  - asn: 'not a number'\n")
    speaker.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload refused" in speaker.log.read_text(), 15, "the refusal")
    BgpTestClient("127.0.0.2", speaker.address, 20002).establish()
