"""When the broker cannot take events, the speaker stops reading the socket, and its
own pause never expires the session's hold timer."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ixrs.embedded import EmbeddedBroker
from schemas.attributes import AsPathSegment, Attributes, Origin, SegmentType
from schemas.events import ReceivedRoutes, SessionChange, SessionState
from speaker.codec import Keepalive, Update
from speaker.transport import WINDOW
from tests.helpers import per_update, wait_for
from tests.speaker.bgpclient import BgpTestClient
from tests.speaker.conftest import start_speaker


def test_a_stalled_broker_pauses_reading_without_losing_anything(tmp_path: Path) -> None:
    with EmbeddedBroker(log_path=tmp_path / "broker.log") as broker:
        speaker = start_speaker(broker, "bp.", tmp_path)
        try:
            client = BgpTestClient("127.0.0.2", speaker.address, 20002, hold_time=3)
            client.establish()
            attrs = Attributes(origin=Origin.IGP, next_hop="127.0.0.2",
                               as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (20002,)),))
            updates = WINDOW  # several events each: well past the window
            assert broker.pid is not None
            os.kill(broker.pid, signal.SIGSTOP)
            try:
                for i in range(updates):
                    client.announce(Update(attributes=attrs, nlri=(
                        f"185.{64 + i // 256}.{i % 256}.0/24",
                        f"185.{96 + i // 256}.{i % 256}.0/24")))
                # The broker stays frozen for twice the 3 s hold time. The client's
                # KEEPALIVEs sit unread behind its UPDATEs, yet the speaker must keep the
                # session: all it may send meanwhile is KEEPALIVEs.
                client.keepalive()
                deadline = time.monotonic() + 6.0
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        message = client.recv(left)
                    except TimeoutError:
                        break
                    assert isinstance(message, Keepalive), f"during the stall: {message}"
            finally:
                os.kill(broker.pid, signal.SIGCONT)
            expected = 2 * updates

            def published() -> int:
                return sum(len(e.announced) for e in per_update(speaker.events("routes"))
                           if isinstance(e, ReceivedRoutes))

            wait_for(lambda: published() == expected, 60, "every route after the stall")
            downs = [e for e in speaker.events("sessions", 1) if isinstance(e, SessionChange)
                     and e.state == SessionState.IDLE]
            assert not downs, f"the session must survive our own pause: {downs}"
            client.close()
        finally:
            speaker.stop()
