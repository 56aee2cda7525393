"""``ixrs speaker`` with timing hooks, for benchmarks/full_table.py. The speaker code is
unchanged: a few of its methods are wrapped before it starts.

    python benchmarks/fulltable/launch_speaker.py STATS.json [--cprofile OUT] -- speaker ARGS...

STATS.json is rewritten every 0.25 s (and at exit) with wall-clock times (time.time()):
- first_update / last_update: when the speaker began / finished handling an UPDATE
  (Speaker.update_received: decode done, events handed to the producer);
- last_drain: when a session's window of events in flight last fell to zero, i.e. when the
  event loop handled the delivery report of the last event the broker had to acknowledge
  (Window._acked); pending: the events in flight now, over all established sessions;
- counts: UPDATEs and prefixes (the speaker's own stats), socket reads (data_received calls)
  and their bytes, read pauses (window full), and the time stalled: from the end of the
  data_received call that filled the window (everything read so far is handled) to the
  resumption of reading.

The hooks cost a few tenths of a microsecond per event (Window._acked) and about a
microsecond per UPDATE; the events written are counted in the topics afterwards, not here.

IXRS_BENCH_PRELOAD=FILE.py runs FILE.py before the speaker starts: for what-if experiments
that patch the speaker at run time (the benchmark's figures are of the unpatched speaker).
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from typing import Any


class Stats:
    def __init__(self) -> None:
        self.speaker: Any = None
        self.first_update: float | None = None
        self.last_update: float | None = None
        self.last_drain: float | None = None
        self.reads = 0
        self.read_bytes = 0
        self.pauses = 0
        self.stalled_s = 0.0
        self.max_stall_s = 0.0
        self._stall_at: float | None = None

    def snapshot(self) -> dict[str, Any]:
        sp = self.speaker
        records = list(sp.sessions.values()) if sp else []
        return {
            "pid": os.getpid(),
            "updates": sp.stats["updates"] if sp else 0,
            "prefixes": sp.stats["prefixes"] if sp else 0,
            "sessions": len(records),
            "pending": sum(rec.window.pending for rec in records),
            "failed": [str(rec.window.failed) for rec in records if rec.window.failed],
            "first_update": self.first_update,
            "last_update": self.last_update,
            "last_drain": self.last_drain,
            "reads": self.reads,
            "read_bytes": self.read_bytes,
            "pauses": self.pauses,
            "stalled_s": self.stalled_s,
            "max_stall_s": self.max_stall_s,
        }


def install(st: Stats) -> None:
    from speaker import publisher, service, transport

    acked = publisher.Window._acked

    def _acked(self: Any, err: Any) -> None:
        acked(self, err)
        if self.pending == 0:
            st.last_drain = time.time()

    publisher.Window._acked = _acked  # type: ignore[method-assign]

    start = service.Speaker.start

    def _start(self: Any) -> None:
        st.speaker = self
        start(self)

    service.Speaker.start = _start  # type: ignore[method-assign]

    update_received = service.Speaker.update_received

    def _update_received(self: Any, rec: Any, update: Any, raw: bytes) -> Any:
        if st.first_update is None:
            st.first_update = time.time()
        out = update_received(self, rec, update, raw)
        st.last_update = time.time()
        return out

    service.Speaker.update_received = _update_received  # type: ignore[method-assign]

    data_received = transport.BgpProtocol.data_received
    pause = transport.BgpProtocol._pause_reading
    resume = transport.BgpProtocol._resume_reading

    def _data_received(self: Any, data: bytes) -> None:
        st.reads += 1
        st.read_bytes += len(data)
        data_received(self, data)
        if self._paused and st._stall_at is None:
            # Everything read is handled; nothing to do until the window drains.
            st._stall_at = time.perf_counter()

    def _pause(self: Any) -> None:
        st.pauses += 1
        pause(self)

    def _resume(self: Any, task: Any) -> None:
        if st._stall_at is not None:
            waited = time.perf_counter() - st._stall_at
            st.stalled_s += waited
            st.max_stall_s = max(st.max_stall_s, waited)
            st._stall_at = None
        resume(self, task)

    transport.BgpProtocol.data_received = _data_received  # type: ignore[method-assign]
    transport.BgpProtocol._pause_reading = _pause  # type: ignore[method-assign]
    transport.BgpProtocol._resume_reading = _resume  # type: ignore[method-assign]


def _writer(st: Stats, path: str, stop: threading.Event) -> None:
    while not stop.wait(0.25):
        _write(st, path)


def _write(st: Stats, path: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(st.snapshot(), f)
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    stats_path = argv[0]
    rest = argv[1:]
    profile_path = None
    if rest[:1] == ["--cprofile"]:
        profile_path, rest = rest[1], rest[2:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    preload = os.environ.get("IXRS_BENCH_PRELOAD")
    if preload:  # experiments: a file that patches the speaker at run time, e.g. a what-if
        with open(preload) as f:
            exec(compile(f.read(), preload, "exec"), {"__name__": "preload", "__file__": preload})
    st = Stats()
    install(st)  # after the preload, so that the hooks wrap what it patched
    stop = threading.Event()
    threading.Thread(target=_writer, args=(st, stats_path, stop), name="bench-stats",
                     daemon=True).start()
    atexit.register(lambda: _write(st, stats_path))

    from ixrs.cli import main as ixrs_main

    if profile_path is None:
        return ixrs_main(rest)
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        return ixrs_main(rest)
    finally:
        profiler.disable()
        profiler.dump_stats(profile_path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
