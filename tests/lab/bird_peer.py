"""BIRD 2 as a lab peer: own -c/-s/-P files, routes from a static protocol, birdc to look."""

from __future__ import annotations

import re
from pathlib import Path

from tests.lab.base import Peer, PeerError
from tests.lab.netns import Host, run
from tests.lab.spec import Family, Neighbor, PeerSpec, Route, RouteView, canonical_address

_ORIGINS = {"igp": "ORIGIN_IGP", "egp": "ORIGIN_EGP", "incomplete": "ORIGIN_INCOMPLETE"}
_FAMILIES: tuple[Family, ...] = ("ipv4", "ipv6")


def protocol_name(neighbor: Neighbor) -> str:
    return "nb_" + re.sub(r"[^0-9a-f]", "_", neighbor.address)


class BirdPeer(Peer):
    """bird -f -c bird.conf -s bird.ctl -P bird.pid, in the Host.

    Own routes sit in a static protocol as blackholes; the per-family export filter gives each
    one its BGP attributes, because BIRD only keeps a MED on eBGP export when a filter sets it.
    Neighbours with rs_client=True also get every BGP route the peer learned (a hub).
    """

    kind = "bird"

    def __init__(self, host: Host, spec: PeerSpec, workdir: Path | None = None) -> None:
        super().__init__(host, spec, workdir)
        self.config_path = self.workdir / "bird.conf"
        self.routes_path = self.workdir / "routes.conf"
        self.socket_path = self.workdir / "bird.ctl"

    def _argv(self) -> list[str]:
        return [
            "bird", "-f",
            "-c", str(self.workdir / "bird.conf"),
            "-s", str(self.workdir / "bird.ctl"),
            "-P", str(self.workdir / "bird.pid"),
        ]  # fmt: skip

    # -- config ----------------------------------------------------------------------------

    def _write_config(self) -> None:
        self.routes_path.write_text(self._routes_config())
        self.config_path.write_text(self._main_config())
        # A syntax error would otherwise only show as "bird exited" in the start wait.
        done = self.host.run(["bird", "-p", "-c", str(self.config_path)], check=False)
        if done.returncode != 0:
            raise PeerError(f"bird rejected {self.config_path}: {done.stderr.strip()}")

    def _main_config(self) -> str:
        lines = [
            "log stderr all;",
            f"router id {self.router_id};",
            "protocol device { scan time 10; }",
        ]
        if self.host.needs_multihop:
            # 127/8 is no directly connected subnet to BIRD: it resolves next hops through
            # an IGP table routing everything to lo.
            lines += [
                "ipv4 table igp4;",
                'protocol static igp_lo { ipv4 { table igp4; }; route 0.0.0.0/0 via "lo"; }',
            ]
        lines.append(f'include "{self.routes_path}";')
        lines += [self._bgp_protocol(n) for n in self.spec.neighbors]
        return "\n".join(lines) + "\n"

    def _bgp_protocol(self, neighbor: Neighbor) -> str:
        hold = neighbor.hold_time
        keepalive = max(1, hold // 3) if hold else 0
        opts = [
            f"local {self.session_address(neighbor)} as {self.spec.asn};",
            f"neighbor {neighbor.address} as {neighbor.asn};",
            "strict bind yes;",
            f"hold time {hold};",
            f"keepalive time {keepalive};",
            "connect delay time 1;",
            f"connect retry time {neighbor.connect_retry};",
            "error wait time 1, 10;",
        ]
        if neighbor.passive:
            opts.append("passive on;")
        if neighbor.rs_client:
            opts.append("rs client;")
        if self.host.needs_multihop:
            opts.append("multihop 2;")
        for family in neighbor.families:
            export = f"lab_rs_{family}" if neighbor.rs_client else f"lab_export_{family}"
            igp = " igp table igp4;" if self.host.needs_multihop and family == "ipv4" else ""
            opts.append(f"{family} {{ import all; export filter {export};{igp} }};")
        body = "\n".join(f"  {o}" for o in opts)
        return f"protocol bgp {protocol_name(neighbor)} {{\n{body}\n}}"

    def _routes_config(self) -> str:
        """The part `announce`/`withdraw` rewrite before `birdc configure`."""
        parts = []
        for family in _FAMILIES:
            routes = [r for r in self.routes.values() if r.family == family]
            statics = "".join(f"  route {r.prefix} blackhole;\n" for r in routes)
            parts.append(f"protocol static lab_routes_{family} {{\n  {family};\n{statics}}}")
            branches = "".join(self._export_branch(r) for r in routes)
            parts.append(f"filter lab_export_{family} {{\n{branches}  reject;\n}}")
            parts.append(
                f"filter lab_rs_{family} {{\n{branches}"
                "  if source = RTS_BGP then accept;\n  reject;\n}"
            )
        return "\n".join(parts) + "\n"

    def _export_branch(self, route: Route) -> str:
        if route.attributes:
            raise PeerError("raw path attributes need ExabgpPeer")
        if not route.prepend_own_as:
            raise PeerError("BIRD always prepends its own ASN on eBGP; use ExabgpPeer")
        sets = [
            f"bgp_origin = {_ORIGINS[route.origin]};",
            f"bgp_next_hop = {self.next_hop(route)};",
            "bgp_path = +empty+;",
        ]
        sets += [f"bgp_path.prepend({asn});" for asn in reversed(route.as_path)]
        sets += [f"bgp_community.add(({a},{b}));" for a, b in route.communities]
        sets += [f"bgp_large_community.add(({a},{b},{c}));" for a, b, c in route.large_communities]
        if route.med is not None:
            sets.append(f"bgp_med = {route.med};")
        body = "".join(f"    {s}\n" for s in sets)
        return f"  if net = {route.prefix} then {{\n{body}    accept;\n  }}\n"

    # -- control ---------------------------------------------------------------------------

    def birdc(self, *command: str, check: bool = True) -> str:
        # The control socket is a file, reachable from outside the namespace.
        done = run(["birdc", "-s", str(self.socket_path), *command], check=False)
        if check and (done.returncode != 0 or _bird_error(done.stdout)):
            raise PeerError(f"birdc {' '.join(command)}: {done.stdout.strip()} {done.stderr}")
        return done.stdout

    def _ready(self) -> bool:
        if not self.socket_path.exists():
            return False
        return "Daemon is up and running" in self.birdc("show", "status", check=False)

    def configure(self) -> None:
        """Reload the config files; route and filter changes do not reset the sessions."""
        out = self.birdc("configure")
        if "Reconfigured" not in out and "Reconfiguration in progress" not in out:
            raise PeerError(f"birdc configure: {out.strip()}")

    def session_states(self) -> dict[str, bool]:
        out = self.birdc("show", "protocols")
        states = {}
        for neighbor in self.spec.neighbors:
            name = protocol_name(neighbor)
            line = next((ln for ln in out.splitlines() if ln.split()[:1] == [name]), "")
            states[neighbor.address] = line.rstrip().endswith("Established")
        return states

    def received_routes(self) -> list[RouteView]:
        """Every BGP route in the tables (all paths, not only the best)."""
        return parse_show_route(
            self.birdc("show", "route", "all", "where", "source", "=", "RTS_BGP")
        )

    def exported_routes(self, neighbor: str | None = None) -> list[RouteView]:
        """`show route export NAME all`: what passes the export filter to `neighbor`
        (default: the first). BIRD shows it before its own-ASN prepend on eBGP, which is
        added here so the view matches what the neighbour receives."""
        nb = self._neighbor(neighbor)
        routes = parse_show_route(self.birdc("show", "route", "export", protocol_name(nb), "all"))
        if nb.rs_client:
            return routes
        return [
            RouteView(r.prefix, r.next_hop, (self.spec.asn, *r.as_path), r.communities,
                      r.large_communities, r.med, r.origin)
            for r in routes
        ]  # fmt: skip

    def _neighbor(self, address: str | None) -> Neighbor:
        if address is None:
            return self.spec.neighbors[0]
        address = canonical_address(address)
        for nb in self.spec.neighbors:
            if nb.address == address:
                return nb
        raise PeerError(f"{self.name} has no neighbor {address}")

    def _announce(self, route: Route) -> None:
        self.routes_path.write_text(self._routes_config())
        self.configure()

    def _withdraw(self, route: Route) -> None:
        self.routes_path.write_text(self._routes_config())
        self.configure()


def _bird_error(output: str) -> bool:
    # birdc exits 0 even on errors; replies with codes 8xxx/9xxx are errors.
    return any(re.match(r"^[89]\d{3}[ -]", line) for line in output.splitlines())


_ROUTE_START = re.compile(r"^(?P<prefix>\S+)?\s+(?:unicast|blackhole|unreachable|prohibited)\b")


def parse_show_route(output: str) -> list[RouteView]:
    """Parse `birdc show route all`: a net line, then per route a line and its attributes."""
    routes: list[RouteView] = []
    prefix: str | None = None
    attrs: dict[str, str] | None = None

    def flush() -> None:
        if prefix is not None and attrs is not None and "BGP.as_path" in attrs:
            routes.append(_route_view(prefix, attrs))

    for line in output.splitlines():
        if line.startswith(("BIRD ", "Table ", "Access restricted")) or not line.strip():
            continue
        start = _ROUTE_START.match(line)
        if start and not line.startswith("\t"):
            flush()
            prefix = start.group("prefix") or prefix
            attrs = {}
            continue
        if attrs is not None and ":" in line:
            key, _, value = line.strip().partition(":")
            attrs[key.strip()] = value.strip()
    flush()
    return routes


def _route_view(prefix: str, attrs: dict[str, str]) -> RouteView:
    # An IPv6 next hop may be "global link-local"; the global one is what the routes compare.
    next_hop = attrs.get("BGP.next_hop", "").split()
    med = attrs.get("BGP.med")
    return RouteView.build(
        prefix=prefix,
        next_hop=next_hop[0] if next_hop else "0.0.0.0",
        as_path=[int(a) for a in re.findall(r"\d+", attrs.get("BGP.as_path", ""))],
        communities=[
            (int(a), int(b))
            for a, b in re.findall(r"\((\d+),\s*(\d+)\)", attrs.get("BGP.community", ""))
        ],
        large_communities=[
            (int(a), int(b), int(c))
            for a, b, c in re.findall(
                r"\((\d+),\s*(\d+),\s*(\d+)\)", attrs.get("BGP.large_community", "")
            )
        ],
        med=int(med) if med is not None else None,
        origin=attrs.get("BGP.origin", "IGP").lower(),  # type: ignore[arg-type]
    )
