"""The BGP session state machine (RFC 4271 §8), sans-IO.

One :class:`Connection` is one TCP connection's worth of BGP session. It takes
bytes, the transport's observations (connection made or lost, reading paused,
writes stalled) and the caller's clock, and returns what to do: bytes to send,
state changes, messages received, and when to close. It owns no socket and
reads no clock, so tests drive it with plain values.

The transport calls :meth:`Connection.next_deadline` to know when to call
:meth:`Connection.on_timer`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from schemas.events import SessionState
from speaker.codec import (
    KEEPALIVE,
    BgpError,
    CeaseSubcode,
    ErrorCode,
    FsmSubcode,
    Keepalive,
    Message,
    Negotiated,
    Notification,
    Open,
    OpenSubcode,
    Reader,
    RouteRefresh,
    Update,
    encode,
    negotiate,
)
from speaker.codec.decode import decode_body
from speaker.codec.header import HEADER_SIZE

SEND_HOLD_TIMER_EXPIRED = ErrorCode.SEND_HOLD_TIMER_EXPIRED  # RFC 9687 §3
# RFC 9687 §4: at least 8 minutes, or twice the hold time if that is longer.
MIN_SEND_HOLD_TIME = 480.0
# RFC 4271 §10: large hold time before the OPEN is received.
OPEN_HOLD_TIME = 240.0
# RFC 4271 §10 suggests 120 s; a route server wants its active sessions back sooner.
CONNECT_RETRY_TIME = 30.0


class Kind(IntEnum):
    """What the transport must do with an :class:`Output`."""

    SEND = 1  # write data
    STATE = 2  # the session changed state
    RECEIVED = 3  # a message the speaker acts on (UPDATE, ROUTE-REFRESH)
    CLOSE = 4  # close the connection after writing what was sent


@dataclass(frozen=True, slots=True)
class Output:
    kind: Kind
    data: bytes = b""
    message: Message | None = None
    state: SessionState | None = None
    previous: SessionState | None = None
    reason: str = ""
    notification: Notification | None = None
    notification_sent: bool = False


@dataclass(frozen=True, slots=True)
class PeerPolicy:
    """What the OPEN exchange needs to know about our side and the peer."""

    local_open: Open
    hold_time: int  # what we offer; 0 or 3..65535
    check_peer: Callable[[Open], BgpError | None] = field(default=lambda _open: None)
    # e.g. a wrong AS for the address: the caller knows clients.yml, the FSM does not.


def _bad_bgp_id(text: str) -> bool:
    addr = ipaddress.IPv4Address(text)
    return int(addr) == 0 or addr.is_multicast


def check_open(remote: Open) -> BgpError | None:
    """RFC 4271 §6.2 checks that need no configuration."""
    if remote.version != 4:
        return BgpError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_VERSION,
                        (4).to_bytes(2, "big"), f"version {remote.version}")
    if remote.hold_time in (1, 2):
        return BgpError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNACCEPTABLE_HOLD_TIME,
                        reason=f"hold time {remote.hold_time}")
    if _bad_bgp_id(remote.bgp_id):
        return BgpError(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_BGP_IDENTIFIER,
                        reason=f"BGP identifier {remote.bgp_id}")
    return None


def collision_loser(local_id: str, remote_id: str, existing: SessionState,
                    existing_outbound: bool, new_outbound: bool) -> str:
    """Which of two connections to the same peer to close: "existing" or "new".

    RFC 4271 §6.8: a collision with an Established session closes the new connection.
    Otherwise the BGP identifiers decide: if ours is the lower, the connection we
    initiated goes; if it is the higher, the one the peer initiated goes. Two
    connections initiated by the same side (a peer that reconnected while its old
    connection lingers) leave the newer one.
    """
    if existing == SessionState.ESTABLISHED:
        return "new"
    if existing_outbound == new_outbound:
        return "existing"
    local_lower = int(ipaddress.IPv4Address(local_id)) < int(ipaddress.IPv4Address(remote_id))
    loser_outbound = local_lower
    return "existing" if existing_outbound == loser_outbound else "new"


@dataclass
class ConnectRetry:
    """The ConnectRetryTimer of an active session (RFC 4271 §8.2.2), on the caller's clock."""

    interval: float = CONNECT_RETRY_TIME
    next_attempt: float = 0.0

    def due(self, now: float) -> bool:
        return now >= self.next_attempt

    def attempted(self, now: float) -> None:
        self.next_attempt = now + self.interval


class Connection:
    """The session FSM for one TCP connection, from connection to close."""

    def __init__(self, policy: PeerPolicy) -> None:
        self.policy = policy
        self.state = SessionState.ACTIVE  # waiting for a TCP connection (passive)
        self.remote_open: Open | None = None
        self.negotiated: Negotiated | None = None
        self.hold_time = 0.0  # negotiated; 0 means no hold or keepalive timer
        self._reader = Reader()
        self._hold_deadline: float | None = None
        self._keepalive_deadline: float | None = None
        self._read_paused_at: float | None = None
        self._write_stalled_at: float | None = None
        self._closed = False

    # --- inputs from the transport -------------------------------------------------

    def connection_made(self, now: float) -> list[Output]:
        out = [self._send(encode(self.policy.local_open, Negotiated()))]
        self._hold_deadline = now + OPEN_HOLD_TIME
        out += self._to(SessionState.OPENSENT, "TCP connection established")
        return out

    def data_received(self, data: bytes, now: float) -> list[Output]:
        if self._closed:
            return []
        self._reader.feed(data)
        out: list[Output] = []
        try:
            while not self._closed and (frame := self._reader.next_frame()) is not None:
                message = decode_body(frame[HEADER_SIZE - 1], frame[HEADER_SIZE:],
                                      self._reader.negotiated)
                out += self._on_message(message, frame, now)
        except BgpError as err:
            out += self._fail(err)
        return out

    def connection_lost(self, now: float, reason: str = "connection closed by peer"
                        ) -> list[Output]:
        if self._closed:
            return []
        self._closed = True
        return self._to(SessionState.IDLE, reason)

    def reading_paused(self, now: float) -> None:
        """The transport stopped reading (backpressure): our pause must not look like
        a silent peer, so the hold timer stands still until reading resumes."""
        self._read_paused_at = now

    def reading_resumed(self, now: float) -> None:
        if self._read_paused_at is not None and self._hold_deadline is not None:
            self._hold_deadline += now - self._read_paused_at
        self._read_paused_at = None

    def write_stalled(self, now: float) -> None:
        """The peer is not reading what we send (RFC 9687): start the send hold timer."""
        if self._write_stalled_at is None:
            self._write_stalled_at = now

    def write_progressed(self) -> None:
        self._write_stalled_at = None

    def stop(self, now: float, subcode: int = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
             data: bytes = b"", reason: str = "administrative shutdown") -> list[Output]:
        """Close with a Cease NOTIFICATION (e.g. max-prefix, deconfigured peer)."""
        if self._closed:
            return []
        return self._fail(BgpError(ErrorCode.CEASE, subcode, data, reason))

    def send_message(self, message: Message) -> Output:
        """Encode an outgoing message (UPDATE, ROUTE-REFRESH) for this session."""
        assert self.negotiated is not None, "no messages before the session is up"
        return self._send(encode(message, self.negotiated))

    # --- timers ---------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        deadlines = [d for d in (self._hold_deadline, self._keepalive_deadline) if d]
        if self._read_paused_at is not None:
            deadlines = [d for d in deadlines if d != self._hold_deadline]
        if self._write_stalled_at is not None:
            deadlines.append(self._write_stalled_at + self.send_hold_time)
        return min(deadlines) if deadlines else None

    @property
    def send_hold_time(self) -> float:
        return max(MIN_SEND_HOLD_TIME, 2 * self.hold_time)

    def on_timer(self, now: float) -> list[Output]:
        if self._closed:
            return []
        stalled = self._write_stalled_at
        if stalled is not None and now >= stalled + self.send_hold_time:
            return self._fail(BgpError(SEND_HOLD_TIMER_EXPIRED, 0,
                                       reason="send hold timer expired: peer is not reading"))
        hold = self._hold_deadline
        if hold is not None and self._read_paused_at is None and now >= hold:
            return self._fail(BgpError(ErrorCode.HOLD_TIMER_EXPIRED, 0,
                                       reason="hold timer expired"))
        keepalive = self._keepalive_deadline
        if keepalive is not None and now >= keepalive:
            self._keepalive_deadline = now + self.hold_time / 3
            return [self._send(KEEPALIVE)]
        return []

    # --- messages ---------------------------------------------------------------------

    def _on_message(self, message: Message, frame: bytes, now: float) -> list[Output]:
        if isinstance(message, Notification):
            self._closed = True
            return [
                *self._to(SessionState.IDLE, "NOTIFICATION received", message, sent=False),
                Output(Kind.CLOSE, reason="NOTIFICATION received"),
            ]
        self._restart_hold(now)
        if self.state == SessionState.OPENSENT:
            return self._in_open_sent(message, now)
        if self.state == SessionState.OPENCONFIRM:
            return self._in_open_confirm(message, now)
        return self._in_established(message, frame)

    def _in_open_sent(self, message: Message, now: float) -> list[Output]:
        if not isinstance(message, Open):
            return self._fail(BgpError(ErrorCode.FSM, FsmSubcode.UNEXPECTED_IN_OPEN_SENT,
                                       reason=f"{type(message).__name__} in OpenSent"))
        error = check_open(message) or self.policy.check_peer(message)
        if error is not None:
            return self._fail(error)
        self.remote_open = message
        self.negotiated = negotiate(self.policy.local_open, message)
        self._reader.negotiated = self.negotiated
        # RFC 4271 §4.2: the smaller of the two hold times; zero disables keepalives.
        self.hold_time = float(min(self.policy.hold_time, message.hold_time))
        self._hold_deadline = now + self.hold_time if self.hold_time else None
        self._keepalive_deadline = now + self.hold_time / 3 if self.hold_time else None
        return [self._send(KEEPALIVE), *self._to(SessionState.OPENCONFIRM, "OPEN received")]

    def _in_open_confirm(self, message: Message, now: float) -> list[Output]:
        if not isinstance(message, Keepalive):
            return self._fail(BgpError(ErrorCode.FSM, FsmSubcode.UNEXPECTED_IN_OPEN_CONFIRM,
                                       reason=f"{type(message).__name__} in OpenConfirm"))
        return self._to(SessionState.ESTABLISHED, "KEEPALIVE received")

    def _in_established(self, message: Message, frame: bytes) -> list[Output]:
        if isinstance(message, Keepalive):
            return []
        if isinstance(message, (Update, RouteRefresh)):
            return [Output(Kind.RECEIVED, data=frame, message=message)]
        return self._fail(BgpError(ErrorCode.FSM, FsmSubcode.UNEXPECTED_IN_ESTABLISHED,
                                   reason=f"{type(message).__name__} in Established"))

    # --- helpers ------------------------------------------------------------------------

    def _restart_hold(self, now: float) -> None:
        if self.state in (SessionState.OPENCONFIRM, SessionState.ESTABLISHED):
            self._hold_deadline = now + self.hold_time if self.hold_time else None

    def _send(self, data: bytes) -> Output:
        return Output(Kind.SEND, data=data)

    def _to(self, state: SessionState, reason: str, notification: Notification | None = None,
            sent: bool = False) -> list[Output]:
        previous, self.state = self.state, state
        if state == SessionState.IDLE:
            self._hold_deadline = self._keepalive_deadline = None
            self._write_stalled_at = None
        return [Output(Kind.STATE, state=state, previous=previous, reason=reason,
                       notification=notification, notification_sent=sent)]

    def _fail(self, error: BgpError) -> list[Output]:
        """Send the NOTIFICATION for ``error`` and close (RFC 4271 §6)."""
        notification = Notification.from_error(error)
        negotiated = self.negotiated or Negotiated()
        self._closed = True
        reason = str(error)
        return [
            self._send(encode(notification, negotiated)),
            *self._to(SessionState.IDLE, reason, notification, sent=True),
            Output(Kind.CLOSE, reason=reason),
        ]
