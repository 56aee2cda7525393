"""ExaBGP's API process for the lab: commands in from a FIFO, everything ExaBGP says out to a log.

ExaBGP runs this with its JSON messages on our stdin and reads commands from our stdout.
    python exabgp_api.py COMMAND_FIFO EVENT_LOG
The test writes one command a line into COMMAND_FIFO; every line ExaBGP sends (JSON events
and the "done"/"error" acknowledgements) is appended to EVENT_LOG as it arrives.
"""

from __future__ import annotations

import os
import selectors
import sys


def main(fifo_path: str, log_path: str) -> None:
    # O_RDWR: we hold a writer ourselves, so the FIFO never reports EOF between test writes.
    fifo = os.open(fifo_path, os.O_RDWR | os.O_NONBLOCK)
    stdin = sys.stdin.fileno()
    selector = selectors.DefaultSelector()
    selector.register(stdin, selectors.EVENT_READ, "exabgp")
    selector.register(fifo, selectors.EVENT_READ, "test")
    pending = {"exabgp": b"", "test": b""}
    with open(log_path, "ab", buffering=0) as log:
        log.write(b'{"lab": "api-ready"}\n')
        while True:
            for key, _ in selector.select():
                chunk = os.read(key.fd, 65536)
                if not chunk and key.data == "exabgp":
                    return  # ExaBGP is gone
                lines = (pending[key.data] + chunk).split(b"\n")
                pending[key.data] = lines.pop()
                for line in lines:
                    if key.data == "exabgp":
                        log.write(line + b"\n")
                    elif line.strip():
                        sys.stdout.buffer.write(line + b"\n")
                        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
