"""GoBGP as a lab peer: gobgpd with a TOML config, its gRPC API on a per-peer address."""

from __future__ import annotations

import json
from typing import Any

from tests.lab.base import Peer, PeerError
from tests.lab.spec import Family, Neighbor, Origin, Route, RouteView, canonical_address

API_PORT = 50051
_AFI_SAFI = {"ipv4": "ipv4-unicast", "ipv6": "ipv6-unicast"}
_ORIGINS: dict[int, Origin] = {0: "igp", 1: "egp", 2: "incomplete"}


class GobgpPeer(Peer):
    """gobgpd -f gobgpd.toml --api-hosts ADDR:50051, driven by the gobgp CLI in the Host.

    Own routes go in with `gobgp global rib add` once the daemon is up (TOML holds no routes).
    GoBGP 3.10 waits 5-10 s before its first outgoing connection (a hard-coded minimum), so
    sessions come up faster when the other side connects.
    """

    kind = "gobgp"

    @property
    def api(self) -> str:
        return f"{self.host.control_address}:{API_PORT}"

    def _argv(self) -> list[str]:
        return [
            "gobgpd",
            "-f", str(self.workdir / "gobgpd.toml"),
            "--api-hosts", self.api,
            "--pprof-disable",
            "--log-plain",
        ]  # fmt: skip

    # -- config ----------------------------------------------------------------------------

    def _write_config(self) -> None:
        path = self.workdir / "gobgpd.toml"
        path.write_text(self._config())
        done = self.host.run(["gobgpd", "-f", str(path), "--dry-run"], check=False)
        if done.returncode != 0:
            raise PeerError(f"gobgpd rejected {path}: {done.stdout.strip()} {done.stderr}")

    def _config(self) -> str:
        addresses = [a for a in (self.local_v4, self.local_v6) if a]
        lines = [
            "[global.config]",
            f"  as = {self.spec.asn}",
            f'  router-id = "{self.router_id}"',
            "  port = 179",
            f"  local-address-list = {json.dumps(addresses)}",
        ]
        for neighbor in self.spec.neighbors:
            lines += self._neighbor_config(neighbor)
        return "\n".join(lines) + "\n"

    def _neighbor_config(self, neighbor: Neighbor) -> list[str]:
        hold = neighbor.hold_time
        lines = [
            "",
            "[[neighbors]]",
            "  [neighbors.config]",
            f'    neighbor-address = "{neighbor.address}"',
            f"    peer-as = {neighbor.asn}",
            "  [neighbors.timers.config]",
            f"    hold-time = {hold}",
            f"    keepalive-interval = {max(1, hold // 3) if hold else 0}",
            f"    connect-retry = {neighbor.connect_retry}",
            "  [neighbors.transport.config]",
            f'    local-address = "{self.session_address(neighbor)}"',
            f"    passive-mode = {'true' if neighbor.passive else 'false'}",
        ]
        if self.host.needs_multihop:
            lines += [
                "  [neighbors.ebgp-multihop.config]",
                "    enabled = true",
                "    multihop-ttl = 2",
            ]
        if neighbor.rs_client:
            lines += ["  [neighbors.route-server.config]", "    route-server-client = true"]
        for family in neighbor.families:
            lines += [
                "  [[neighbors.afi-safis]]",
                "    [neighbors.afi-safis.config]",
                f'      afi-safi-name = "{_AFI_SAFI[family]}"',
            ]
        return lines

    # -- control ---------------------------------------------------------------------------

    def gobgp(self, *args: str, check: bool = True) -> str:
        host, _, port = self.api.rpartition(":")
        done = self.host.run(["gobgp", "-u", host, "-p", port, *args], check=False)
        if check and done.returncode != 0:
            raise PeerError(f"gobgp {' '.join(args)}: {done.stdout.strip()} {done.stderr}")
        return done.stdout

    def _ready(self) -> bool:
        # Probing with the gobgp CLI would block a second per try while gRPC is not up.
        listening = self.host.run(["ss", "-Hltn", f"src {self.api}"], check=False).stdout
        return bool(listening.strip())

    def _after_start(self) -> None:
        for route in self.routes.values():
            self._announce(route)

    def session_states(self) -> dict[str, bool]:
        peers = json.loads(self.gobgp("neighbor", "-j") or "[]")
        states = {canonical_address(p["conf"]["neighbor_address"]): _established(p) for p in peers}
        return {n.address: states.get(n.address, False) for n in self.spec.neighbors}

    def received_routes(self) -> list[RouteView]:
        """Paths learned from neighbours in the global RIB (own routes left out)."""
        views = []
        for family in self._families():
            table = json.loads(self.gobgp("global", "rib", "-a", family, "-j") or "{}")
            for prefix, paths in table.items():
                views += [_view(prefix, p) for p in paths if p.get("neighbor-ip")]
        return views

    def adj_out(self, neighbor: str | None = None) -> list[RouteView]:
        """What GoBGP sends to `neighbor` (default: every neighbour), own ASN prepended."""
        views = []
        for nb in self.spec.neighbors:
            if neighbor is not None and nb.address != canonical_address(neighbor):
                continue
            for family in nb.families:
                out = self.gobgp("neighbor", nb.address, "adj-out", "-a", family, "-j") or "{}"
                for prefix, paths in json.loads(out).items():
                    views += [_view(prefix, p) for p in paths]
        return views

    def _families(self) -> list[Family]:
        seen: list[Family] = []
        for nb in self.spec.neighbors:
            seen += [f for f in nb.families if f not in seen]
        return seen

    def _announce(self, route: Route) -> None:
        if route.attributes:
            raise PeerError("raw path attributes need ExabgpPeer")
        if not route.prepend_own_as:
            raise PeerError("GoBGP always prepends its own ASN on eBGP; use ExabgpPeer")
        args = ["global", "rib", "add", "-a", route.family, route.prefix]
        args += ["origin", route.origin, "nexthop", self.next_hop(route)]
        if route.as_path:
            args += ["aspath", ",".join(map(str, route.as_path))]
        if route.med is not None:
            args += ["med", str(route.med)]
        if route.communities:
            args += ["community", ",".join(f"{a}:{b}" for a, b in route.communities)]
        if route.large_communities:
            large = ",".join(f"{a}:{b}:{c}" for a, b, c in route.large_communities)
            args += ["large-community", large]
        self.gobgp(*args)

    def _withdraw(self, route: Route) -> None:
        self.gobgp("global", "rib", "del", "-a", route.family, route.prefix)


def _established(peer: dict[str, Any]) -> bool:
    # session_state 6 is ESTABLISHED in GoBGP's API enum.
    return peer.get("state", {}).get("session_state") in (6, "ESTABLISHED")


def _view(prefix: str, path: dict[str, Any]) -> RouteView:
    attrs = {a["type"]: a for a in path.get("attrs", [])}
    as_path: list[int] = []
    for segment in attrs.get(2, {}).get("as_paths", []):
        as_path += segment.get("asns", [])
    next_hop = attrs.get(3, {}).get("nexthop") or attrs.get(14, {}).get("nexthop", "0.0.0.0")
    # JSON from protobuf leaves out zero values: a MED of 0 has no "metric" key.
    med = attrs[4].get("metric", 0) if 4 in attrs else None
    return RouteView.build(
        prefix=prefix,
        next_hop=next_hop,
        as_path=as_path,
        communities=[(c >> 16, c & 0xFFFF) for c in attrs.get(8, {}).get("communities", [])],
        large_communities=[
            (c.get("ASN", 0), c.get("LocalData1", 0), c.get("LocalData2", 0))
            for c in attrs.get(32, {}).get("value", [])
        ],
        med=med,
        origin=_ORIGINS[attrs.get(1, {}).get("value", 0)],
    )
