"""Malformed input over a real TCP socket: one case per error class of RFC 4271 §6
and RFC 7606. Each gets its NOTIFICATION, or treat-as-withdraw / attribute-discard,
and no other session is disturbed."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import ReceivedRoutes, SessionChange, SessionState
from speaker.codec import ErrorCode, Update
from tests.codec import wire
from tests.helpers import per_update, wait_for
from tests.speaker.bgpclient import BgpTestClient
from tests.speaker.conftest import RunningSpeaker, start_speaker

PREFIX = b"\x18\xb9\x3a\x00"  # 185.58.0.0/24
ORIGIN = wire.attr(0x40, 1, b"\x00")
AS_PATH = wire.attr(0x40, 2, b"\x02\x02" + struct.pack("!II", 20002, 3333))
NEXT_HOP = wire.attr(0x40, 3, bytes((127, 0, 0, 2)))
GOOD = ORIGIN + AS_PATH + NEXT_HOP


@pytest.fixture(scope="module")
def speaker(broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSpeaker]:
    running = start_speaker(broker, "malformed.", tmp_path_factory.mktemp("malformed"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def bystander(speaker: RunningSpeaker) -> Iterator[BgpTestClient]:
    """A healthy session that must live through every other session's errors."""
    client = BgpTestClient("127.0.0.4", speaker.address, 196615)
    client.establish()
    yield client
    client.close()


def _still_fine(speaker: RunningSpeaker, bystander: BgpTestClient, n: int) -> None:
    prefix = f"185.59.{n}.0/24"
    bystander.keepalive()
    bystander.announce(Update(
        attributes=Attributes(origin=Origin.IGP, next_hop="127.0.0.4", as_path=(
            AsPathSegment(SegmentType.AS_SEQUENCE, (196615,)),)),
        nlri=(prefix,)))
    wait_for(lambda: any(prefix in e.announced for e in per_update(speaker.events("routes"))
                         if isinstance(e, ReceivedRoutes)), 15, "the bystander's route")
    downs = [e for e in speaker.events("sessions", 1) if isinstance(e, SessionChange)
             and e.session.peer_address == "127.0.0.4" and e.state == SessionState.IDLE]
    assert not downs, "another session's error must not touch this one"


RESETS = [
    # RFC 4271 §6.1 Message Header errors
    ("bad marker", b"\x00" * 16 + b"\x00\x13\x04", (1, 1)),
    ("length below minimum", wire.MARKER + b"\x00\x12\x04", (1, 2)),
    ("keepalive with a body", wire.message(4, b"\x00"), (1, 2)),
    ("unknown message type", wire.message(9, b""), (1, 3)),
    # RFC 4271 §6.3 UPDATE errors that still reset the session under RFC 7606
    ("withdrawn length overrun", wire.message(2, b"\xff\xff\x00\x00"), (3, 1)),
    ("unrecognized well-known attribute", wire.update(attrs=GOOD + wire.attr(0x40, 99, b"x"),
                                                      nlri=PREFIX), (3, 2)),
    ("malformed MP_REACH", wire.update(attrs=GOOD + wire.attr(0x80, 14, b"\x00\x02"),
                                       nlri=PREFIX), (3, 9)),
    ("invalid network field", wire.update(attrs=GOOD, nlri=b"\x21\xb9\x3a\x00\x00\x00"),
     (3, 10)),
    # RFC 4271 §6.6 FSM error (RFC 6608)
    ("OPEN in Established", None, (5, 3)),
    # RFC 7313 §5 ROUTE-REFRESH error
    ("BoRR with a bad length", wire.message(5, b"\x00\x01\x01\x01\x00"), (7, 1)),
    ("route refresh with a bad length", wire.message(5, b"\x00\x01\x00\x01\x00"), (1, 2)),
]


@pytest.mark.parametrize(("name", "data", "expected"), RESETS, ids=[r[0] for r in RESETS])
def test_session_reset_errors(speaker: RunningSpeaker, bystander: BgpTestClient, name: str,
                              data: bytes | None, expected: tuple[int, int]) -> None:
    client = BgpTestClient("127.0.0.2", speaker.address, 20002)
    client.establish()
    if data is None:
        client.send_message(client.open_message)
    else:
        client.send(data)
    note = client.expect_notification()
    assert (note.code, note.subcode) == expected, name
    client.expect_closed()
    _still_fine(speaker, bystander, RESETS.index((name, data, expected)))


OPEN_ERRORS = [
    ("unsupported version", b"", {"version": 3}, (2, 1)),
    ("bad BGP identifier", b"", {"bgp_id": b"\x00\x00\x00\x00"}, (2, 3)),
    ("unacceptable hold time", b"", {"hold": 2}, (2, 6)),
    ("unsupported optional parameter", b"\x07\x01\x00", {}, (2, 4)),
]


@pytest.mark.parametrize(("n", "case"), list(enumerate(OPEN_ERRORS)),
                         ids=[o[0] for o in OPEN_ERRORS])
def test_open_errors(speaker: RunningSpeaker, bystander: BgpTestClient, n: int,
                     case: tuple[str, bytes, dict[str, object], tuple[int, int]]) -> None:
    name, params, fields, expected = case
    client = BgpTestClient("127.0.0.2", speaker.address, 20002).connect()
    body = wire.open_body(params, **{"my_as": 20002, "bgp_id": b"\x7f\x00\x00\x02", **fields})
    client.send(wire.message(1, body))
    note = client.expect_notification()
    assert (note.code, note.subcode) == expected, name
    _still_fine(speaker, bystander, 100 + n)


TREAT_AS_WITHDRAW = [
    ("missing ORIGIN", AS_PATH + NEXT_HOP, "treat-as-withdraw: attribute 1"),
    ("invalid ORIGIN", wire.attr(0x40, 1, b"\x07") + AS_PATH + NEXT_HOP,
     "treat-as-withdraw: attribute 1"),
    ("malformed AS_PATH", ORIGIN + wire.attr(0x40, 2, b"\x02\x05\x00") + NEXT_HOP,
     "treat-as-withdraw: attribute 2"),
    ("invalid NEXT_HOP length", ORIGIN + AS_PATH + wire.attr(0x40, 3, b"\x7f\x00\x00"),
     "treat-as-withdraw: attribute 3"),
    ("attribute flags error", ORIGIN + AS_PATH + wire.attr(0x80, 3, bytes((127, 0, 0, 2))),
     "treat-as-withdraw: attribute 3"),
    ("malformed COMMUNITIES", GOOD + wire.attr(0xC0, 8, b"\x00\x01\x00"),
     "treat-as-withdraw: attribute 8"),
    ("malformed LARGE_COMMUNITY", GOOD + wire.attr(0xC0, 32, b"\x00" * 11),
     "treat-as-withdraw: attribute 32"),
    ("attribute overruns the list", GOOD + b"\xc0\x08\x40\x00\x00",
     "treat-as-withdraw"),
]


@pytest.mark.parametrize(("name", "attrs", "note"), TREAT_AS_WITHDRAW,
                         ids=[t[0] for t in TREAT_AS_WITHDRAW])
def test_treat_as_withdraw(speaker: RunningSpeaker, bystander: BgpTestClient, name: str,
                           attrs: bytes, note: str) -> None:
    n = TREAT_AS_WITHDRAW.index((name, attrs, note))
    prefix_text = f"185.60.{n}.0/24"
    prefix = bytes((24, 185, 60, n))
    client = BgpTestClient("127.0.0.3", speaker.address, 20003)
    client.establish()
    good = ORIGIN + wire.attr(0x40, 2, b"\x02\x01" + struct.pack("!I", 20003)) + \
        wire.attr(0x40, 3, bytes((127, 0, 0, 3)))
    client.send(wire.update(attrs=good, nlri=prefix))
    client.send(wire.update(attrs=attrs, nlri=prefix))

    def withdrawn() -> list[ReceivedRoutes]:
        return [e for e in per_update(speaker.events("routes")) if isinstance(e, ReceivedRoutes)
                and prefix_text in e.withdrawn]

    [event] = wait_for(withdrawn, 15, "the treat-as-withdraw event")
    assert any(note in text for text in event.notes), event.notes
    client.keepalive()  # the session stays up
    client.send(wire.update(attrs=good, nlri=prefix))
    wait_for(lambda: sum(prefix_text in e.announced for e in per_update(speaker.events("routes"))
                         if isinstance(e, ReceivedRoutes)) == 2, 15, "the session still works")
    client.close()


def test_attribute_discard_keeps_the_route(speaker: RunningSpeaker,
                                           bystander: BgpTestClient) -> None:
    client = BgpTestClient("127.0.0.8", speaker.address, 20008)
    client.establish()
    path = wire.attr(0x40, 2, b"\x02\x01" + struct.pack("!I", 20008))
    bad_atomic = wire.attr(0x40, 6, b"\x01")  # ATOMIC_AGGREGATE must be empty
    client.send(wire.update(attrs=ORIGIN + path + wire.attr(0x40, 3, bytes((127, 0, 0, 8)))
                            + bad_atomic, nlri=b"\x18\xb9\x3d\x00"))
    [event] = wait_for(lambda: [e for e in per_update(speaker.events("routes")) if isinstance(
        e, ReceivedRoutes) and "185.61.0.0/24" in e.announced], 15, "the route")
    assert event.attributes is not None and not event.attributes.atomic_aggregate
    assert any(t.startswith("attribute-discard: attribute 6") for t in event.notes)
    client.close()


def test_the_speaker_survives_garbage(speaker: RunningSpeaker, bystander: BgpTestClient,
                                      tmp_path: Path) -> None:
    import random

    rnd = random.Random(7)
    for _ in range(20):
        client = BgpTestClient("127.0.0.2", speaker.address, 20002)
        client.establish()
        client.send(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 200))))
        client.close()
    assert speaker.proc.poll() is None
    _still_fine(speaker, bystander, 200)
    assert ErrorCode.CEASE  # the module under test defines the codes we compare against
