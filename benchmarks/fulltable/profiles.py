"""Top functions of a py-spy ``--format raw`` profile or a cProfile dump, as text lines."""

from __future__ import annotations

import pstats
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match.group("file")
    for marker in ("/site-packages/", "/work/main/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match.group('func')} ({path})"


def pyspy_summary(path: Path, top: int = 25, idle: bool = False) -> list[str]:
    """Per thread: its share of samples; then functions by own and by inclusive samples.

    With idle samples (py-spy --idle), the function lists are of the main thread only, and
    its own-time list shows where it waits (select, lock acquisition) as well as where it
    works."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        # "process 123:\"...\"" and "thread (0x..)" lead the stack with --threads.
        thread = next((f for f in frames if f.startswith("thread ")), "thread ?")
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        threads[thread] += count
        if idle and "MainThread" not in thread:
            continue
        total += count
        self_time[_short(frames[-1])] += count
        for name in {_short(f) for f in frames}:
            inclusive[name] += count
    if not total:
        return ["(no samples)"]
    all_samples = sum(threads.values())
    out = [f"{all_samples} samples ({'idle included' if idle else 'non-idle'})", "threads:"]
    out += [f"  {100 * n / all_samples:5.1f}%  {name}" for name, n in threads.most_common()]
    if idle:
        out.append(f"main thread only ({total} samples, idle included):")
    out.append("own time (the function itself, not what it calls):")
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in self_time.most_common(top)]
    out.append("inclusive time (the function and what it calls):")
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return out


def cprofile_summary(path: Path, top: int = 25) -> list[str]:
    stats = pstats.Stats(str(path))
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in \
            stats.stats.items():  # type: ignore[attr-defined]
        rows.append((tottime, cumtime, ncalls, _short(f"{func} ({filename}:{line})")))
    total = sum(r[0] for r in rows) or 1.0
    out = [f"main thread only; {total:.2f} s of own time in total", "by own time:"]
    out += [f"  {t:7.2f} s {100 * t / total:5.1f}%  {n:>9} calls  {name}"
            for t, _c, n, name in sorted(rows, reverse=True)[:top]]
    out.append("by cumulative time:")
    out += [f"  {c:7.2f} s  {n:>9} calls  {name}"
            for _t, c, n, name in sorted(rows, key=lambda r: -r[1])[:top]]
    return out
