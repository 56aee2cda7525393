"""The reference route server: BIRD 2 with the configuration `arouteserver bird` builds from the
same general.yml and clients.yml that ixrs reads, and the comparison of what clients get.

`ReferenceBird` builds the configuration offline (ROAs from a local file, AS-SETs from a bgpq4
stand-in, no PeeringDB or release lookups: ../../../shared/BGP-LAB.md) and runs BIRD in a lab
host. `compare` lists
every way in which one client's table from ixrs differs from its table from BIRD, field by
field; `listed_differences` reads the differences docs/differences.md accepts, from its fenced
`yaml reference-differences` block, so that the test fails on any difference not listed there.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import wait_for
from tests.lab.netns import Host, run
from tests.lab.spec import RouteView

ROOT = Path(__file__).resolve().parents[2]
DIFFERENCES_DOC = ROOT / "docs" / "differences.md"
# BIRD 2.0.12 is installed; the templates for newer targets use syntax it rejects.
TARGET_VERSION = "2.0.11"
# The fields a client's route is compared on; "presence" is a prefix only one side sent.
FIELDS = ("presence", "next_hop", "as_path", "communities", "large_communities", "med",
          "origin")

Table = dict[str, RouteView]  # prefix -> the route a client holds from the route server


def arouteserver_package() -> Path:
    """Where the installed arouteserver keeps its templates and default files."""
    import pierky.arouteserver  # the venv's; imported here so a missing one only skips

    return Path(pierky.arouteserver.__file__).parent


def arouteserver_binary() -> str | None:
    beside = Path(sys.executable).with_name("arouteserver")
    return str(beside) if beside.exists() else shutil.which("arouteserver")


# IRR data as `bgpq4 -j` gives it: AS-SET name -> "asns" (`-f 1`), "v4" and "v6" (`-A -4/-6`)
IrrSets = dict[str, dict[str, list[Any]]]

_BGPQ4 = """#!{python}
# A stand-in for bgpq4 (arouteserver runs it to expand AS-SETs): answers from {data}.
import json
import sys

args = sys.argv[1:]
entry = json.load(open({data!r})).get(args[-1], {{}})
kind = "asns" if "-f" in args else "v6" if "-6" in args else "v4"
print(json.dumps({{args[args.index("-l") + 1]: entry.get(kind, [])}}))
"""


def write_irr(workdir: Path, sets: IrrSets) -> tuple[Path, Path]:
    """The same IRR data for both: a bgpq4 stand-in for arouteserver, and the directory of
    bgpq4 -j outputs `ixrs load-irr` reads (AS-SET.v4.json, .v6.json, .asns.json)."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "irr.json"
    data.write_text(json.dumps(sets))
    # arouteserver leaves out bgpq3's "-3" only when the program's name says bgpq4.
    bgpq4 = workdir / "bgpq4"
    bgpq4.write_text(_BGPQ4.format(python=sys.executable, data=str(data)))
    bgpq4.chmod(0o755)
    files = workdir / "irr"
    files.mkdir(exist_ok=True)
    for name, kinds in sets.items():
        for kind in ("v4", "v6", "asns"):
            (files / f"{name}.{kind}.json").write_text(json.dumps({"NN": kinds.get(kind, [])}))
    return bgpq4, files


# arouteserver's logging lines: its two destinations, and the debug line that logs every
# route (too much for a benchmark).
_LOG_LINES = re.compile(r'^log (?:"[^"]*"|syslog) all;$', re.M)
_DEBUG_LINE = re.compile(r"^debug protocols .*;$", re.M)


def build_bird_config(workdir: Path, general: Path, clients: Path,
                      bgpq4: Path | None = None, ip_version: int | None = None,
                      quiet: bool = False) -> Path:
    """`arouteserver bird` (both IP versions in one BIRD 2 configuration unless
    ``ip_version`` says which), checked with `bird -p`; returns its path.

    Only the logging is changed afterwards: the templates log to /var/log/bird.log and
    syslog, which would mix several test runs, so the log goes next to the files; ``quiet``
    (benchmarks) logs warnings to stderr instead and drops the per-route debug logging.
    """
    package = arouteserver_package()
    workdir.mkdir(parents=True, exist_ok=True)
    templates = workdir / "templates"
    if not templates.exists():
        shutil.copytree(package / "templates", templates)
    for name in ("bogons.yml", "log.ini"):
        shutil.copy(package / "config.d" / name, workdir / name)
    (workdir / "cache").mkdir(exist_ok=True)
    cfg = workdir / "arouteserver.yml"
    cfg.write_text(yaml.safe_dump({
        "cfg_dir": str(workdir),
        "cfg_general": str(general),
        "cfg_clients": str(clients),
        "cfg_bogons": str(workdir / "bogons.yml"),
        "templates_dir": str(templates),
        "template_name": "main.j2",
        "cache_dir": str(workdir / "cache"),
        "logging_config_file": str(workdir / "log.ini"),
        "check_new_release": False,
        **({"bgpq3_path": str(bgpq4)} if bgpq4 else {}),
    }))
    binary = arouteserver_binary()
    assert binary, "arouteserver is not installed"
    out = workdir / "bird.conf"
    versions = ["--ip-ver", str(ip_version)] if ip_version else []
    done = subprocess.run(
        [binary, "bird", "--cfg", str(cfg), *versions, "--target-version", TARGET_VERSION,
         "-o", str(out)],
        capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"arouteserver bird failed:\n{done.stdout}\n{done.stderr}")
    text, logs = _LOG_LINES.subn("", out.read_text())
    if not logs:
        raise RuntimeError("the generated configuration no longer has its log lines")
    if quiet:
        text = "log stderr { warning, error, fatal, bug };\n" + _DEBUG_LINE.sub("", text)
    else:
        text = f'log "{workdir / "bird.log"}" all;\n' + text
    out.write_text(text)
    check = subprocess.run(["bird", "-p", "-c", str(out)], capture_output=True, text=True,
                           check=False)
    if check.returncode != 0:
        raise RuntimeError(f"bird rejected {out}: {check.stderr.strip()}")
    return out


class ReferenceBird:
    """BIRD running an arouteserver configuration in `host` (the route server's address)."""

    def __init__(self, host: Host, workdir: Path, general: Path, clients: Path,
                 bgpq4: Path | None = None) -> None:
        self.host, self.workdir = host, workdir
        self.config = build_bird_config(workdir, general, clients, bgpq4)
        self.socket = workdir / "bird.ctl"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        checked = self.host.run(["bird", "-p", "-c", str(self.config)], check=False)
        assert checked.returncode == 0, f"bird rejects {self.config}: {checked.stderr}"
        with (self.workdir / "bird.out").open("wb") as sink:
            self.proc = self.host.popen(
                ["bird", "-f", "-c", str(self.config), "-s", str(self.socket),
                 "-P", str(self.workdir / "bird.pid")],
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)

        def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"the reference BIRD exited: {self.log()[-2000:]}")
            return self.socket.exists() and "Daemon is up" in self.birdc("show", "status")

        wait_for(up, 15, "the reference BIRD to start")

    def birdc(self, *command: str) -> str:
        return run(["birdc", "-s", str(self.socket), *command], check=False).stdout

    def log(self) -> str:
        path = self.workdir / "bird.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- comparing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One field of one client's route for one prefix that differs between the two servers."""

    client: str  # the client router's IPv4 address on the LAN (its IPv6 session included)
    prefix: str
    field: str  # one of FIELDS
    ixrs: str  # the value from ixrs, as text ("absent" for presence)
    bird: str

    def key(self) -> tuple[str, str, str]:
        return (self.client, self.prefix, self.field)

    def __str__(self) -> str:
        return (f"{self.client} {self.prefix} {self.field}: "
                f"ixrs {self.ixrs} / BIRD {self.bird}")


def _text(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(_text(v) if not isinstance(v, tuple) else
                        ":".join(map(str, v)) for v in value) or "-"
    return "-" if value is None else str(value)


def compare(client: str, ixrs: Table, bird: Table) -> list[Difference]:
    """Every field in which `client`'s table from ixrs differs from its table from BIRD."""
    out = []
    for prefix in sorted(set(ixrs) | set(bird)):
        mine, theirs = ixrs.get(prefix), bird.get(prefix)
        if mine is None or theirs is None:
            out.append(Difference(client, prefix, "presence",
                                  "absent" if mine is None else "present",
                                  "absent" if theirs is None else "present"))
            continue
        for name in FIELDS[1:]:
            a, b = getattr(mine, name), getattr(theirs, name)
            if a != b:
                out.append(Difference(client, prefix, name, _text(a), _text(b)))
    return out


@dataclass(frozen=True)
class Listed:
    """A difference docs/differences.md accepts, with the reason ixrs is right."""

    client: str
    prefix: str
    field: str
    reason: str

    def key(self) -> tuple[str, str, str]:
        return (self.client, self.prefix, self.field)


_BLOCK = re.compile(r"^```yaml reference-differences\n(.*?)^```", re.M | re.S)


def listed_differences(path: Path = DIFFERENCES_DOC) -> list[Listed]:
    """The entries of the one ```yaml reference-differences block of docs/differences.md."""
    text = path.read_text()
    blocks = _BLOCK.findall(text)
    assert len(blocks) == 1, f"{path} must have exactly one reference-differences block"
    # A reason is the title of the section that explains it, so that none goes unexplained.
    sections = {re.sub(r"[`*]", "", m).strip() for m in re.findall(r"^#{2,4} (.+)$", text, re.M)}
    entries = yaml.safe_load(blocks[0]) or []
    listed = []
    for entry in entries:
        assert set(entry) == {"client", "prefix", "field", "reason"}, entry
        assert entry["field"] in FIELDS, entry
        assert entry["reason"] in sections, f"no section {entry['reason']!r} in {path.name}"
        listed.append(Listed(str(entry["client"]), str(entry["prefix"]), entry["field"],
                             str(entry["reason"])))
    keys = [e.key() for e in listed]
    assert len(keys) == len(set(keys)), "a difference is listed twice"
    return listed


def unlisted(found: Iterable[Difference], listed: Iterable[Listed]) -> list[Difference]:
    known = {e.key() for e in listed}
    return [d for d in found if d.key() not in known]


def stale(found: Iterable[Difference], listed: Iterable[Listed]) -> list[Listed]:
    seen = {d.key() for d in found}
    return [e for e in listed if e.key() not in seen]
