"""Convergence (issue 7), in the style of bgperf: N BIRD injectors each announce M distinct
IPv4 prefixes to the route server; measured is the time from enabling the injectors' sessions
until a BIRD monitor (a client announcing nothing) holds all N x M routes.

    .venv/bin/python -m benchmarks.convergence          # both cases and servers, 3 runs
    .venv/bin/python -m benchmarks.convergence --cases 10x10000 --runs 1 --servers ixrs
    .venv/bin/python -m benchmarks.convergence --cases 10x10000 --runs 0 --profile

Both route servers sit at 192.0.2.1 (AS59900) on a network-namespace LAN, one at a time:
ixrs (embedded-broker binary Tansu, one speaker, one worker, started as the interop tests do)
and BIRD 2 configured by ``arouteserver bird`` from the same general.yml and clients.yml
(examples/general.yml with RPKI off and the max-prefix limit above the table; arouteserver's
per-route debug logging removed). Runs alternate between the servers. The injectors load
their tables once per case with their sessions disabled, so BIRD's own load is excluded; per
run the route server starts fresh, the monitor's session comes up, then every injector's
session is enabled at once (t = 0; BIRD waits its minimal 1 s connect delay before it
connects). The monitor's imported-route count is polled (protocol statistics) until it
reaches N x M or the deadline passes.

Reported per case and server: the median over the runs, min and max, the ratio ixrs/BIRD of
the medians, and peak memory: the sum of the peak RSS (VmHWM) of every route-server process
(ixrs: broker, speaker, worker), median over the runs. Also the CPU seconds each process used
during convergence, and those of everything else on the machine (other tests share these two
cores: a run where they used much is flagged), and the load average at the start of each run.

``--profile`` adds, per case, one ixrs run (not counted in the figures) with py-spy recording
the speaker and the worker; the top functions per process are printed and kept in --workdir.

Needs root, iproute2, setpriv, bird2, arouteserver and (for --profile) py-spy in the venv.
Everything lives in namespaces made here and removed at the end; files stay in --workdir.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.convergence.scenario import (
    MONITOR_ADDRESS,
    RS_ADDRESS,
    RS_AS,
    Injector,
    build_bird_rs,
    make_injectors,
    write_monitor_config,
    write_rs_config,
)
from benchmarks.convergence.servers import (
    BirdServer,
    IxrsServer,
    RouteServer,
    bird_ready,
    birdc,
    birdc_all,
    established_since,
    imported,
    protocol_state,
)
from benchmarks.full_table import (
    bird_route_count,
    cpu_delta,
    start_pyspy,
    stop_pyspy,
    system_busy_s,
    thread_cpu,
    vm_hwm_mb,
)
from benchmarks.fulltable.profiles import pyspy_summary
from benchmarks.fulltable.table import write_bird_config
from tests.helpers import wait_for
from tests.lab.daemon import Daemon
from tests.lab.netns import Host, IxpLan, cleanup_stale

NS_PREFIX = "ixrscv"
MONITOR_PROTOCOL = "routeserver"
INJECTOR_PROTOCOL = "ixrs"  # the name benchmarks/fulltable/table.py gives it


@dataclass
class Measurement:
    case: str
    server: str
    run: int  # 1-based; 0: the profiled run
    started: str  # UTC, ISO 8601
    load: str  # /proc/loadavg at the start
    seconds: float | None = None  # None: not converged (timeout or error)
    first_route_s: float | None = None
    # When the last injector's session reached Established (BIRD's own record of it): the
    # part of `seconds` before it is session set-up, BIRD's connect delay included.
    sessions_up_s: float | None = None
    routes: int = 0  # at the monitor when the run ended
    error: str = ""
    rss_peak_mb: float = 0.0  # sum over the server's processes of their VmHWM
    rss_by_process_mb: dict[str, float] = field(default_factory=dict)
    rss_sampled_peak_mb: float = 0.0  # peak of the sum of VmRSS, as polled
    cpu_s: dict[str, dict[str, float]] = field(default_factory=dict)  # process -> thread -> s
    other_cpu_s: float = 0.0
    profile: dict[str, list[str]] = field(default_factory=dict)
    # ixrs: seconds from t = 0 until a role's status counter first reached the table
    # ("speaker received", "worker accepted"), i.e. when each stage was done.
    stages_s: dict[str, float] = field(default_factory=dict)

    def disturbed(self) -> bool:
        """Did processes other than the benchmark's take more than a fifth of a core?"""
        return self.seconds is not None and self.other_cpu_s > 0.2 * self.seconds


@dataclass
class Peers:
    """The BIRD injectors and monitor of one case, up for all its runs."""

    injectors: list[Injector]
    injector_daemons: list[Daemon]
    injector_socks: list[Path]
    monitor: Daemon
    monitor_sock: Path

    @property
    def total(self) -> int:
        return sum(len(i.table.prefixes) for i in self.injectors)

    def pids(self) -> dict[str, int]:
        out = {"monitor": self.monitor.pid}
        out.update({f"injector {n + 1}": d.pid for n, d in enumerate(self.injector_daemons)})
        return out


# --- processes --------------------------------------------------------------------------

def vm_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def harness_cpu_s() -> float:
    """This process plus its reaped children (the birdc calls of the poll loop)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def source_version() -> str:
    """The commit ixrs runs from, plus what in its code differs from it (read-only git): the
    working tree is what runs, and other engineers may be changing it."""
    root = Path(__file__).resolve().parents[2]
    git = ["git", "--no-optional-locks", "-C", str(root)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "speaker", "schemas", "ixrs",
                            "processors"], capture_output=True, text=True,
                           check=False).stdout.split("\n")
    changed = [line[3:] for line in dirty if line.strip()]
    return head + (f" + uncommitted {', '.join(changed)}" if changed else "")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- one run ----------------------------------------------------------------------------

def measure(args: argparse.Namespace, case: str, server: RouteServer, peers: Peers,
            run: int, workdir: Path, port_index: int, profile: bool) -> Measurement:
    m = Measurement(case, server.name, run, datetime.now(UTC).isoformat(timespec="seconds"),
                    loadavg())
    pyspy: dict[str, subprocess.Popen[bytes]] = {}
    try:
        server.start(workdir, port_index)
        birdc(peers.monitor_sock, "enable", MONITOR_PROTOCOL)
        wait_for(lambda: _checked(server) and protocol_state(
            peers.monitor_sock, MONITOR_PROTOCOL) == "Established", 120,
            "the monitor's session to the route server")
        if imported(peers.monitor_sock, MONITOR_PROTOCOL):
            raise RuntimeError("the monitor holds routes before the injectors are enabled")
        pids = server.pids()
        if profile:
            for role in ("speaker", "worker"):
                out = workdir / f"{role}.pyspy.txt"
                (workdir / role).mkdir(exist_ok=True)
                pyspy[role] = start_pyspy(pids[role], out, workdir / role)
        m.load = loadavg()  # again, now that the route server has started
        accounted = {**pids, **peers.pids()}
        cpu_before = {name: thread_cpu(pid) for name, pid in accounted.items()}
        busy_before, harness_before = system_busy_s(), harness_cpu_s()

        t0, t0_wall = time.monotonic(), datetime.now().astimezone()
        birdc_all(peers.injector_socks, "enable", INJECTOR_PROTOCOL)
        deadline = t0 + args.timeout
        while True:
            count = imported(peers.monitor_sock, MONITOR_PROTOCOL)
            now = time.monotonic()
            m.rss_sampled_peak_mb = max(m.rss_sampled_peak_mb,
                                        sum(vm_rss_mb(p) for p in server.pids().values()))
            for key, value in server.progress().items():
                if key.endswith((" received", " accepted")) and value >= peers.total:
                    m.stages_s.setdefault(key, now - t0)
            if count is not None:
                m.routes = count
                if count and m.first_route_s is None:
                    m.first_route_s = now - t0
                if count >= peers.total:
                    m.seconds = now - t0
                    break
            server.check()
            if now > deadline:
                m.error = f"timeout after {args.timeout:.0f} s"
                break
            time.sleep(args.poll)  # the poll interval of a deadline loop, not a synchronisation

        ups = [established_since(s, INJECTOR_PROTOCOL, t0_wall) for s in peers.injector_socks]
        if all(ups):
            m.sessions_up_s = max(u for u in ups if u is not None).timestamp() - t0_wall.timestamp()
        for name, pid in accounted.items():
            m.cpu_s[name] = cpu_delta(cpu_before[name], thread_cpu(pid))
        ours = sum(sum(c.values()) for c in m.cpu_s.values())
        ours += harness_cpu_s() - harness_before
        m.other_cpu_s = max(0.0, system_busy_s() - busy_before - ours)
        for name, pid in server.pids().items():
            m.rss_by_process_mb[name] = vm_hwm_mb(pid) or 0.0
        m.rss_peak_mb = sum(m.rss_by_process_mb.values())
    except Exception as exc:  # reported in the table; the next run starts clean
        m.error = m.error or f"{type(exc).__name__}: {str(exc)[:500]}"
        print(f"  error: {exc}", file=sys.stderr, flush=True)
    finally:
        for role, proc in pyspy.items():
            stop_pyspy(proc)
            out = workdir / f"{role}.pyspy.txt"
            if out.exists():
                m.profile[role] = pyspy_summary(out, args.top)
        # The monitor first, so that the injectors' withdrawals are not sent to it.
        birdc(peers.monitor_sock, "disable", MONITOR_PROTOCOL)
        birdc_all(peers.injector_socks, "disable", INJECTOR_PROTOCOL)
        socks = [peers.monitor_sock, *peers.injector_socks]
        names = [MONITOR_PROTOCOL] + [INJECTOR_PROTOCOL] * len(peers.injector_socks)
        wait_for(lambda: all(protocol_state(s, p) == "down" for s, p in zip(socks, names,
                                                                            strict=True)),
                 60, "the peers' sessions down")
        server.stop()
    return m


def _checked(server: RouteServer) -> bool:
    server.check()
    return True


# --- one case ---------------------------------------------------------------------------

def start_peers(injectors: list[Injector], hosts: list[Host], monitor_host: Host,
                workdir: Path) -> Peers:
    """Every BIRD peer started with its session disabled; returns once each injector's
    table is loaded (BIRD's own load, excluded from every measurement)."""
    daemons, socks = [], []
    for inj, host in zip(injectors, hosts, strict=True):
        directory = workdir / f"injector{inj.index + 1}"
        directory.mkdir(parents=True, exist_ok=True)
        conf = write_bird_config(inj.table, directory, inj.address, inj.asn, RS_ADDRESS, RS_AS)
        sock = directory / "bird.ctl"
        daemons.append(Daemon(host, ["bird", "-f", "-c", str(conf), "-s", str(sock),
                                     "-P", str(directory / "bird.pid")], directory / "bird.log"))
        socks.append(sock)
    monitor_dir = workdir / "monitor"
    monitor_conf = write_monitor_config(monitor_dir)
    monitor_sock = monitor_dir / "bird.ctl"
    monitor = Daemon(monitor_host, ["bird", "-f", "-c", str(monitor_conf), "-s",
                                    str(monitor_sock), "-P", str(monitor_dir / "bird.pid")],
                     monitor_dir / "bird.log")
    peers = Peers(injectors, daemons, socks, monitor, monitor_sock)
    for daemon in [*daemons, monitor]:
        daemon.start()
    started = time.monotonic()

    def loaded() -> bool:
        for daemon in [*daemons, monitor]:
            if not daemon.running():
                raise RuntimeError(f"a BIRD peer exited:\n{daemon.log()[-3000:]}")
        return bird_ready(monitor_sock) and all(
            bird_route_count(s) >= len(i.table.prefixes)
            for s, i in zip(socks, injectors, strict=True))

    wait_for(loaded, 900, "the injectors to load their tables")
    print(f"  injectors loaded in {time.monotonic() - started:.1f} s (excluded)", flush=True)
    return peers


def run_case(args: argparse.Namespace, peers_n: int, prefixes: int, workdir: Path,
             results: list[Measurement], port: list[int]) -> None:
    case = f"{peers_n}x{prefixes}"
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    sets = max(1, args.attr_sets // peers_n)
    injectors = make_injectors(peers_n, prefixes, sets, args.seed)
    general, clients = write_rs_config(workdir, injectors, peers_n * prefixes)
    bird_conf = build_bird_rs(workdir / "bird-rs", general, clients) \
        if "bird" in args.servers else None
    print(f"case {case}: {peers_n} injectors x {prefixes:,} prefixes ({sets:,} attribute sets "
          f"each), configs in {time.monotonic() - started:.1f} s", flush=True)
    cleanup_stale(NS_PREFIX)
    with IxpLan(NS_PREFIX) as lan:
        rs_host = lan.add_host("rs")
        monitor_host = lan.add_host("mon")
        hosts = [lan.add_host(f"inj{i + 1}") for i in range(peers_n)]
        assert rs_host.v4 == RS_ADDRESS and monitor_host.v4 == MONITOR_ADDRESS
        assert [h.v4 for h in hosts] == [i.address for i in injectors]
        servers: dict[str, RouteServer] = {}
        for name in args.servers:
            if name == "ixrs":
                servers[name] = IxrsServer(rs_host, general, clients, args.partitions,
                                           args.workers)
            else:
                assert bird_conf is not None
                servers[name] = BirdServer(rs_host, bird_conf)
        peers = start_peers(injectors, hosts, monitor_host, workdir)
        try:
            plan = [(run, name) for run in range(1, args.runs + 1) for name in args.servers]
            if args.profile:
                plan.append((0, "ixrs"))
            timed_out: set[str] = set()
            for run, name in plan:
                if name in timed_out and run > 0:
                    continue  # one timeout is the answer; more would only take the time
                label = "profiled run" if run == 0 else f"run {run}/{args.runs}"
                print(f"  {name} {label} (load {loadavg()})", flush=True)
                port[0] += 1
                m = measure(args, case, servers[name], peers, run,
                            workdir / f"{name}-run{run}", port[0], profile=run == 0)
                results.append(m)
                if m.seconds is None:
                    timed_out.add(name)
                stages = "".join(f", {k} all at {v:.1f} s" for k, v in m.stages_s.items())
                print(f"    {_seconds(m)}{stages}, peak RSS {m.rss_peak_mb:,.0f} MB, other CPU "
                      f"{m.other_cpu_s:.1f} s", flush=True)
                for role, lines in m.profile.items():
                    print(f"\n  py-spy, ixrs {role} ({case}, profiled run):")
                    print("\n".join(f"    {ln}" for ln in lines), flush=True)
                    (workdir / f"profile-{role}.txt").write_text("\n".join(lines) + "\n")
        finally:
            for daemon in [*peers.injector_daemons, peers.monitor]:
                daemon.kill9()  # BIRD takes long to shut a big table down cleanly


# --- the report -------------------------------------------------------------------------

def _seconds(m: Measurement) -> str:
    if m.seconds is not None:
        return f"{m.seconds:.2f} s"
    return f"NOT CONVERGED ({m.error}; {m.routes:,} routes at the monitor)"


def summary(results: list[Measurement], cases: list[str], servers: list[str]) -> list[str]:
    head = (f"{'case (peers x prefixes)':<24} {'server':<6} {'median':>9} {'min-max':>15} "
            f"{'up->done':>9} {'ixrs/BIRD':>9} {'peak RSS':>9}  runs (load 1-min)")
    lines = [head, "-" * len(head)]
    for case in cases:
        medians: dict[str, float] = {}
        rows = []
        for server in servers:
            runs = [m for m in results if m.case == case and m.server == server and m.run > 0]
            if not runs:
                continue
            done = [m.seconds for m in runs if m.seconds is not None]
            rss = statistics.median(m.rss_peak_mb for m in runs)
            detail = ", ".join((f"{m.seconds:.1f}" if m.seconds is not None else "timeout")
                               + f" ({m.load.split()[0]}{'!' if m.disturbed() else ''})"
                               for m in runs)
            if len(done) == len(runs):
                medians[server] = statistics.median(done)
                text = f"{medians[server]:8.2f}s {min(done):6.2f}-{max(done):6.2f} s"
                after_up = [m.seconds - m.sessions_up_s for m in runs
                            if m.seconds is not None and m.sessions_up_s is not None]
                text += f" {statistics.median(after_up):8.2f}s" if after_up else f" {'':>9}"
            else:
                    text = f"{'timeout':>9} {'':>15} {'':>9}"
            rows.append((server, text, rss, detail))
        ratio = medians["ixrs"] / medians["bird"] if {"ixrs", "bird"} <= medians.keys() else None
        peers_n, prefixes = case.split("x")
        label = f"{int(peers_n)} x {int(prefixes):,}"
        for server, text, rss, detail in rows:
            shown = f"{ratio:9.1f}" if ratio is not None and server == "ixrs" else f"{'':>9}"
            lines.append(f"{label:<24} {server:<6} {text} {shown} {rss:7,.0f}MB  {detail}")
    lines.append("median, min-max: from enabling the injectors' sessions; up->done: from the "
                 "last injector session Established (BIRD's record), median")
    lines.append("peak RSS: sum of VmHWM of the route server's processes (ixrs: broker + "
                 "speaker + worker), median of the runs; '!' marks a run during which other "
                 "processes used over a fifth of a core")
    return lines


def cpu_lines(results: list[Measurement]) -> list[str]:
    """CPU seconds per process during convergence, median over the counted runs."""
    lines = ["CPU seconds during convergence (median of the runs):"]
    keys = sorted({(m.case, m.server) for m in results if m.run > 0 and m.seconds})
    for case, server in keys:
        runs = [m for m in results if (m.case, m.server) == (case, server) and m.run > 0
                and m.seconds]
        names = [n for n in runs[0].cpu_s if not n.startswith(("injector", "monitor"))]
        parts = [f"{n} {statistics.median(sum(m.cpu_s[n].values()) for m in runs):.1f}"
                 for n in names]
        inj = statistics.median(sum(sum(c.values()) for n, c in m.cpu_s.items()
                                    if n.startswith("injector")) for m in runs)
        mon = statistics.median(sum(m.cpu_s["monitor"].values()) for m in runs)
        other = statistics.median(m.other_cpu_s for m in runs)
        lines.append(f"  {case:<10} {server:<5} {', '.join(parts)}; injectors {inj:.1f}, "
                     f"monitor {mon:.1f}, everything else {other:.1f}")
    return lines


def stage_lines(results: list[Measurement]) -> list[str]:
    """When each ixrs stage had the whole table, median over the counted runs."""
    lines = ["ixrs stages, seconds from enabling the injectors (median of the runs):"]
    for case in dict.fromkeys(m.case for m in results):
        runs = [m for m in results if m.case == case and m.server == "ixrs" and m.run > 0
                and m.seconds]
        if not runs:
            continue
        parts = [f"sessions up {statistics.median(m.sessions_up_s or 0 for m in runs):.1f}"]
        for key in ("speaker received", "worker accepted"):
            seen = [m.stages_s[key] for m in runs if key in m.stages_s]
            if seen:
                parts.append(f"{key} all {statistics.median(seen):.1f}")
        parts.append(f"monitor holds all {statistics.median(m.seconds or 0 for m in runs):.1f}")
        lines.append(f"  {case:<10} " + ", ".join(parts))
    return lines


# --- main -------------------------------------------------------------------------------

def parse_case(text: str) -> tuple[int, int]:
    peers, _, prefixes = text.lower().partition("x")
    try:
        return int(peers), int(prefixes)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: PEERSxPREFIXES, e.g. 10x10000") from None


def main() -> int:
    first, _, rest = (__doc__ or "").partition("\n\n")
    parser = argparse.ArgumentParser(prog="python -m benchmarks.convergence",
                                     description=" ".join(first.split()), epilog=rest,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=lambda s: [parse_case(c) for c in s.split(",")],
                        default=[(10, 10_000), (2, 500_000)],
                        help="PEERSxPREFIXES[,...] (default 10x10000,2x500000)")
    parser.add_argument("--servers", type=lambda s: s.split(","), default=["ixrs", "bird"],
                        help="ixrs,bird (default both)")
    parser.add_argument("--runs", type=int, default=3, help="counted runs per case and server")
    parser.add_argument("--profile", action="store_true",
                        help="one more ixrs run per case, with py-spy on speaker and worker")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds a run may take to converge (default 600)")
    parser.add_argument("--poll", type=float, default=0.1,
                        help="seconds between looks at the monitor's route count")
    parser.add_argument("--attr-sets", type=int, default=3000,
                        help="attribute sets over all injectors (default 3000)")
    parser.add_argument("--partitions", type=int, default=8, help="ixrs routes partitions")
    parser.add_argument("--workers", type=int, default=1, help="ixrs workers")
    parser.add_argument("--top", type=int, default=25, help="functions per profile list")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("needs root (network namespaces)")
    if set(args.servers) - {"ixrs", "bird"} or not args.servers:
        parser.error("--servers: ixrs, bird or both")
    if args.profile and "ixrs" not in args.servers:
        parser.error("--profile profiles ixrs")
    missing = [t for t in ("bird", "birdc", "ip", "setpriv") if shutil.which(t) is None]
    if missing:
        parser.error(f"not installed: {', '.join(missing)}")
    if args.workdir is None:
        args.workdir = Path(tempfile.mkdtemp(prefix="ixrs-convergence-"))
    args.workdir.mkdir(parents=True, exist_ok=True)

    command = " ".join([Path(sys.executable).name, "-m", "benchmarks.convergence",
                        *sys.argv[1:]])
    bird_version = subprocess.run(["bird", "--version"], capture_output=True, text=True,
                                  check=False).stderr.strip()
    header = [f"convergence: {command}",
              f"date {datetime.now(UTC).isoformat(timespec='seconds')}, ixrs {source_version()}, "
              f"{bird_version}, {os.cpu_count()} cores, load at start {loadavg()}"]
    print("\n".join(header), flush=True)
    results: list[Measurement] = []
    port = [0]
    try:
        for peers_n, prefixes in args.cases:
            run_case(args, peers_n, prefixes, args.workdir / f"{peers_n}x{prefixes}", results,
                     port)
    finally:
        (args.workdir / "results.json").write_text(
            json.dumps([asdict(m) for m in results], indent=1))
    cases = [f"{p}x{n}" for p, n in args.cases]
    text = "\n".join(["", *header, "", *summary(results, cases, args.servers), "",
                      *cpu_lines(results), "", *stage_lines(results)])
    print(text)
    (args.workdir / "report.txt").write_text(text + "\n")
    print(f"\nfiles: {args.workdir}")
    return 0 if all(m.seconds is not None for m in results) else 1
