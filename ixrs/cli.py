"""The ``ixrs`` command line (the contract is ../shared/CLI.md).

Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad configuration.
Errors are one line on stderr, naming the file, the field and the reason.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ixrs.config import ConfigError
from ixrs.embedded import BrokerError
from ixrs.errors import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, UsageError
from ixrs.timespec import parse_time


def _time(text: str) -> int:
    try:
        return parse_time(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("common options")
    group.add_argument("--general", metavar="FILE", help="arouteserver general.yml")
    group.add_argument("--clients", metavar="FILE", help="arouteserver clients.yml")
    group.add_argument("--deploy", metavar="FILE", help="the ixrs deployment file (YAML)")
    group.add_argument("--bootstrap", metavar="HOST:PORT[,...]", help="Kafka bootstrap servers")
    group.add_argument("--state-dir", metavar="DIR", help="local state (default ./.ixrs)")
    group.add_argument("--topic-prefix", metavar="P", help="topic name prefix (default ixrs.)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="ixrs", description="An event-sourced BGP route server for IXPs, on Kafka."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help_text, description=help_text)

    run = add("run", "All in one: embedded broker (unless --bootstrap), speaker and workers.")
    run.add_argument("--listen", metavar="ADDR[:PORT]", help="BGP listen address")
    run.add_argument("--workers", type=int, default=1, metavar="N", help="workers (default 1)")

    broker = add("broker", "The embedded broker alone.")
    broker.add_argument("--port", type=int, metavar="N", help="port (default: a free one)")

    speaker = add("speaker", "The BGP speaker role.")
    speaker.add_argument("--listen", metavar="ADDR[:PORT]", help="default 0.0.0.0:179")

    add("worker", "The processor role; run several to scale out. SIGHUP reloads.")
    add("check-config", "Validate the configuration and exit.")

    rpki = add("load-rpki", "Publish a VRP set (rpki-client/Routinator JSON) as a data set.")
    rpki.add_argument("file", metavar="FILE")
    irr = add("load-irr", "Publish IRR prefix lists (bgpq4 -j JSON files) as a data set.")
    irr.add_argument("dir", metavar="DIR")

    replay = add("replay", "The state at a moment, as JSON lines; or --verify a period.")
    when = replay.add_mutually_exclusive_group()
    when.add_argument("--at", type=_time, metavar="TIME")
    when.add_argument("--offsets", metavar="T:P:O,...")
    when.add_argument("--verify", action="store_true", help="recompute and compare")
    replay.add_argument("--from", dest="from_", type=_time, metavar="TIME")
    replay.add_argument("--to", type=_time, metavar="TIME")
    replay.add_argument("--client", metavar="ASN|IP")
    replay.add_argument("--what", choices=("adj-in", "adj-out", "decisions"))
    replay.add_argument("--archive", metavar="DIR")

    explain = add("explain", "The story of one prefix for one client.")
    explain.add_argument("--at", type=_time, required=True, metavar="TIME")
    explain.add_argument("--client", required=True, metavar="ASN|IP")
    explain.add_argument("--prefix", required=True, metavar="P")
    explain.add_argument("--json", action="store_true")
    explain.add_argument("--archive", metavar="DIR")

    mrt = add("mrt", "MRT (RFC 6396) export.")
    mrt_sub = mrt.add_subparsers(dest="mrt_command", required=True, metavar="KIND")
    rib = mrt_sub.add_parser("rib", parents=[common], help="TABLE_DUMP_V2")
    rib.add_argument("--at", type=_time, required=True, metavar="TIME")
    rib.add_argument("--client", metavar="ASN|IP")
    rib.add_argument("-o", dest="output", required=True, metavar="FILE")
    rib.add_argument("--archive", metavar="DIR")
    upd = mrt_sub.add_parser("updates", parents=[common], help="BGP4MP_ET")
    upd.add_argument("--from", dest="from_", type=_time, required=True, metavar="TIME")
    upd.add_argument("--to", type=_time, required=True, metavar="TIME")
    upd.add_argument("-o", dest="output", required=True, metavar="FILE")
    upd.add_argument("--archive", metavar="DIR")

    archive = add("archive", "Copy the topics into Avro container files.")
    archive.add_argument("--out", required=True, metavar="DIR")
    archive.add_argument("--follow", action="store_true")

    report = add("report", "Reports.")
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="KIND")
    prefixes = report_sub.add_parser(
        "prefixes", parents=[common], help="Adj-RIB-In against IRR lists (RFC 7948 §4.3)"
    )
    prefixes.add_argument("--client", metavar="ASN|IP")
    return parser


def _handler(args: argparse.Namespace) -> Callable[[argparse.Namespace], int]:
    from ixrs import commands  # imported late: `ixrs --help` stays fast

    name = args.command.replace("-", "_")
    return getattr(commands, f"cmd_{name}")


_TIME_FLAGS = ("--at", "--from", "--to")


def _join_relative_times(argv: Sequence[str]) -> list[str]:
    """``--at -15m`` would look like an option to argparse; make it ``--at=-15m``."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in _TIME_FLAGS and arg.startswith("-") and arg[1:2].isdigit():
            out[-1] = f"{out[-1]}={arg}"
            continue
        out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_relative_times(sys.argv[1:] if argv is None else argv))
    try:
        return _handler(args)(args)
    except ConfigError as err:
        print(f"ixrs {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as err:
        print(f"ixrs {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (BrokerError, RuntimeError, OSError) as err:
        print(f"ixrs {args.command}: error: {err}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        return EXIT_OK

