"""fastencode.py must write exactly what schemas.codec.encode writes.

    .venv/bin/python benchmarks/fulltable/whatif/check_fastencode.py
"""
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from speaker_ingest import make_stream  # noqa: E402

from ixrs.eventlog import Stamper  # noqa: E402
from schemas import codec  # noqa: E402
from schemas.events import Epoch, RawUpdate, Session  # noqa: E402
from speaker.codec import Reader, Update  # noqa: E402
from speaker.codec.decode import decode_body  # noqa: E402
from speaker.codec.header import HEADER_SIZE  # noqa: E402
from speaker.publish import route_events  # noqa: E402

original = codec.encode
stream = make_stream(20000, 7, ipv6=False) + make_stream(2000, 3, ipv6=True)
reader = Reader()
reader.feed(stream)
stamper = Stamper("speaker-check", "v" * 64)
session = Session("speaker", "192.0.2.2", 4200000001, Epoch("inc", random.randint(1, 10**9)),
                  *(("192.0.2.2",) if "router_id" in Session.__dataclass_fields__ else ()))
events = []
seq = 0
while (frame := reader.next_frame()) is not None:
    seq += 1
    update = decode_body(frame[HEADER_SIZE - 1], frame[HEADER_SIZE:], reader.negotiated)
    assert isinstance(update, Update)
    events.append(RawUpdate(stamper.header(), session, seq, frame))
    events += [e for _p, e in route_events(session, seq, update, stamper.header, 8)]
expected = [original(e) for e in events]
t0 = time.perf_counter()
[original(e) for e in events]
t_orig = time.perf_counter() - t0
exec(compile((Path(__file__).parent / "fastencode.py").read_text(), "fastencode.py", "exec"),
     {"__name__": "fastencode"})
got = [codec.encode(e) for e in events]
t0 = time.perf_counter()
[codec.encode(e) for e in events]
t_fast = time.perf_counter() - t0
assert got == expected, "fastencode differs"
print(f"{len(events):,} events identical; codec.encode {1e6 * t_orig / len(events):.1f} us/event, "
      f"fastencode {1e6 * t_fast / len(events):.1f} us/event")
