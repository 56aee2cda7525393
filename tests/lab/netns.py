"""An IXP peering LAN made of network namespaces, or of loopback aliases, for real BGP daemons.

Every namespace name carries the creating process's PID, so `cleanup_stale` can tell the
leftovers of a crashed run from those of a run still going on in parallel.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

DEFAULT_PREFIX = "ixrslab"
V4_SUBNET = "192.0.2.0/24"
V6_SUBNET = "2001:db8:1::/64"

Mode = Literal["netns", "loopback"]


class LabCommandError(RuntimeError):
    """A lab command failed; carries its output because the daemons' errors are only there."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"{' '.join(self.argv)} exited {returncode}: {stderr.strip() or stdout.strip()}"
        )


def run(
    argv: Sequence[str], check: bool = True, timeout: float = 20.0, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, input=input, check=False
    )
    if check and done.returncode != 0:
        raise LabCommandError(argv, done.returncode, done.stdout, done.stderr)
    return done


@dataclass(frozen=True)
class Host:
    """One speaker's place on the LAN: a namespace with eth0, or a loopback alias on the host."""

    name: str
    v4: str | None
    v6: str | None
    namespace: str | None = None
    v4_prefixlen: int = 24
    v6_prefixlen: int = 64

    @property
    def mode(self) -> Mode:
        return "netns" if self.namespace else "loopback"

    @property
    def needs_multihop(self) -> bool:
        # 127/8 is not a directly connected subnet to BIRD and GoBGP, so their eBGP
        # sessions need multihop (and BIRD an IGP table to resolve next hops).
        return self.namespace is None

    @property
    def control_address(self) -> str:
        """Where a daemon's control API (GoBGP gRPC) listens: private inside a namespace."""
        if self.namespace:
            return "127.0.0.1"
        assert self.v4 is not None
        return self.v4

    def address(self, family: int | str) -> str:
        v6 = family in (6, "ipv6")
        addr = self.v6 if v6 else self.v4
        if addr is None:
            raise ValueError(f"host {self.name} has no IPv{6 if v6 else 4} address")
        return addr

    def command(self, argv: Sequence[str]) -> list[str]:
        if self.namespace is None:
            return list(argv)
        return ["ip", "netns", "exec", self.namespace, *argv]

    def run(
        self,
        argv: Sequence[str],
        check: bool = True,
        timeout: float = 20.0,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return run(self.command(argv), check=check, timeout=timeout, input=input)

    def popen(
        self, argv: Sequence[str], die_with_parent: bool = True, **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        """Start `argv` here. `ip netns exec` execs, so the returned PID is the program's own.

        With die_with_parent the kernel kills the program if the thread that started it dies,
        so a crashed pytest leaves no daemon behind; start long-lived daemons from the main
        thread, or pass False.
        """
        argv = self.command(argv)
        if die_with_parent:
            argv = ["setpriv", "--pdeathsig", "KILL", "--", *argv]
        return subprocess.Popen(argv, **kwargs)


def _ip(*args: str) -> None:
    run(["ip", *args])


def _netns_list() -> list[str]:
    out = run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _netns_pids(namespace: str) -> list[int]:
    out = run(["ip", "netns", "pids", namespace], check=False).stdout
    return [int(p) for p in out.split()]


def _delete_namespace(namespace: str) -> None:
    # A namespace lives on while a process is in it; its veths would linger on the bridge.
    for pid in _netns_pids(namespace):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
    run(["ip", "netns", "delete", namespace], check=False)


def _pid_alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


def netns_available() -> str | None:
    """Why namespaces cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    probe = f"{DEFAULT_PREFIX}-probe-{os.getpid()}-{secrets.token_hex(2)}"
    done = run(["ip", "netns", "add", probe], check=False)
    if done.returncode != 0:
        return f"ip netns add failed: {done.stderr.strip()}"
    run(["ip", "netns", "delete", probe], check=False)
    return None


def cleanup_stale(prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Delete our namespaces whose creating process is gone; returns the names deleted."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(?:probe-)?(\d+)-[0-9a-f]{{4}}(?:-|$)")
    deleted = []
    for namespace in _netns_list():
        match = pattern.match(namespace)
        if match and not _pid_alive(int(match.group(1))):
            _delete_namespace(namespace)
            deleted.append(namespace)
    return deleted


class IxpLan:
    """A bridge `br0` in an "ixp" namespace, and one namespace per host wired to it by a veth.

    with IxpLan("ixrslab") as lan:
        rs = lan.add_host("rs")            # 192.0.2.1/24, 2001:db8:1::1/64
        a = lan.add_host("a")              # 192.0.2.2/24, 2001:db8:1::2/64
        a.run(["ping", "-c1", rs.v4])
    """

    mode: Mode = "netns"

    def __init__(
        self,
        name_prefix: str = DEFAULT_PREFIX,
        v4_subnet: str = V4_SUBNET,
        v6_subnet: str = V6_SUBNET,
    ) -> None:
        self.run_id = f"{name_prefix}-{os.getpid()}-{secrets.token_hex(2)}"
        self.v4_subnet = ipaddress.IPv4Network(v4_subnet)
        self.v6_subnet = ipaddress.IPv6Network(v6_subnet)
        self.ixp_namespace = f"{self.run_id}-ixp"
        self.hosts: dict[str, Host] = {}
        self._namespaces: list[str] = []
        self._next_index = 1

    def __enter__(self) -> IxpLan:
        try:
            self._add_namespace(self.ixp_namespace)
            ns = self.ixp_namespace
            _ip("-n", ns, "link", "add", "br0", "type", "bridge")
            _ip("-n", ns, "link", "set", "br0", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        # Hosts first, so no veth end is left on the bridge while it is being deleted.
        for namespace in reversed(self._namespaces):
            _delete_namespace(namespace)
        self._namespaces.clear()

    def _add_namespace(self, namespace: str) -> None:
        _ip("netns", "add", namespace)
        self._namespaces.append(namespace)
        _ip("-n", namespace, "link", "set", "lo", "up")

    def add_host(
        self, name: str, v4: str | None = None, v6: str | None = None, index: int | None = None
    ) -> Host:
        """A namespace wired to br0. Addresses default to .index in the LAN's subnets,
        index counting up from 1 in the order hosts are added."""
        if name in self.hosts:
            raise ValueError(f"host {name} already exists")
        if not re.fullmatch(r"[a-z0-9]{1,12}", name):
            raise ValueError(f"host name {name!r}: use 1-12 lowercase letters or digits")
        if index is None:
            index = self._next_index
        self._next_index = max(self._next_index, index + 1)
        v4_if = ipaddress.IPv4Interface(v4 or f"{self.v4_subnet[index]}/{self.v4_subnet.prefixlen}")
        v6_if = ipaddress.IPv6Interface(v6 or f"{self.v6_subnet[index]}/{self.v6_subnet.prefixlen}")

        namespace = f"{self.run_id}-{name}"
        self._add_namespace(namespace)
        port = f"v{len(self._namespaces)}"
        ixp = self.ixp_namespace
        _ip(
            "-n",
            ixp,
            "link",
            "add",
            port,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            namespace,
        )
        _ip("-n", ixp, "link", "set", port, "master", "br0", "up")
        _ip("-n", namespace, "addr", "add", str(v4_if), "dev", "eth0")
        # Without nodad the IPv6 address stays tentative (unusable) for about two seconds.
        _ip("-n", namespace, "addr", "add", str(v6_if), "dev", "eth0", "nodad")
        # The fe80:: address would be tentative for a while too, and BIRD adds a link-local
        # next hop only once it is usable: without DAD the NEXT_HOPs are the same every run.
        run(["ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0"])
        _ip("-n", namespace, "link", "set", "eth0", "up")

        host = Host(
            name=name,
            v4=str(v4_if.ip),
            v6=str(v6_if.ip),
            namespace=namespace,
            v4_prefixlen=v4_if.network.prefixlen,
            v6_prefixlen=v6_if.network.prefixlen,
        )
        self.hosts[name] = host
        return host


class LoopbackLan:
    """Hosts as 127/8 aliases in the root namespace: IPv4 only, no root needed to set up.

    Each LAN takes a random 127.x.y.0/24 so parallel runs do not fight over addresses;
    BIRD and GoBGP peers on it use multihop (see Host.needs_multihop).
    """

    mode: Mode = "loopback"

    def __init__(self, name_prefix: str = DEFAULT_PREFIX, base: str | None = None) -> None:
        self.run_id = f"{name_prefix}-{os.getpid()}-{secrets.token_hex(2)}"
        if base is None:
            base = f"127.{secrets.choice(range(64, 128))}.{secrets.randbelow(256)}.0"
        self.base = ipaddress.IPv4Address(base)
        self.hosts: dict[str, Host] = {}
        self._next_index = 1

    def __enter__(self) -> LoopbackLan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.hosts.clear()

    def add_host(self, name: str, v4: str | None = None, index: int | None = None) -> Host:
        if name in self.hosts:
            raise ValueError(f"host {name} already exists")
        if index is None:
            index = self._next_index
        self._next_index = max(self._next_index, index + 1)
        host = Host(name=name, v4=v4 or str(self.base + index), v6=None, v4_prefixlen=8)
        self.hosts[name] = host
        return host
