"""What every lab peer shares: files, lifecycle, signals and waiting on its state."""

from __future__ import annotations

import abc
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import ClassVar, TypeVar

from tests.helpers import wait_for
from tests.lab.daemon import Daemon
from tests.lab.netns import Host
from tests.lab.spec import (
    Family,
    Neighbor,
    PeerSpec,
    Route,
    RouteView,
    canonical_address,
    canonical_prefix,
)

T = TypeVar("T")


class PeerError(RuntimeError):
    pass


class Peer(abc.ABC):
    """A real BGP daemon in a Host, configured from a PeerSpec; a context manager.

    with BirdPeer(host, spec, tmp_path / "a") as peer:
        peer.wait_established()
        peer.announce(Route("185.50.1.0/24"))
    """

    kind: ClassVar[str]
    start_timeout: ClassVar[float] = 15.0

    def __init__(self, host: Host, spec: PeerSpec, workdir: Path | None = None) -> None:
        self.host = host
        self.spec = spec
        self.name = spec.name or host.name
        if workdir is None:
            workdir = Path(tempfile.mkdtemp(prefix=f"ixrslab-{self.kind}-{self.name}-"))
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        # What the peer announces now, by prefix; announce/withdraw keep it current so a
        # restart() re-announces the same set.
        self.routes: dict[str, Route] = {r.prefix: r for r in spec.routes}
        self.daemon = Daemon(host, self._argv(), self.workdir / f"{self.kind}.log", self._env())

    # -- addresses -------------------------------------------------------------------------

    @property
    def local_v4(self) -> str | None:
        return self.spec.local_v4 or self.host.v4

    @property
    def local_v6(self) -> str | None:
        return self.spec.local_v6 or self.host.v6

    @property
    def router_id(self) -> str:
        rid = self.spec.router_id or self.local_v4
        if rid is None:
            raise PeerError(f"{self.name}: an IPv6-only peer needs an explicit router_id")
        return rid

    def local_address(self, family: Family) -> str:
        addr = self.local_v6 if family == "ipv6" else self.local_v4
        if addr is None:
            raise PeerError(f"{self.name} has no local {family} address")
        return addr

    def session_address(self, neighbor: Neighbor) -> str:
        """The local address a session to `neighbor` runs from: same family as its address."""
        return self.local_address("ipv6" if ":" in neighbor.address else "ipv4")

    def next_hop(self, route: Route) -> str:
        return route.next_hop or self.local_address(route.family)

    def expected_view(self, route: Route) -> RouteView:
        """The route as another client should receive it through a transparent route server."""
        return RouteView.expected(route, self.spec.asn, self.next_hop(route))

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Peer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._write_config()
        self.daemon.start()
        try:
            wait_for(self._ready_or_dead, self.start_timeout, f"{self.kind} {self.name} to start")
            self._after_start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.daemon.stop()

    def restart(self) -> None:
        """Stop and start again with the current routes: the sessions go down and come back."""
        self.stop()
        self.start()

    def freeze(self) -> None:
        self.daemon.freeze()

    def thaw(self) -> None:
        self.daemon.thaw()

    def kill9(self) -> None:
        self.daemon.kill9()

    def running(self) -> bool:
        return self.daemon.running()

    def log(self) -> str:
        return self.daemon.log()

    def _ready_or_dead(self) -> bool:
        if not self.daemon.running():
            raise PeerError(
                f"{self.kind} {self.name} exited with {self.daemon.exit_code()}:\n"
                f"{self.daemon.log()[-3000:]}"
            )
        return self._ready()

    # -- sessions and routes ---------------------------------------------------------------

    def established(self, neighbor: str | None = None) -> bool:
        """Is the session to `neighbor` (an address) Established; with None, are all?"""
        states = self.session_states()
        if neighbor is not None:
            return states.get(canonical_address(neighbor), False)
        return bool(states) and all(states.values())

    def wait_established(self, neighbor: str | None = None, timeout: float = 30.0) -> None:
        what = f"{self.kind} {self.name} session to {neighbor or 'every neighbor'} Established"
        wait_for(lambda: self._running_and(lambda: self.established(neighbor)), timeout, what)

    def wait_down(self, neighbor: str | None = None, timeout: float = 30.0) -> None:
        def down() -> bool:
            states = self.session_states()
            if neighbor is not None:
                return not states.get(canonical_address(neighbor), False)
            return not any(states.values())

        what = f"{self.kind} {self.name} session to {neighbor or 'every neighbor'} down"
        wait_for(lambda: self._running_and(down), timeout, what)

    def route(self, prefix: str) -> RouteView | None:
        """The received route for `prefix`, if any (the first one when several)."""
        prefix = canonical_prefix(prefix)
        return next((r for r in self.received_routes() if r.prefix == prefix), None)

    def wait_route(self, prefix: str, timeout: float = 20.0) -> RouteView:
        what = f"{self.kind} {self.name} to receive {prefix}"
        return wait_for(lambda: self._running_and(lambda: self.route(prefix)), timeout, what)

    def wait_no_route(self, prefix: str, timeout: float = 20.0) -> None:
        what = f"{prefix} to disappear from {self.kind} {self.name}"
        wait_for(lambda: self._running_and(lambda: self.route(prefix) is None), timeout, what)

    def announce(self, route: Route) -> None:
        self.routes[route.prefix] = route
        self._announce(route)

    def withdraw(self, prefix: str) -> None:
        prefix = canonical_prefix(prefix)
        route = self.routes.pop(prefix, None)
        if route is None:
            raise PeerError(f"{self.name} does not announce {prefix}")
        self._withdraw(route)

    def _running_and(self, condition: Callable[[], T]) -> T:
        # A daemon that died fails the wait at once, with its log, instead of at the deadline.
        self._ready_or_dead()
        return condition()

    # -- per implementation ----------------------------------------------------------------

    @abc.abstractmethod
    def _argv(self) -> list[str]: ...

    def _env(self) -> dict[str, str] | None:
        return None

    def _after_start(self) -> None:
        """Runs once the daemon is ready, e.g. to add routes a config file cannot hold."""
        return None

    @abc.abstractmethod
    def _write_config(self) -> None: ...

    @abc.abstractmethod
    def _ready(self) -> bool: ...

    @abc.abstractmethod
    def session_states(self) -> dict[str, bool]:
        """Neighbour address -> Established?"""

    @abc.abstractmethod
    def received_routes(self) -> list[RouteView]: ...

    @abc.abstractmethod
    def _announce(self, route: Route) -> None: ...

    @abc.abstractmethod
    def _withdraw(self, route: Route) -> None: ...
