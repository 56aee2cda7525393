"""Full-table ingest (issue 3): a BIRD peer announces a full IPv4 table to the ixrs speaker on a
network-namespace LAN, and the speaker writes it to the embedded broker (Tansu).

    sudo .venv/bin/python benchmarks/full_table.py                      # 1,000,000 prefixes
    sudo .venv/bin/python benchmarks/full_table.py --runs 5             # five sessions, median
    sudo .venv/bin/python benchmarks/full_table.py --prefixes 100000    # a quick run
    sudo .venv/bin/python benchmarks/full_table.py --profile py-spy     # and where the time goes

The time varies a lot from session to session, because BIRD packs fewer prefixes into each
UPDATE the faster the speaker reads, and the speaker's cost is mostly per UPDATE and per
event: use --runs to see the spread (BIRD loads its table once for all sessions).

What is measured (all times are wall-clock, one clock: every process runs on this machine):

- start, "OPEN": the speaker's SessionChange to OPENSENT, i.e. the moment it accepted BIRD's
  TCP connection and sent its OPEN (the event's header time, read back from the sessions
  topic). BIRD's own load time (config parse plus 1M static routes into its table) is measured
  separately and excluded: its BGP protocol starts disabled and is enabled with birdc only
  once its table is full.
- end, "last event acked": the moment the session's window of events in flight drained for
  the last time, i.e. the speaker's event loop handled the broker's acknowledgement (delivery
  report) of the last RawUpdate or ReceivedRoutes event it produced, once it had handled
  UPDATEs carrying every prefix. This comes from a launcher that wraps a few speaker methods
  (benchmarks/fulltable/launch_speaker.py); the speaker code is unchanged. The events written
  are counted by reading the topics back afterwards.
- with --tail, a cross-check, "seen in topic": the moment a consumer inside the namespace,
  tailing the routes topic from the start of the run, received the event that took the count
  of announced prefixes to the full table. It is off by default because a consumer tailing
  a growing partition costs Tansu (memory storage) CPU that grows with the partition: with
  it the broker burns 3-4 times the CPU, on a machine of two cores shared by all processes.
  Without it the routes topic is read once the run is over, to count and check the events.

Also reported: prefixes/s over OPEN -> last event acked, the UPDATEs BIRD sent (BIRD packs
fewer prefixes per UPDATE the faster the speaker reads, so this varies from run to run and
drives the time), the events written per topic, socket reads, read pauses (the window of
events in flight filled up) and the time stalled waiting for acknowledgements, the share of
the session the speaker's main thread spent on a CPU, peak RSS (VmHWM) of the speaker, the
broker and BIRD, and the CPU seconds of each during the session (per thread), and of
everything else on the machine: the machine has two cores, and a session during which other
processes ran (other tests) is flagged as disturbed. With
``--profile py-spy`` (py-spy from PyPI in the venv) or ``--profile cprofile`` the speaker is
profiled over the session and the top functions are printed; the figures of a profiled run
include the profiler's overhead.

Needs root, iproute2, setpriv, Debian's bird2. Everything lives in namespaces this script
creates (192.0.2.0/24 inside them only) and is removed at the end; files stay in --workdir.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition  # noqa: E402
from fulltable.profiles import cprofile_summary, pyspy_summary  # noqa: E402
from fulltable.table import Table, write_bird_config  # noqa: E402

from ixrs.eventlog import SingleObjectFraming, consumer_config  # noqa: E402
from schemas.events import ReceivedRoutes, SessionChange, SessionState  # noqa: E402
from tests.helpers import wait_for  # noqa: E402
from tests.interop.system import IxrsOnLan, in_namespace  # noqa: E402
from tests.lab.daemon import Daemon  # noqa: E402
from tests.lab.netns import Host, IxpLan, cleanup_stale, run  # noqa: E402

NS_PREFIX = "ixrsft"
RS_AS = 59900
PEER_AS = 20002
LAUNCHER = ROOT / "benchmarks" / "fulltable" / "launch_speaker.py"
CLK_TCK = os.sysconf("SC_CLK_TCK")
_CLONE_NEWNET = 0x40000000


# --- processes ---------------------------------------------------------------------------

def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set size of a live process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) per thread name; same-named threads are summed."""
    out: Counter[str] = Counter()
    with contextlib.suppress(FileNotFoundError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(FileNotFoundError):
                stat = Path(f"/proc/{pid}/task/{task}/stat").read_text()
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                fields = stat[stat.rindex(")") + 2:].split()
                if task == str(pid):
                    name = f"{name} (main)"
                out[name] += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return dict(out)


def system_busy_s() -> float:
    """CPU seconds all processes of the machine have used so far (/proc/stat, non-idle)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}


# --- reading the log from inside the namespace -------------------------------------------

class RoutesTail(threading.Thread):
    """Receives every record of the routes topic as it is written, from inside the namespace.

    It keeps the raw values with their arrival times and decodes nothing during the run, so
    that it takes next to no CPU from the speaker; `analyse` decodes afterwards.
    """

    def __init__(self, namespace: str, bootstrap: str, topic: str, partitions: int) -> None:
        super().__init__(name="routes-tail", daemon=True)
        self.namespace, self.bootstrap, self.topic = namespace, bootstrap, topic
        self.partitions = partitions
        self.records: list[tuple[float, int, int, bytes]] = []  # arrival, partition, ts, value
        self.ready = threading.Event()
        self.finish = threading.Event()  # set: stop at the end of every partition
        self.stop_event = threading.Event()  # set: stop now
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/var/run/netns/{self.namespace}", os.O_RDONLY)
            try:
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            consumer = Consumer(consumer_config(self.bootstrap, **{"fetch.wait.max.ms": 10}))
            try:
                consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING)
                                 for p in range(self.partitions)])
                self.ready.set()
                at_end: set[int] = set()
                while not self.stop_event.is_set():
                    if self.finish.is_set() and len(at_end) == self.partitions:
                        break
                    batch = consumer.consume(2000, 0.05)
                    now = time.time()
                    for msg in batch:
                        err = msg.error()
                        if err is not None:
                            if err.code() == KafkaError._PARTITION_EOF:
                                at_end.add(msg.partition())
                                continue
                            raise RuntimeError(f"reading {self.topic}: {err}")
                        at_end.discard(msg.partition())
                        self.records.append((now, msg.partition(), msg.timestamp()[1],
                                             msg.value()))
            finally:
                consumer.close()
        except BaseException as exc:
            self.error = exc
            self.ready.set()


def count_records(namespace: str, bootstrap: str, topic: str, partitions: int) -> int:
    """Records in a topic now, counted from fetches up to partition EOF (not watermarks,
    which Tansu reports wrongly after batched produce)."""
    def count() -> int:
        consumer = Consumer(consumer_config(bootstrap, **{"fetch.wait.max.ms": 10}))
        try:
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                             for p in range(partitions)])
            open_partitions, n = set(range(partitions)), 0
            deadline = time.monotonic() + 60
            while open_partitions and time.monotonic() < deadline:
                for msg in consumer.consume(5000, 0.2):
                    err = msg.error()
                    if err is None:
                        n += 1
                    elif err.code() == KafkaError._PARTITION_EOF:
                        open_partitions.discard(msg.partition())
                    else:
                        raise RuntimeError(f"reading {topic}: {err}")
            return n
        finally:
            consumer.close()

    return in_namespace(namespace, count)


# --- one session -------------------------------------------------------------------------

@dataclass
class Run:
    """One session: BIRD's whole table into a fresh broker and speaker."""

    index: int
    times: dict[str, float] = field(default_factory=dict)  # wall clock, seconds
    speaker: dict[str, Any] = field(default_factory=dict)  # the launcher's stats
    rss_mb: dict[str, float | None] = field(default_factory=dict)
    cpu_s: dict[str, dict[str, float]] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    announced: int = 0
    distinct: int = 0
    profile: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        """OPEN -> last event acknowledged, in seconds."""
        return self.speaker["last_drain"] - self.times["opensent"]

    @property
    def events_written(self) -> int:
        return sum(v for k, v in self.events.items() if ":" not in k)

    def disturbed(self) -> bool:
        """Did other processes take more than a tenth of a core during the session?"""
        return sum(self.cpu_s.get("everything else", {}).values()) > 0.1 * self.total

    def main_cpu(self) -> float:
        return sum(v for k, v in self.cpu_s.get("speaker", {}).items() if k.endswith("(main)"))


@dataclass
class Result:
    args: dict[str, Any]
    source: str = ""  # the commit, and what under speaker/ schemas/ ixrs/ differs from it
    bird_version: str = ""
    table_s: float = 0.0
    bird_load_s: float = 0.0
    runs: list[Run] = field(default_factory=list)

    def median_run(self) -> Run:
        return sorted(self.runs, key=lambda r: r.total)[(len(self.runs) - 1) // 2]


@dataclass
class Lan:
    """What stays up across sessions: the LAN and BIRD with its table."""

    rs_host: Host
    bird: Daemon
    sock: Path
    general: Path
    clients: Path


def start_speaker(rs: IxrsOnLan, workdir: Path, stats: Path, cprofile: Path | None,
                  preload: Path | None = None) -> subprocess.Popen[bytes]:
    log = workdir / "speaker.log"
    argv = [sys.executable, str(LAUNCHER), str(stats)]
    if cprofile is not None:
        argv += ["--cprofile", str(cprofile)]
    argv += ["--", "speaker", "--bootstrap", rs.bootstrap, "--general", str(rs.general),
             "--clients", str(rs.clients), "--deploy", str(rs.deploy),
             "--state-dir", str(workdir / "state")]
    env = dict(os.environ)
    env.pop("IXRS_BENCH_PRELOAD", None)
    if preload is not None:
        env["IXRS_BENCH_PRELOAD"] = str(preload.resolve())
    with log.open("wb") as sink:
        proc = rs.host.popen(argv, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    rs.roles["speaker"] = proc

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"the speaker exited:\n{log.read_text()}")
        return "bgp: " in log.read_text()

    wait_for(ready, 60, "the speaker to listen")
    return proc


def read_stats(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def birdc(socket_path: Path, *command: str) -> str:
    return run(["birdc", "-s", str(socket_path), *command]).stdout


def bird_route_count(socket_path: Path) -> int:
    try:
        out = run(["birdc", "-s", str(socket_path), "show", "route", "count"], check=False,
                  timeout=120).stdout
    except subprocess.TimeoutExpired:  # BIRD is busy loading
        return -1
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1:4] == ["of", parts[2], "routes"] and parts[0].isdigit():
            return int(parts[0])
    return -1


def bird_session_down(socket_path: Path) -> bool:
    out = run(["birdc", "-s", str(socket_path), "show", "protocols", "ixrs"], check=False).stdout
    line = next((ln for ln in out.splitlines() if ln.split()[:1] == ["ixrs"]), "")
    return " down " in f" {line} "


def run_session(args: argparse.Namespace, lan: Lan, index: int, workdir: Path,
                profile: str) -> Run:
    """BIRD's session enabled, the table ingested and acknowledged, then disabled again."""
    result = Run(index)
    workdir.mkdir(parents=True, exist_ok=True)
    stats_path = workdir / "speaker-stats.json"
    stats_path.unlink(missing_ok=True)
    cprofile_path = workdir / "speaker.cprofile" if profile == "cprofile" else None
    pyspy_path = workdir / "speaker.pyspy.txt"
    rs = IxrsOnLan(lan.rs_host, workdir, lan.general, lan.clients, partitions=args.partitions)
    rs.port = 19092 + index  # a fresh port: the last broker's may linger in TIME_WAIT
    rs.bootstrap = f"127.0.0.1:{rs.port}"
    namespace = lan.rs_host.namespace
    assert namespace
    tail: RoutesTail | None = None
    pyspy: subprocess.Popen[bytes] | None = None
    enabled = False
    try:
        rs.start_broker()
        speaker = start_speaker(rs, workdir, stats_path, cprofile_path, args.speaker_preload)
        assert rs.broker is not None
        wait_for(lambda: read_stats(stats_path).get("pid") == speaker.pid, 10,
                 "the speaker's stats")
        routes_topic = rs.prefix + "routes"

        def start_tail() -> RoutesTail:
            reader = RoutesTail(namespace, rs.bootstrap, routes_topic, args.partitions)
            reader.start()
            reader.ready.wait(30)
            if reader.error:
                raise reader.error
            return reader

        if args.tail:
            tail = start_tail()
        pids = {"speaker": speaker.pid, "broker": rs.broker.pid, "bird": lan.bird.pid,
                "harness": os.getpid()}  # this script: with --tail, it reads the topic
        if profile == "py-spy":
            pyspy = start_pyspy(speaker.pid, pyspy_path, workdir, args.idle)
            pids["py-spy"] = pyspy.pid
        cpu_before = {name: thread_cpu(pid) for name, pid in pids.items()}
        busy_before = system_busy_s()

        # The session: BIRD connects, the speaker ingests.
        birdc(lan.sock, "enable", "ixrs")
        enabled = True
        result.times["enabled"] = time.time()

        def done() -> dict[str, Any] | None:
            if speaker.poll() is not None:
                raise RuntimeError(f"speaker exited {speaker.returncode}")
            if tail is not None and tail.error:
                raise tail.error
            st = read_stats(stats_path)
            if st.get("failed"):
                raise RuntimeError(f"the broker refused events: {st['failed']}")
            if st.get("prefixes", 0) < args.prefixes or st["sessions"] != 1:
                return None
            # Every UPDATE handled, and every event of them acknowledged since.
            if st["pending"] or not st["last_drain"] or st["last_drain"] < st["last_update"]:
                return None
            return st

        try:
            st = wait_for(done, args.timeout, "the full table to be acknowledged")
        except AssertionError:
            print(f"timed out; speaker stats: {read_stats(stats_path)}", file=sys.stderr)
            print(birdc(lan.sock, "show", "protocols", "all", "ixrs"), file=sys.stderr)
            raise
        time.sleep(0.5)  # nothing more arrives: no duplicate or late UPDATEs
        result.speaker = read_stats(stats_path)
        if result.speaker["prefixes"] != st["prefixes"]:
            print(f"warning: more UPDATEs after the table: {result.speaker}", file=sys.stderr)
        for name, pid in pids.items():
            result.rss_mb[name] = vm_hwm_mb(pid)
            result.cpu_s[name] = cpu_delta(cpu_before[name], thread_cpu(pid))
        # Whatever else ran on the machine meanwhile (other tests?) slows the session down.
        ours = sum(sum(c.values()) for c in result.cpu_s.values())
        result.cpu_s["everything else"] = {"": max(0.0, system_busy_s() - busy_before - ours)}
        if pyspy is not None:
            stop_pyspy(pyspy)
            pyspy = None
        if tail is None:  # read the routes topic now, after the run
            tail = start_tail()
        tail.finish.set()  # to the end of every partition
        tail.join(300)
        if tail.error:
            raise tail.error

        # Read the log back.
        sessions = rs.events("sessions", partitions=1)
        changes = [e for e in sessions if isinstance(e, SessionChange)]
        for state in (SessionState.OPENSENT, SessionState.ESTABLISHED):
            first = next((e for e in changes if e.state == state), None)
            if first is None:
                raise RuntimeError(f"no SessionChange to {state.name} in the log")
            result.times[state.name.lower()] = first.header.event_time_us / 1e6
        for key in ("first_update", "last_update", "last_drain"):
            result.times[key] = result.speaker[key]
        analyse_routes(result, tail.records, args.prefixes, live=args.tail)
        result.events["sessions"] = len(sessions)
        result.events["raw-updates"] = count_records(namespace, rs.bootstrap,
                                                     rs.prefix + "raw-updates", args.partitions)
    finally:
        if pyspy is not None:
            stop_pyspy(pyspy)
        if tail is not None:
            tail.stop_event.set()
            tail.join(10)
        if enabled:  # BIRD keeps its table for the next session
            run(["birdc", "-s", str(lan.sock), "disable", "ixrs"], check=False)
            with contextlib.suppress(AssertionError):
                wait_for(lambda: bird_session_down(lan.sock), 30, "BIRD's session down")
        rs.close()  # SIGTERM: the speaker flushes and exits (and writes its cProfile)

    if profile == "py-spy" and pyspy_path.exists():
        result.profile = pyspy_summary(pyspy_path, args.top, args.idle)
    elif cprofile_path is not None and cprofile_path.exists():
        result.profile = cprofile_summary(cprofile_path, args.top)
    return result


def run_benchmark(args: argparse.Namespace) -> Result:
    result = Result({k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()})
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    result.bird_version = run(["bird", "--version"]).stderr.strip() or "bird"
    result.source = source_version()

    started = time.perf_counter()
    table = Table.generate(args.prefixes, args.attr_sets, PEER_AS, args.seed)
    bird_dir = workdir / "bird"
    bird_dir.mkdir(exist_ok=True)
    conf = write_bird_config(table, bird_dir, "192.0.2.2", PEER_AS, "192.0.2.1", RS_AS,
                             args.extended_messages)
    result.table_s = time.perf_counter() - started
    print(f"table: {args.prefixes:,} prefixes, {len(table.sets):,} attribute sets, "
          f"BIRD config written in {result.table_s:.1f} s ({bird_dir})", flush=True)
    check = run(["bird", "-p", "-c", str(conf)], check=False, timeout=300)
    if check.returncode != 0:
        raise RuntimeError(f"bird rejected {conf}: {check.stderr.strip()}")
    clients = workdir / "clients.yml"
    clients.write_text(f'clients:\n  - asn: {PEER_AS}\n    ip: "192.0.2.2"\n')

    cleanup_stale(NS_PREFIX)
    with IxpLan(NS_PREFIX) as ixp:
        rs_host, peer_host = ixp.add_host("rs"), ixp.add_host("peer")
        assert rs_host.namespace and rs_host.v4 == "192.0.2.1" and peer_host.v4 == "192.0.2.2"
        sock = bird_dir / "bird.ctl"
        bird = Daemon(peer_host, ["bird", "-f", "-c", str(conf), "-s", str(sock),
                                  "-P", str(bird_dir / "bird.pid")], bird_dir / "bird.log")
        lan = Lan(rs_host, bird, sock, ROOT / "examples" / "general.yml", clients)
        try:
            # BIRD loads its table with the session disabled: not part of the measurement.
            bird_started = time.perf_counter()
            bird.start()
            wait_for(lambda: bird.running() and bird_route_count(sock) >= args.prefixes,
                     900, "BIRD to load its table")
            result.bird_load_s = time.perf_counter() - bird_started
            print(f"BIRD: {args.prefixes:,} routes in its table after "
                  f"{result.bird_load_s:.1f} s (excluded)", flush=True)
            for index in range(args.runs):
                # A profile of the first session only; the others show the variation.
                profile = args.profile if index == 0 else "none"
                one = run_session(args, lan, index, workdir / f"run-{index + 1}", profile)
                result.runs.append(one)
                print(f"session {index + 1}/{args.runs}: {one.total:.2f} s, "
                      f"{one.speaker['updates']:,} UPDATEs", flush=True)
        finally:
            bird.kill9()  # BIRD takes many seconds to shut 1M routes down cleanly
    return result


def source_version() -> str:
    """The commit the speaker runs from, plus uncommitted changes to it (read-only git)."""
    git = ["git", "--no-optional-locks", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "speaker", "schemas", "ixrs"],
                           capture_output=True, text=True, check=False).stdout.split("\n")
    changed = [line[3:] for line in dirty if line.strip()]
    return head + (f" + uncommitted {', '.join(changed)}" if changed else "")


def start_pyspy(pid: int, out: Path, workdir: Path, idle: bool = False
                ) -> subprocess.Popen[bytes]:
    exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if exe is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    log = (workdir / "py-spy.log").open("wb")
    proc = subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--rate", "250", "--format", "raw", "--function",
         "--threads", "--nonblocking", *(["--idle"] if idle else []), "--output", str(out)],
        stdout=log, stderr=subprocess.STDOUT)
    time.sleep(1.0)  # attaching takes a moment
    if proc.poll() is not None:
        raise RuntimeError(f"py-spy exited: {(workdir / 'py-spy.log').read_text()}")
    return proc


def stop_pyspy(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def analyse_routes(result: Run, records: list[tuple[float, int, int, bytes]],
                   target: int, live: bool) -> None:
    framing = SingleObjectFraming()
    kinds: Counter[str] = Counter()
    announced = 0
    prefixes: set[str] = set()
    reached: float | None = None
    for arrival, _partition, _ts, value in records:
        event = framing.decode(value)
        kinds[type(event).__name__] += 1
        if isinstance(event, ReceivedRoutes):
            announced += len(event.announced)
            prefixes.update(event.announced)
            if reached is None and announced >= target:
                reached = arrival
    result.announced, result.distinct = announced, len(prefixes)
    result.events.update({f"routes: {k}": n for k, n in sorted(kinds.items())})
    result.events["routes"] = len(records)
    if reached is not None and live:
        result.times["seen_in_topic"] = reached


# --- the report --------------------------------------------------------------------------

def _table(rows: list[tuple[str, str]]) -> list[str]:
    width = max(len(r[0]) for r in rows)
    return [f"{name:<{width}}  {value}" for name, value in rows]


def run_rows(result: Result, one: Run) -> list[tuple[str, str]]:
    t, st = one.times, one.speaker
    n = result.args["prefixes"]
    open_t, total = t["opensent"], one.total
    rows: list[tuple[str, str]] = []

    def add(name: str, value: str) -> None:
        rows.append((name, value))

    def since_open(key: str) -> str:
        return f"{t[key] - open_t:8.2f} s" if t.get(key) else "n/a"

    add("prefixes announced by BIRD", f"{n:,} IPv4 ({result.args['attr_sets']:,} attribute sets)")
    add("BIRD table load (excluded)", f"{result.bird_load_s:8.2f} s")
    add("OPEN -> ESTABLISHED", since_open("established"))
    add("OPEN -> first UPDATE handled", since_open("first_update"))
    add("OPEN -> last UPDATE handled", since_open("last_update"))
    add("OPEN -> last event acknowledged", f"{total:8.2f} s   <== end to end")
    if "seen_in_topic" in t:
        add(f"OPEN -> {n:,}th prefix seen in topic", since_open("seen_in_topic"))
    add("prefixes/s (OPEN -> last ack)", f"{n / total:,.0f}")
    add("UPDATEs received", f"{st['updates']:,} ({n / max(st['updates'], 1):,.1f} prefixes each)")
    add("events written (read back)", f"{one.events_written:,}")
    for topic in ("routes", "raw-updates", "sessions"):
        kinds = ", ".join(f"{k.split(': ')[1]} {v:,}" for k, v in one.events.items()
                          if k.startswith(f"{topic}: "))
        add(f"  {topic}", f"{one.events.get(topic, 0):,}" + (f" ({kinds})" if kinds else ""))
    add("  prefixes in ReceivedRoutes", f"{one.announced:,} ({one.distinct:,} distinct)")
    add("socket reads (data_received)",
        f"{st['reads']:,}, {st['read_bytes'] / max(st['reads'], 1) / 1024:,.0f} KiB each")
    add("read pauses (window full)", f"{st['pauses']:,}")
    add("  stalled waiting for acks", f"{st['stalled_s']:8.2f} s in all, longest "
        f"{st['max_stall_s']:.3f} s")
    add("speaker main thread on CPU", f"{100 * one.main_cpu() / total:7.0f} % of OPEN -> last ack"
        f" ({1e6 * one.main_cpu() / max(one.events_written, 1):.0f} us per event)")
    for name in ("speaker", "broker", "bird"):
        rss = one.rss_mb.get(name)
        add(f"peak RSS {name}", f"{rss:,.0f} MB" if rss is not None else "n/a")
    for name in ("speaker", "broker", "bird", "py-spy", "harness"):
        if name not in one.cpu_s:
            continue
        cpu = one.cpu_s[name]
        busy = sorted(((v, k) for k, v in cpu.items() if v >= 0.05), reverse=True)
        detail = ", ".join(f"{k} {v:.1f}" for v, k in busy[:4])
        add(f"CPU s during session, {name}", f"{sum(cpu.values()):6.1f}  ({detail})")
    other = sum(one.cpu_s.get("everything else", {}).values())
    add("CPU s during session, everything else", f"{other:6.1f}  (other processes: should be "
        "about 0)" + ("  <== DISTURBED" if one.disturbed() else ""))
    add("speaker source", result.source or "?")
    return rows


def report(result: Result) -> str:
    a = result.args
    head = (f"full-table ingest: {result.bird_version} -> ixrs speaker -> Tansu, "
            f"{a['partitions']} routes partitions, "
            f"{'extended messages' if a['extended_messages'] else '4096-byte UPDATEs'}")
    if a["profile"] != "none":
        head += f", first session profiled with {a['profile']}"
    if a["tail"]:
        head += ", routes topic tailed during the run"
    if a.get("speaker_preload"):
        head += f"\nSPEAKER PATCHED AT RUN TIME by {a['speaker_preload']}"
    lines = [head, "-" * max(map(len, head.splitlines()))]
    median = result.median_run()
    if len(result.runs) > 1:
        lines.append(f"{len(result.runs)} sessions, BIRD keeping its table between them:")
        lines.append("  session  OPEN->last ack  prefixes/s  UPDATEs  events   main-thread CPU"
                     "  broker CPU  other CPU")
        for one in result.runs:
            events = one.events_written
            lines.append(
                f"  {one.index + 1:>7}  {one.total:12.2f} s  {a['prefixes'] / one.total:10,.0f}"
                f"  {one.speaker['updates']:7,}  {events:7,}  {one.main_cpu():13.1f} s"
                f"  {sum(one.cpu_s.get('broker', {}).values()):8.1f} s"
                f"  {sum(one.cpu_s.get('everything else', {}).values()):7.1f} s")
        disturbed = [str(r.index + 1) for r in result.runs if r.disturbed()]
        if disturbed:
            lines.append(f"  WARNING: other processes used the CPU during session(s) "
                         f"{', '.join(disturbed)}: their figures are not comparable")
        totals = sorted(r.total for r in result.runs)
        lines.append(f"  median {median.total:.2f} s, min {totals[0]:.2f} s, "
                     f"max {totals[-1]:.2f} s; details of the median session "
                     f"({median.index + 1}):")
        lines.append("")
    lines += _table(run_rows(result, median))
    return "\n".join(lines)


def main() -> int:
    first, _, rest = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=" ".join(first.split()),
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=rest)
    parser.add_argument("--prefixes", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1,
                        help="sessions, each into a fresh broker and speaker, BIRD loading its "
                             "table once; the report gives each and details the median")
    parser.add_argument("--attr-sets", type=int, default=3000,
                        help="distinct attribute sets (default 3000; BIRD's load time grows "
                             "fast with them: 20000 takes about 3 minutes)")
    parser.add_argument("--partitions", type=int, default=8,
                        help="routes partitions (default 8, the deployment default)")
    parser.add_argument("--extended-messages", action="store_true",
                        help="let BIRD send UPDATEs of up to 64 KiB (RFC 8654)")
    parser.add_argument("--profile", choices=("none", "py-spy", "cprofile"), default="none",
                        help="profile the speaker during the first session")
    parser.add_argument("--idle", action="store_true",
                        help="py-spy: count idle samples too (threads waiting in select, "
                             "locks, sleeps), to see where the speaker waits")
    parser.add_argument("--top", type=int, default=25, help="functions shown per profile list")
    parser.add_argument("--tail", action="store_true",
                        help="also read the routes topic during the run, from inside the "
                             "namespace, for the 'seen in topic' figure (costs the broker CPU)")
    parser.add_argument("--speaker-preload", type=Path, metavar="FILE.py",
                        help="what-if experiments: run FILE.py in the speaker process before "
                             "it starts, to patch it at run time (the report says so)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds to wait for the table to be acknowledged")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where configs, logs, profiles and results.json go")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("needs root (network namespaces)")
    missing = [t for t in ("bird", "birdc", "ip", "setpriv") if shutil.which(t) is None]
    if missing:
        parser.error(f"not installed: {', '.join(missing)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.workdir is None:
        args.workdir = Path(tempfile.mkdtemp(prefix="ixrs-fulltable-"))
    result = run_benchmark(args)
    text = report(result)
    (args.workdir / "results.json").write_text(
        json.dumps(result, indent=1, default=lambda o: getattr(o, "__dict__", str(o))))
    (args.workdir / "report.txt").write_text(text + "\n")
    profile = result.runs[0].profile
    if profile:
        (args.workdir / "profile.txt").write_text("\n".join(profile) + "\n")
        print(f"\nspeaker profile ({args.profile}, session 1):")
        print("\n".join(profile))
    print()
    print(text)
    print(f"\nfiles: {args.workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
