"""What if reading resumed once half the window is acknowledged (a low watermark), instead of
waiting for every event in flight? WHATIF_WINDOW sets the window (default 2000, as now)."""
import asyncio
import os

from speaker import publisher, transport

transport.WINDOW = int(os.environ.get("WHATIF_WINDOW", transport.WINDOW))
_LOW = transport.WINDOW // 2


def _acked(self, err):
    self.pending -= 1
    if err is not None and self.failed is None:
        self.failed = err
    if self.pending <= _LOW and self._waiter is not None and not self._waiter.done():
        self._waiter.set_result(None)


async def drained(self):
    if self.pending > _LOW:
        self._waiter = asyncio.get_running_loop().create_future()
        await self._waiter
        self._waiter = None
    if self.failed is not None:
        raise RuntimeError(f"the broker refused an event: {self.failed}")


publisher.Window._acked = _acked
publisher.Window.drained = drained
