"""Running the speaker role: ``ixrs speaker``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable

from ixrs import topics
from ixrs.config import ConfigError, RouteServerConfig
from ixrs.config.deploy import Deploy
from ixrs.eventlog import framing_for
from ixrs.heap import tune_for_growing_state
from ixrs.status import Reporter
from processors.export import ExportPolicy
from speaker.decisions import DecisionFeed
from speaker.outbound import Outbound
from speaker.publisher import Publisher
from speaker.service import Speaker
from speaker.transport import keep_connected, serve

log = logging.getLogger("ixrs.speaker")


def _bind_host(host: str) -> str | None:
    # A route server on an IXP LAN serves IPv4 and IPv6 clients: the "any" address
    # of either family means both.
    return None if host in ("0.0.0.0", "::", "") else host


def _active(speaker: Speaker, deploy: Deploy) -> list[asyncio.Task[None]]:
    bind = _bind_host(deploy.listen.host)
    return [
        asyncio.create_task(keep_connected(speaker, client.ip, deploy.hold_time, 179, bind))
        for client in speaker.config.clients if not client.settings.passive
    ]


def _queue_limit() -> dict[str, int]:
    """Each client's send-queue bound (speaker.outbound.pending). IXRS_SEND_QUEUE_LIMIT
    (octets) overrides the default, for tests and unusually large tables."""
    value = os.environ.get("IXRS_SEND_QUEUE_LIMIT")
    return {"queue_limit": int(value)} if value else {}


async def _report(reporter: Reporter) -> None:
    """The speaker's `status:` line (ixrs.status), when due and changed."""
    while True:
        reporter.poll()
        await asyncio.sleep(reporter.interval / 4)


async def run_speaker(config: RouteServerConfig, deploy: Deploy, bootstrap: str,
                      reload: Callable[[], RouteServerConfig] | None = None) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    active: list[asyncio.Task[None]] = []

    def on_sighup() -> None:
        if reload is None:
            return
        try:
            new = reload()
        except ConfigError as err:  # keep serving with the configuration in force
            log.error("reload refused, keeping the running configuration: %s", err)
            return
        for task in active:
            task.cancel()
        speaker.apply_config(new)
        active[:] = _active(speaker, deploy)
        log.info("configuration reloaded: version %s", new.version[:12])

    loop.add_signal_handler(signal.SIGHUP, on_sighup)
    framing = framing_for(deploy.schema_registry)
    publisher = Publisher(bootstrap, framing)
    # Sessions that come up before the decisions topic is read to its end wait for it
    # (ready=False), so the End-of-RIB they get closes a complete table.
    outbound = Outbound(ExportPolicy.from_config(config), ready=False,
                        **_queue_limit())
    speaker = Speaker(config, publisher, deploy.topic_prefix, deploy.partitions,
                      os.environ.get("IXRS_SPEAKER_ID", "speaker"), outbound)
    await loop.run_in_executor(None, speaker.start)
    failed: list[BaseException] = []

    def feed_failed(exc: BaseException) -> None:
        # Sessions would stay up with tables that no longer follow the decisions: stop,
        # so that the supervisor (ixrs run) or an operator sees it.
        log.error("the decisions feed failed (%s); stopping the speaker", exc)
        failed.append(exc)
        stop.set()

    feed = DecisionFeed(bootstrap, topics.DECISIONS.name(deploy.topic_prefix),
                        topics.DECISIONS.partitions(deploy.partitions), framing,
                        speaker.decisions, speaker.decisions_caught_up, feed_failed)
    feed.start()
    tune_for_growing_state()  # ixrs.heap: decisions and Adj-RIB-Out only grow with a table
    listen = deploy.listen
    server = await serve(speaker, _bind_host(listen.host), listen.port, deploy.hold_time)
    print(f"bgp: {listen}", flush=True)
    active[:] = _active(speaker, deploy)
    status = asyncio.create_task(_report(Reporter("speaker", speaker.status)))
    try:
        await stop.wait()
    finally:
        status.cancel()
        for task in active:
            task.cancel()
        server.close()
        for connection in list(speaker.connections):
            connection.shutdown()
        await loop.run_in_executor(None, feed.close)
        await loop.run_in_executor(None, publisher.close)
    return 1 if failed else 0
