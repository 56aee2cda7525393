"""The thin asyncio transport around the sans-IO FSM: sockets, timers, backpressure.

Everything BGP decides happens in :mod:`speaker.fsm`; this module only moves bytes
and time between the socket, the FSM and the :class:`~speaker.service.Speaker`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import struct
from dataclasses import replace

from schemas.events import SessionState
from speaker import maxprefix
from speaker.admission import canonical_address, client_for, local_open, peer_as_check
from speaker.codec import (
    CeaseSubcode,
    ErrorCode,
    Negotiated,
    Notification,
    OpenSubcode,
    RefreshSubtype,
    RouteRefresh,
    Update,
    encode,
)
from speaker.fsm import Connection, ConnectRetry, Kind, Output, PeerPolicy, collision_loser
from speaker.service import SessionRecord, Speaker

log = logging.getLogger("ixrs.speaker")

# UPDATEs in flight per session (Speaker.publish_received counts a read's raw UPDATEs, and
# one more for each of its routes events) before the socket stops being read.
WINDOW = 2000
# Octets of queued UPDATEs handed to the socket at a time; the transport's own buffer
# (pause_writing above its high-water mark) decides when to stop.
TAKE_OCTETS = 64 * 1024


class BgpProtocol(asyncio.Protocol):
    def __init__(self, speaker: Speaker, hold_time: int, outbound: bool = False) -> None:
        self.speaker = speaker
        self.hold_time = hold_time
        self.outbound = outbound  # we initiated the TCP connection (active mode)
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.conn: Connection | None = None
        self.rec: SessionRecord | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._paused = False
        self._write_paused = False  # the socket's buffer is over its high-water mark

    # --- asyncio callbacks ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        address = canonical_address(peer[0])
        now = self.loop.time()
        client = client_for(self.speaker.config, address)
        if client is None:
            self._refuse(address, None, "connection-rejected", "not in clients.yml")
            return
        if self.speaker.refused_until.get(address, 0.0) > now:
            self._refuse(address, client.asn, "max-prefix",
                         "shut down by max-prefix" if self.speaker.refused_until[address] ==
                         math.inf else "max-prefix restart delay has not passed")
            return
        general = self.speaker.config.general
        policy = PeerPolicy(local_open(general.rs_as, general.router_id[0], self.hold_time),
                            self.hold_time, peer_as_check(client))
        self.conn = Connection(policy)
        self.rec = self.speaker.new_session(client, address)
        local = transport.get_extra_info("sockname")
        self.rec.local_address = canonical_address(local[0]) if local else ""
        self.speaker.connections.add(self)
        self._handle(self.conn.connection_made(now))

    def data_received(self, data: bytes) -> None:
        if self.conn is None:
            return
        self._handle(self.conn.data_received(data, self.loop.time()))

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self.speaker.connections.discard(self)
        if self.conn is None:
            return
        reason = f"connection lost: {exc}" if exc else "connection closed by peer"
        self._handle(self.conn.connection_lost(self.loop.time(), reason))

    def pause_writing(self) -> None:
        # The peer is not taking what we write: queued UPDATEs stay in the outbound core
        # (bounded, see speaker.outbound.pending) and the Send Hold Timer runs (RFC 9687).
        self._write_paused = True
        if self.conn is not None:
            self.conn.write_stalled(self.loop.time())
            self._schedule()

    def resume_writing(self) -> None:
        self._write_paused = False
        if self.conn is not None:
            self.conn.write_progressed()
            self._schedule()
        self.flush_outbound()

    def deconfigure(self, subcode: int, reason: str) -> None:
        if self.conn is not None:
            self._handle(self.conn.stop(self.loop.time(), subcode, b"", reason))

    def shutdown(self, reason: str = "route server shutting down") -> None:
        """Administrative Shutdown (RFC 9003), as when the speaker stops."""
        if self.conn is not None:
            from speaker.codec import encode_shutdown_communication

            self._handle(self.conn.stop(self.loop.time(), CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
                                        encode_shutdown_communication(reason), reason))

    # --- outputs of the FSM -----------------------------------------------------------

    def _handle(self, outputs: list[Output]) -> None:
        assert self.conn is not None and self.rec is not None
        for out in outputs:
            if out.kind == Kind.SEND:
                self._write(out.data)
            elif out.kind == Kind.STATE:
                self._state(out)
            elif out.kind == Kind.RECEIVED and isinstance(out.message, Update):
                self._update(out.message, out.data)
            elif out.kind == Kind.RECEIVED and isinstance(out.message, RouteRefresh):
                self._route_refresh(out.message)
            elif out.kind == Kind.CLOSE:
                self._close()
        # The UPDATEs of this read go out together (a state change above has published
        # those before it already, to keep its marker behind them).
        if self.speaker.publish_received(self.rec) and not self._paused \
                and self.rec.window.pending >= WINDOW:
            self._pause_reading()
        self._schedule()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if self._write_paused:
                # The peer stopped reading (send hold timer, queue overflow): what is
                # buffered, the NOTIFICATION included, would pin memory until TCP gives up.
                self.transport.abort()
            else:
                self.transport.close()  # flushes what was written (the NOTIFICATION) first

    def _state(self, out: Output) -> None:
        assert self.conn is not None and self.rec is not None
        if out.state == SessionState.OPENCONFIRM and self.conn.negotiated is not None:
            neg = self.conn.negotiated
            self.rec.families = tuple(_family_name(f) for f in sorted(neg.families))
            self.rec.four_octet_as = neg.four_octet_as
            remote = self.conn.remote_open
            if remote is not None:
                self.rec.session = replace(self.rec.session, router_id=remote.bgp_id)
            # Graceful restart and ADD-PATH are parsed and logged; acting on them comes later.
            log.info("session %s AS%d capabilities: %s", self.rec.session.peer_address,
                     self.rec.client.asn, remote.capabilities if remote else ())
        note = out.notification
        if note is not None and out.notification_sent and (note.code, note.subcode) == (
                ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS):
            self.speaker.notice(self.loop.time(), self.rec.session.peer_address,
                                self.rec.client.asn, "bad-peer-as", "notification",
                                out.reason, self.rec.session)
        self.speaker.state_changed(self.rec, out.state, out.previous, out.reason,
                                   out.notification, out.notification_sent)
        if out.state == SessionState.OPENCONFIRM:
            self._resolve_collision()
        elif out.state == SessionState.ESTABLISHED:
            self._established()
        elif out.previous == SessionState.ESTABLISHED:
            self._ended()

    # --- the export path ------------------------------------------------------------------

    def _established(self) -> None:
        """The client gets its full table, then End-of-RIB (or waits for the decisions
        topic to be read to its end, see Outbound.mark_ready)."""
        assert self.conn is not None and self.rec is not None
        outbound = self.speaker.outbound
        address = self.rec.session.peer_address
        self.speaker.links[address] = self
        if outbound is None or self.conn.negotiated is None:
            return
        self.speaker.dispatch(outbound.establish(address, self.conn.negotiated))

    def _ended(self) -> None:
        assert self.rec is not None
        address = self.rec.session.peer_address
        if self.speaker.links.get(address) is self:
            del self.speaker.links[address]
            if self.speaker.outbound is not None:
                self.speaker.outbound.drop(address)

    def _route_refresh(self, message: RouteRefresh) -> None:
        """RFC 2918 / RFC 7313: a request gets the family's table again. BoRR and EoRR
        from the client concern what it sends us; the speaker keeps no Adj-RIB-In to
        mark stale, so they are ignored."""
        assert self.rec is not None
        outbound = self.speaker.outbound
        if outbound is None or message.subtype != RefreshSubtype.NORMAL:
            return
        address = self.rec.session.peer_address
        if self.speaker.links.get(address) is self:
            self.speaker.dispatch(outbound.refresh(address, (message.afi, message.safi)))

    def flush_outbound(self) -> None:
        """Write what the outbound core queued for this client until the socket's buffer
        is full; resume_writing calls this again when the peer has read some."""
        outbound = self.speaker.outbound
        rec = self.rec
        if outbound is None or rec is None:
            return
        address = rec.session.peer_address
        if self.speaker.links.get(address) is not self:
            return
        while not self._write_paused:
            if self.transport is None or self.transport.is_closing():
                return
            messages = outbound.take(address, TAKE_OCTETS)
            if not messages:
                return
            # Recorded (and stamped) before the write: a client on a fast link may apply
            # the route before this line returns, and replay's moment must not miss it.
            self.speaker.record_sent(rec, messages)
            self.transport.write(b"".join(m.raw for m in messages))

    def overflow(self) -> None:
        """The client's send queue passed its bound (Report.overflowed): Cease, Out of
        Resources (RFC 4486)."""
        if self.conn is not None:
            self._handle(self.conn.stop(self.loop.time(), CeaseSubcode.OUT_OF_RESOURCES, b"",
                                        "send queue overflow: the client reads too slowly"))

    def _resolve_collision(self) -> None:
        """RFC 4271 §6.8: one session per peer when both sides connected."""
        assert self.conn is not None and self.rec is not None
        remote = self.conn.remote_open
        address = self.rec.session.peer_address
        for other in list(self.speaker.connections):
            if other is self or other.rec is None or other.conn is None or remote is None:
                continue
            if other.rec.session.peer_address != address or other.conn.state not in (
                    SessionState.OPENCONFIRM, SessionState.ESTABLISHED):
                continue
            loser = collision_loser(self.conn.policy.local_open.bgp_id, remote.bgp_id,
                                    other.conn.state, other.outbound, self.outbound)
            victim = other if loser == "existing" else self
            victim.close_for_collision()
            return

    def close_for_collision(self) -> None:
        if self.conn is not None:
            self._handle(self.conn.stop(self.loop.time(),
                                        CeaseSubcode.CONNECTION_COLLISION_RESOLUTION, b"",
                                        "connection collision resolution"))

    def _update(self, update: Update, raw: bytes) -> None:
        assert self.conn is not None and self.rec is not None
        outcome = self.speaker.update_received(self.rec, update, raw)
        if outcome.exceeded:
            self._max_prefix(outcome)

    def _max_prefix(self, outcome: maxprefix.Outcome) -> None:
        assert self.conn is not None and self.rec is not None
        now = self.loop.time()
        address = self.rec.session.peer_address
        detail = f"{outcome.count} {outcome.family} prefixes, limit {outcome.limit}"
        self.speaker.notice(now, address, self.rec.client.asn, "max-prefix",
                            str(outcome.action), detail, self.rec.session)
        if outcome.action in (maxprefix.Action.SHUTDOWN, maxprefix.Action.RESTART):
            if outcome.action is maxprefix.Action.RESTART:
                delay = self.rec.counter.limits.restart_after_s if self.rec.counter else 0.0
                self.speaker.refused_until[address] = now + delay
            else:  # "shutdown" stays down (BIRD's `receive limit ... action disable`)
                self.speaker.refused_until[address] = math.inf
            # RFC 4486 §4: AFI, SAFI and the upper bound.
            afi = 2 if outcome.family == "ipv6" else 1
            data = struct.pack(">HBI", afi, 1, outcome.limit)
            self._handle(self.conn.stop(now, CeaseSubcode.MAX_PREFIXES_REACHED, data,
                                        f"max-prefix: {detail}"))

    # --- backpressure -----------------------------------------------------------------

    def _pause_reading(self) -> None:
        assert self.transport is not None and self.conn is not None and self.rec is not None
        self._paused = True
        self.transport.pause_reading()
        self.conn.reading_paused(self.loop.time())
        task = self.loop.create_task(self.rec.window.drained())
        task.add_done_callback(self._resume_reading)

    def _resume_reading(self, task: asyncio.Task[None]) -> None:
        self._paused = False
        if task.exception() is not None:
            log.error("publishing failed: %s; closing the session", task.exception())
            if self.conn is not None:
                self._handle(self.conn.stop(self.loop.time(), CeaseSubcode.OUT_OF_RESOURCES))
            return
        if self.transport is None or self.transport.is_closing() or self.conn is None:
            return
        self.conn.reading_resumed(self.loop.time())
        self.transport.resume_reading()
        self._schedule()

    # --- timers -----------------------------------------------------------------------

    def _schedule(self) -> None:
        self._cancel_timer()
        if self.conn is None:
            return
        deadline = self.conn.next_deadline()
        if deadline is not None:
            self._timer = self.loop.call_at(deadline, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if self.conn is not None:
            self._handle(self.conn.on_timer(self.loop.time()))

    # --- refusing connections ---------------------------------------------------------

    def _refuse(self, address: str, asn: int | None, kind: str, detail: str) -> None:
        self.speaker.notice(self.loop.time(), address, asn, kind, "cease", detail)
        note = Notification(ErrorCode.CEASE, CeaseSubcode.CONNECTION_REJECTED)
        self._write(encode(note, Negotiated()))
        self._close()


def _family_name(family: tuple[int, int]) -> str:
    names = {(1, 1): "ipv4-unicast", (2, 1): "ipv6-unicast"}
    return names.get(family, f"afi{family[0]}-safi{family[1]}")


async def serve(speaker: Speaker, host: str | None, port: int, hold_time: int
                ) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: BgpProtocol(speaker, hold_time), host, port,
                                    reuse_address=True)


async def keep_connected(speaker: Speaker, address: str, hold_time: int, port: int = 179,
                         local_host: str | None = None) -> None:
    """Active mode (arouteserver ``passive: False``): connect to the client whenever no
    connection to it exists, at most once per connect-retry interval."""
    loop = asyncio.get_running_loop()
    retry = ConnectRetry()
    while True:
        now = loop.time()
        busy = any(c.rec is not None and c.rec.session.peer_address == address
                   for c in speaker.connections)
        if not busy and retry.due(now):
            retry.attempted(now)
            same_family = local_host is not None and (":" in local_host) == (":" in address)
            local = (local_host, 0) if same_family else None
            try:
                await loop.create_connection(lambda: BgpProtocol(speaker, hold_time, True),
                                             address, port, local_addr=local)
            except OSError as exc:
                log.info("connecting to %s: %s; retrying in %.0fs", address, exc,
                         retry.interval)
        # A timer for the next check, not a synchronisation: the retry interval bounds it.
        await asyncio.sleep(min(1.0, max(0.0, retry.next_attempt - loop.time())) or 1.0)
