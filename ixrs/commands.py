"""What each ``ixrs`` command does, once its arguments are parsed."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ixrs import durable, prepare
from ixrs.config import Client, RouteServerConfig, load_config
from ixrs.config.deploy import Deploy, resolve_deploy
from ixrs.embedded import EmbeddedBroker
from ixrs.errors import EXIT_OK, EXIT_RUNTIME, UsageError
from ixrs.supervisor import Supervisor

if TYPE_CHECKING:
    from replay.moment import Moment
    from replay.source import LogSource


@dataclass(frozen=True)
class Settings:
    config: RouteServerConfig
    deploy: Deploy
    general_path: str
    clients_path: str


def _deploy(args: argparse.Namespace) -> Deploy:
    flags = {
        "bootstrap": args.bootstrap,
        "topic_prefix": args.topic_prefix,
        "state_dir": args.state_dir,
        "listen": getattr(args, "listen", None),
    }
    return resolve_deploy(flags, args.deploy, os.environ)


def _settings(args: argparse.Namespace) -> Settings:
    general = args.general or os.environ.get("IXRS_GENERAL") or "general.yml"
    clients = args.clients or os.environ.get("IXRS_CLIENTS") or "clients.yml"
    config = load_config(general, clients)
    for warning in config.warnings:
        print(f"ixrs: warning: {warning}", file=sys.stderr)
    return Settings(config, _deploy(args), general, clients)


def _require_bootstrap(args: argparse.Namespace, deploy: Deploy) -> str:
    if deploy.bootstrap:
        return deploy.bootstrap
    raise UsageError(
        "no Kafka bootstrap servers: give --bootstrap HOST:PORT, set kafka.bootstrap "
        "in the deployment file, or IXRS_BOOTSTRAP"
    )


def cmd_check_config(args: argparse.Namespace) -> int:
    s = _settings(args)
    print(
        f"ok: {s.general_path}, {s.clients_path}: {len(s.config.clients)} clients, "
        f"configuration version {s.config.version[:12]}"
    )
    return EXIT_OK


def cmd_broker(args: argparse.Namespace) -> int:
    deploy = _deploy(args)
    state_dir = Path(deploy.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    with Supervisor() as sup:
        broker = EmbeddedBroker(port=args.port, log_path=state_dir / "broker.log")
        sup.start_broker(broker)
        prepare.prepare_log(broker.bootstrap, deploy, state_dir)
        print(f"broker: {broker.bootstrap}", flush=True)
        return sup.wait()


def cmd_run(args: argparse.Namespace) -> int:
    s = _settings(args)
    state_dir = Path(s.deploy.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    with Supervisor() as sup:
        bootstrap = s.deploy.bootstrap
        embedded = not bootstrap
        if not bootstrap:
            broker = EmbeddedBroker(log_path=state_dir / "broker.log")
            sup.start_broker(broker)
            bootstrap = broker.bootstrap
            # Durable embedded mode: the log the last run archived, back at its offsets,
            # before anything (the incarnation above all) is written to the new broker.
            restored = durable.restore(bootstrap, s.deploy, state_dir)
            if restored.records:
                sup.say(f"archive: re-seeded {restored.records} records from "
                        f"{durable.archive_dir(state_dir)}")
            if restored.discarded_derived:
                sup.say("state: discarded local state: the archive may lack the end of the "
                        "log it was built from (the last run did not stop cleanly)")
        prepared = prepare.prepare_log(bootstrap, s.deploy, state_dir)
        prepare.publish_config(bootstrap, s.deploy, s.config, [s.general_path, s.clients_path])
        sup.say(f"broker: {bootstrap}")
        if prepared.discarded_from:
            sup.say(f"state: discarded local state of broker incarnation "
                    f"{prepared.discarded_from}")
        if embedded:  # stopped after the roles, so that it copies what they wrote last
            sup.spawn("archiver", _archiver_argv(bootstrap, s.deploy, state_dir), last=True)
        sup.spawn("speaker", _role_argv("speaker", args, bootstrap, s.deploy))
        for n in range(args.workers):
            sup.spawn(f"worker {n + 1}", _role_argv("worker", args, bootstrap, s.deploy))
        sup.on_reload(lambda: sup.say(_reload(args, bootstrap)))
        return sup.wait()


def _role_argv(role: str, args: argparse.Namespace, bootstrap: str, deploy: Deploy
               ) -> list[str]:
    """The command line of a role started by `ixrs run`: the same settings, resolved."""
    argv = [sys.executable, "-m", "ixrs", role, "--bootstrap", bootstrap,
            "--topic-prefix", deploy.topic_prefix, "--state-dir", deploy.state_dir]
    for flag in ("general", "clients", "deploy"):
        value = getattr(args, flag)
        if value:
            argv += [f"--{flag}", value]
    if role == "speaker":
        argv += ["--listen", str(deploy.listen)]
    return argv


def _archiver_argv(bootstrap: str, deploy: Deploy, state_dir: Path) -> list[str]:
    return [sys.executable, "-m", "ixrs", "archive", "--follow", "--bootstrap", bootstrap,
            "--topic-prefix", deploy.topic_prefix, "--state-dir", deploy.state_dir,
            "--out", str(durable.archive_dir(state_dir))]


def _reload(args: argparse.Namespace, bootstrap: str) -> str:
    s = _settings(args)
    prepare.publish_config(bootstrap, s.deploy, s.config, [s.general_path, s.clients_path])
    return f"config: reloaded, version {s.config.version[:12]}"


def cmd_speaker(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from speaker.main import run_speaker

    s = _settings(args)
    bootstrap = _require_bootstrap(args, s.deploy)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    prepare.prepare_log(bootstrap, s.deploy, Path(s.deploy.state_dir))
    return asyncio.run(run_speaker(s.config, s.deploy, bootstrap,
                                   lambda: load_config(s.general_path, s.clients_path)))


def cmd_worker(args: argparse.Namespace) -> int:
    import logging

    from processors.worker import run_worker

    s = _settings(args)
    bootstrap = _require_bootstrap(args, s.deploy)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    prepare.prepare_log(bootstrap, s.deploy, Path(s.deploy.state_dir))
    prepare.publish_config(bootstrap, s.deploy, s.config, [s.general_path, s.clients_path])
    return run_worker(s.config, s.deploy, bootstrap,
                      lambda: _reloaded(bootstrap, s.deploy, s.general_path, s.clients_path))


def _reloaded(bootstrap: str, deploy: Deploy, general: str, clients: str) -> RouteServerConfig:
    config = load_config(general, clients)
    prepare.publish_config(bootstrap, deploy, config, [general, clients])
    return config


def _read_file(path: str, what: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as err:
        raise UsageError(f"{path}: (file): cannot read the {what}: {err.strerror}") from None


def cmd_load_rpki(args: argparse.Namespace) -> int:
    from processors.datalog import publish
    from processors.datasets import DataSetError, parse_vrps

    deploy = _deploy(args)
    bootstrap = _require_bootstrap(args, deploy)
    try:
        vrps = parse_vrps(_read_file(args.file, "VRP file"), source=args.file)
    except DataSetError as err:
        raise UsageError(f"{args.file}: {err}") from None
    prepare.prepare_log(bootstrap, deploy, Path(deploy.state_dir))
    [manifest] = publish(bootstrap, deploy, [vrps])
    print(f"rpki-vrps: {manifest.items} VRPs, version {manifest.version[:12]}, "
          f"{manifest.chunks} chunks")
    return EXIT_OK


def cmd_load_irr(args: argparse.Namespace) -> int:
    from processors.datalog import publish
    from processors.datasets import DataSetError, irr_sets_from_files

    deploy = _deploy(args)
    bootstrap = _require_bootstrap(args, deploy)
    directory = Path(args.dir)
    if not directory.is_dir():
        raise UsageError(f"{args.dir}: (directory): not a directory of bgpq4 -j files")
    files = {p.name: _read_file(str(p), "IRR file") for p in sorted(directory.glob("*.json"))}
    try:
        sets = irr_sets_from_files(files)
    except DataSetError as err:
        raise UsageError(f"{args.dir}: {err}") from None
    prepare.prepare_log(bootstrap, deploy, Path(deploy.state_dir))
    for manifest in publish(bootstrap, deploy, sets.values()):
        print(f"irr-prefixes: {manifest.name}: {manifest.items} entries, "
              f"version {manifest.version[:12]}")
    return EXIT_OK


def _log_source(args: argparse.Namespace) -> LogSource:
    """Where replay, explain, verify and MRT export read the log: the archive given by
    --archive (no broker needed), else Kafka."""
    from ixrs.eventlog import framing_for
    from ixrs.heap import collect_nothing
    from replay.source import KafkaSource

    # A replay builds the partitions' state as a worker does, keeps it to the end and exits:
    # the collector would traverse that growing state again and again to free nothing.
    collect_nothing()
    deploy = _deploy(args)
    framing = framing_for(deploy.schema_registry)
    if getattr(args, "archive", None):
        from replay.archive import ArchiveSource

        return ArchiveSource(Path(args.archive), deploy.topic_prefix, framing)
    return KafkaSource(_require_bootstrap(args, deploy), deploy.topic_prefix, framing)


def _moment(args: argparse.Namespace) -> Moment:
    from replay.moment import Moment, parse_offsets

    if getattr(args, "offsets", None):
        return parse_offsets(args.offsets)
    return Moment(at_us=args.at)


def cmd_replay(args: argparse.Namespace) -> int:
    from replay.history import History
    from replay.progress import Progress
    from replay.state import WHAT, replay_blocks

    if args.verify:
        if args.from_ is None or args.to is None:
            raise UsageError("--verify needs --from TIME and --to TIME")
        return _verify(args)
    if args.at is None and args.offsets is None:
        raise UsageError("give --at TIME, --offsets T:P:O,... or --verify")
    source = _log_source(args)
    moment = _moment(args)
    clients = None
    if args.client is not None:  # named in the configuration in force at the moment
        history = History(source)
        config = history.config(history.version_at(moment))
        clients = {c.ip for c in _select_clients(config, args.client)}
    progress = Progress("replay")
    sys.stdout.flush()  # the blocks go to the bytes underneath, after anything written so far
    out = sys.stdout.buffer
    for block in replay_blocks(source, moment, (args.what,) if args.what else WHAT, clients,
                               progress):
        if progress.parts and not progress.finished:
            progress.finish()  # the first block: every partition is done
        out.write(block)
    progress.finish()
    out.flush()
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    import json

    from ixrs.timespec import format_time
    from replay.progress import Progress
    from replay.verify import verify

    if args.to < args.from_:
        raise UsageError("--verify: --to is before --from")
    source = _log_source(args)
    progress = Progress("verify")
    result = verify(source, args.from_, args.to, progress)
    progress.finish()
    for divergence in result.divergences:
        print(json.dumps(divergence.to_json()), flush=True)
    c = result.compared
    print(f"verify: {format_time(args.from_)} to {format_time(args.to)}: "
          f"{c['verdicts']} verdicts, {c['decisions']} decisions, {c['sent']} sent updates "
          f"compared, {c['duplicates']} duplicates recognised, "
          f"{len(result.divergences)} divergences", file=sys.stderr)
    return EXIT_OK if result.clean else EXIT_RUNTIME


def cmd_explain(args: argparse.Namespace) -> int:
    import ipaddress
    import json

    from replay.explain import explain, story_text
    from replay.history import History

    try:  # the canonical text, which is how the speaker logs a prefix
        prefix = str(ipaddress.ip_network(args.prefix.strip()))
    except ValueError:
        raise UsageError(f"--prefix: {args.prefix}: not a prefix (185.50.0.0/24, "
                         "2001:db8::/32, no host bits)") from None
    source = _log_source(args)
    moment = _moment(args)
    history = History(source)
    version = history.version_at(moment)
    clients = _select_clients(history.config(version), args.client)
    for client in clients:
        story = explain(source, moment, client, prefix, history)
        print(json.dumps(story.to_json()) if args.json else story_text(story) + "\n",
              flush=True)
    return EXIT_OK


def cmd_mrt(args: argparse.Namespace) -> int:
    """MRT (RFC 6396) export: ``rib`` (TABLE_DUMP_V2), ``updates`` (BGP4MP_ET); docs/mrt.md."""
    import time

    from replay.history import History
    from replay.mrt_export import write_records
    from replay.mrt_rib import RibSummary, rib_records
    from replay.mrt_updates import UpdatesSummary, update_records
    from replay.progress import Progress

    if args.mrt_command == "updates" and args.to < args.from_:
        raise UsageError("updates: --to is before --from")
    source = _log_source(args)
    if args.mrt_command == "updates":
        done = UpdatesSummary()
        write_records(args.output, update_records(source, args.from_, args.to, done))
        print(f"mrt updates: {done.received} received, {done.sent} sent messages, "
              f"{done.state_changes} state changes -> {args.output}", file=sys.stderr)
        return EXIT_OK
    moment = _moment(args)
    clients = None
    if args.client is not None:  # named in the configuration in force at the moment
        history = History(source)
        clients = _select_clients(history.config(history.version_at(moment)), args.client)
    summary, progress = RibSummary(), Progress("mrt")
    write_records(args.output, rib_records(source, moment, clients, time.time_ns() // 1000,
                                           summary, progress))
    progress.finish()
    print(f"mrt rib: {summary.view}: {summary.prefixes} prefixes, {summary.entries} entries, "
          f"{summary.peers} peers -> {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_archive(args: argparse.Namespace) -> int:
    import signal
    import threading

    from ixrs.eventlog import framing_for
    from replay.archive_writer import Archiver

    deploy = _deploy(args)
    bootstrap = _require_bootstrap(args, deploy)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # --follow: stop, copy to the end, close
        signal.signal(sig, lambda _s, _f: stop.set())
    # `ixrs run` passes SIGHUP (reload) on to its roles; an archiver has nothing to reload.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    archiver = Archiver(bootstrap, deploy.topic_prefix, framing_for(deploy.schema_registry),
                        Path(args.out))
    resumed = sum(1 for offset in archiver.counts.resumed.values() if offset)
    print(f"archive: {args.out}: {len(archiver.parts)} partitions, {resumed} resumed",
          flush=True)
    counts = archiver.run(args.follow, stop)
    print(f"archive: {counts.records} records in {counts.files} new files", flush=True)
    return EXIT_OK


def _select_clients(config: RouteServerConfig, spec: str | None) -> list[Client]:
    """A client named by ASN (65001, AS65001) or by one of its addresses (CLI.md)."""
    if spec is None:
        return list(config.clients)
    found = config.client_by_ip(spec)
    if found is not None:
        return [found]
    selected = list(config.clients_by_asn(spec)) if spec.upper().lstrip("AS").isdigit() else []
    if not selected:
        raise UsageError(f"--client: {spec}: no such client in the configuration")
    return selected


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from ixrs import topics
    from ixrs.eventlog import framing_for, read_partitions
    from processors.datalog import DataSetReader
    from processors.report import prefix_report
    from processors.ribin import AdjRibIn
    from processors.validate.data import KIND_IRR

    s = _settings(args)
    bootstrap = _require_bootstrap(args, s.deploy)
    clients = _select_clients(s.config, args.client)
    framing = framing_for(s.deploy.schema_registry)
    announced: dict[str, set[str]] = {}
    ribs: dict[int, AdjRibIn] = {}
    routes = topics.ROUTES.name(s.deploy.topic_prefix)
    for partition, _offset, event in read_partitions(bootstrap, routes,
                                                     list(range(s.deploy.partitions)), framing):
        ribs.setdefault(partition, AdjRibIn()).apply(event)
    for rib in ribs.values():
        for (_speaker, address), prefixes in rib.by_peer.items():
            announced.setdefault(address, set()).update(prefixes)
    sets = DataSetReader(bootstrap, s.deploy.topic_prefix, framing).latest(KIND_IRR)
    for client in clients:
        report = prefix_report(client, announced.get(client.ip, ()), sets)  # type: ignore[arg-type]
        print(json.dumps(report.to_json()))
    return EXIT_OK
