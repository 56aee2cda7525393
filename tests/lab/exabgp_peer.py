"""ExaBGP 5 as a lab peer: a config file, and an API process the test drives through a FIFO."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from tests.helpers import wait_for
from tests.lab.base import Peer, PeerError
from tests.lab.netns import Host
from tests.lab.spec import Neighbor, PeerSpec, Route, RouteView, canonical_address

API_SCRIPT = Path(__file__).with_name("exabgp_api.py")


def exabgp_binary() -> str | None:
    # The venv's exabgp sits next to its python; PATH may not include the venv.
    beside = Path(sys.executable).with_name("exabgp")
    return str(beside) if beside.exists() else shutil.which("exabgp")


class ExabgpPeer(Peer):
    """exabgp exabgp.conf, with exabgp_api.py as its API process.

    asn4=False leaves the 4-octet-AS capability out of the OPEN (a 2-octet speaker).
    Received UPDATEs arrive as parsed JSON in `events_path`; `received_routes()` replays them.
    Routes may carry raw path attributes (Route.attributes: any type code, flags and value) for
    crafted UPDATEs; ExaBGP cannot replace the attributes it builds itself (ORIGIN, AS_PATH,
    NEXT_HOP, MP_REACH, and MED/communities when the route sets them) nor break headers,
    lengths or NLRI: tests.lab.raw.RawSession sends such bytes.
    log_packets=True also logs every UPDATE sent and received as hex ("type": "update" with
    "direction" and "header"/"body" keys), for checking bytes on the wire.
    """

    kind = "exabgp"

    def __init__(
        self,
        host: Host,
        spec: PeerSpec,
        workdir: Path | None = None,
        asn4: bool = True,
        log_packets: bool = False,
    ) -> None:
        if not asn4 and spec.asn > 0xFFFF:
            raise PeerError(f"a 2-octet speaker cannot have ASN {spec.asn}")
        self.asn4 = asn4
        self.log_packets = log_packets
        super().__init__(host, spec, workdir)
        self.config_path = self.workdir / "exabgp.conf"
        self.fifo_path = self.workdir / "commands.fifo"
        self.events_path = self.workdir / "events.jsonl"

    def _argv(self) -> list[str]:
        binary = exabgp_binary()
        if binary is None:
            raise PeerError("exabgp is not installed")
        return [binary, str(self.workdir / "exabgp.conf")]

    def _env(self) -> dict[str, str]:
        passive = [self.session_address(n) for n in self.spec.neighbors if n.passive]
        return {
            "exabgp_daemon_daemonize": "false",
            # ExaBGP drops to user "nobody" by default; the API process writes our files.
            "exabgp_daemon_user": "root",
            "exabgp_daemon_drop": "false",
            "exabgp_log_destination": "stdout",
            "exabgp_log_level": "INFO",
            # No CLI pipes: they would be shared by every ExaBGP on the machine.
            "exabgp_api_cli": "false",
            "exabgp_api_ack": "true",
            # Listen only where a passive session needs it (empty: no listening socket).
            "exabgp_tcp_bind": " ".join(sorted(set(passive))),
            "exabgp_tcp_port": "179",
        }

    # -- config ----------------------------------------------------------------------------

    def _write_config(self) -> None:
        if self.fifo_path.exists():
            self.fifo_path.unlink()
        os.mkfifo(self.fifo_path)
        # Each run of the daemon starts a fresh event log: state is replayed from it.
        self.events_path.write_bytes(b"")
        self.config_path.write_text(self._config())

    def _config(self) -> str:
        run = f"{sys.executable} {API_SCRIPT} {self.fifo_path} {self.events_path}"
        lines = ["process lab {", f"  run {run};", "  encoder json;", "}"]
        for neighbor in self.spec.neighbors:
            lines += self._neighbor_config(neighbor)
        return "\n".join(lines) + "\n"

    def _neighbor_config(self, neighbor: Neighbor) -> list[str]:
        receive = ["parsed;", "update;"] + (["packets;"] if self.log_packets else [])
        lines = [
            "",
            f"neighbor {neighbor.address} {{",
            f"  router-id {self.router_id};",
            f"  local-address {self.session_address(neighbor)};",
            f"  local-as {self.spec.asn};",
            f"  peer-as {neighbor.asn};",
            f"  hold-time {neighbor.hold_time};",
            f"  passive {'true' if neighbor.passive else 'false'};",
            # Keep what we announced across session resets, so a flap re-announces it.
            "  adj-rib-out true;",
            "  group-updates false;",
            "  family {",
            *(f"    {family} unicast;" for family in neighbor.families),
            "  }",
        ]
        if not self.asn4:
            lines += ["  capability {", "    asn4 disable;", "  }"]
        lines += [
            "  api {",
            "    processes [ lab ];",
            "    neighbor-changes;",
            f"    receive {{ {' '.join(receive)} }}",
        ]
        if self.log_packets:
            lines.append("    send { packets; update; }")
        lines.append("  }")
        routes = [r for r in self.routes.values() if r.family in neighbor.families]
        if routes:
            lines += ["  static {", *(f"    {self.route_text(r)};" for r in routes), "  }"]
        lines.append("}")
        return lines

    def route_text(self, route: Route) -> str:
        """The route in ExaBGP's syntax, the same in the config and on the API."""
        path = (self.spec.asn, *route.as_path) if route.prepend_own_as else route.as_path
        parts = [f"route {route.prefix}", f"next-hop {self.next_hop(route)}"]
        parts.append(f"origin {route.origin}")
        parts.append(f"as-path [ {' '.join(map(str, path))} ]")
        if route.med is not None:
            parts.append(f"med {route.med}")
        if route.communities:
            parts.append(f"community [ {' '.join(f'{a}:{b}' for a, b in route.communities)} ]")
        if route.large_communities:
            large = " ".join(f"{a}:{b}:{c}" for a, b, c in route.large_communities)
            parts.append(f"large-community [ {large} ]")
        clash = _built_codes(route) & {code for code, _, _ in route.attributes}
        if clash:
            raise PeerError(
                f"ExaBGP would silently replace raw attribute(s) {sorted(clash)} with its own;"
                " send such UPDATEs with tests.lab.raw.RawSession"
            )
        for code, flags, value in route.attributes:
            parts.append(f"attribute [ 0x{code:02x} 0x{flags:02x} 0x{value.hex()} ]")
        return " ".join(parts)

    # -- control ---------------------------------------------------------------------------

    def _ready(self) -> bool:
        return any(e.get("lab") == "api-ready" for e in self.events())

    def events(self) -> list[dict[str, Any]]:
        """Every JSON line ExaBGP sent the API process since the daemon started."""
        events = []
        for line in self._event_lines():
            if line.startswith("{"):
                # The last line may be half written right now.
                with contextlib.suppress(json.JSONDecodeError):
                    events.append(json.loads(line))
        return events

    def _event_lines(self) -> list[str]:
        try:
            return self.events_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def _acks(self) -> list[str]:
        return [ln for ln in self._event_lines() if ln in ("done", "error")]

    def command(self, line: str, timeout: float = 10.0) -> None:
        """Send one API command and wait for ExaBGP's acknowledgement."""
        before = len(self._acks())
        fd = os.open(self.fifo_path, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, (line.strip() + "\n").encode())
        finally:
            os.close(fd)
        acks = wait_for(
            lambda: self._running_and(lambda: self._acks()[before:]), timeout, f"ack of {line!r}"
        )
        if acks[0] != "done":
            raise PeerError(f"exabgp refused {line!r}:\n{self.log()[-2000:]}")

    def session_states(self) -> dict[str, bool]:
        states = {n.address: False for n in self.spec.neighbors}
        for event in self.events():
            if event.get("type") == "state":
                peer = canonical_address(event["neighbor"]["address"]["peer"])
                states[peer] = event["neighbor"]["state"] == "up"
        return states

    def received_routes(self) -> list[RouteView]:
        """The routes the neighbours announced and did not withdraw, replayed from the log."""
        rib: dict[tuple[str, str], RouteView] = {}
        for event in self.events():
            kind = event.get("type")
            if kind == "state" and event["neighbor"]["state"] != "up":
                peer = canonical_address(event["neighbor"]["address"]["peer"])
                rib = {k: v for k, v in rib.items() if k[0] != peer}
            if kind == "update" and event["neighbor"].get("direction", "receive") == "receive":
                _apply_update(rib, event["neighbor"])
        return list(rib.values())

    def _announce(self, route: Route) -> None:
        for neighbor in self.spec.neighbors:
            if route.family in neighbor.families:
                self.command(f"neighbor {neighbor.address} announce {self.route_text(route)}")

    def _withdraw(self, route: Route) -> None:
        for neighbor in self.spec.neighbors:
            if route.family in neighbor.families:
                self.command(f"neighbor {neighbor.address} withdraw {self.route_text(route)}")


def _built_codes(route: Route) -> set[int]:
    """Attribute type codes ExaBGP builds itself for this route (it drops raw ones of these)."""
    codes = {1, 2, 3, 14, 15}  # ORIGIN, AS_PATH, NEXT_HOP, MP_REACH/UNREACH
    if route.med is not None:
        codes.add(4)
    if route.communities:
        codes.add(8)
    if route.large_communities:
        codes.add(32)
    return codes


def _apply_update(rib: dict[tuple[str, str], RouteView], neighbor: dict[str, Any]) -> None:
    peer = canonical_address(neighbor["address"]["peer"])
    update = neighbor.get("message", {}).get("update", {})
    attrs = update.get("attribute", {})
    for nlris in update.get("withdraw", {}).values():
        for nlri in nlris:
            rib.pop((peer, _nlri_prefix(nlri)), None)
    for by_next_hop in update.get("announce", {}).values():
        # An IPv6 next hop with a link-local part (RFC 2545) is listed twice: under the
        # global and under the link-local address. The global one is what routes compare
        # (as for BIRD), so it is applied last.
        hops = sorted(by_next_hop.items(), key=lambda item: not _link_local(item[0]))
        for next_hop, nlris in hops:
            for nlri in nlris:
                prefix = _nlri_prefix(nlri)
                rib[(peer, prefix)] = _view(prefix, next_hop, attrs)


def _link_local(address: str) -> bool:
    return address.lower().startswith("fe80:")


def _nlri_prefix(nlri: dict[str, Any] | str) -> str:
    return nlri["nlri"] if isinstance(nlri, dict) else nlri


def _view(prefix: str, next_hop: str, attrs: dict[str, Any]) -> RouteView:
    return RouteView.build(
        prefix=prefix,
        next_hop=next_hop,
        as_path=_as_path(attrs.get("as-path", [])),
        communities=[(a, b) for a, b in attrs.get("community", [])],
        large_communities=[(a, b, c) for a, b, c in attrs.get("large-community", [])],
        med=attrs.get("med"),
        origin=attrs.get("origin", "igp"),
    )


def _as_path(raw: Any) -> list[int]:
    # ExaBGP 5 prints a plain list for an AS_SEQUENCE, and segments as a dict otherwise.
    if isinstance(raw, list):
        return [int(a) for a in raw]
    path: list[int] = []
    for segment in raw.values():
        path += [int(a) for a in segment.get("value", [])]
    return path
