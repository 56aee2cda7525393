"""What if the poll thread handed the event loop all delivery reports of one poll() in one
call_soon_threadsafe, instead of one per event (one self-pipe write and loop turn each)?"""
import time

from speaker import publisher

_P = publisher.Publisher
_orig_init = _P.__init__


def __init__(self, *args, **kwargs):
    self._acks = []
    _orig_init(self, *args, **kwargs)


def _apply(batch):
    for window, err in batch:
        window._acked(err)


def _poll(self):
    while not self._stop.is_set():
        self._producer.poll(0.05)
        if self._acks:
            batch, self._acks = self._acks, []
            self._loop.call_soon_threadsafe(_apply, batch)


def produce(self, topic, event, key, partition, window=None):
    value = self._framing.encode(topic, event)
    callback = None
    if window is not None:
        window.pending += 1

        def callback(err, _msg, w=window, pub=self):
            pub._acks.append((w, err))

    while True:
        try:
            self._producer.produce(topic, value=value, key=key, partition=partition,
                                   on_delivery=callback)
            return
        except BufferError:
            time.sleep(0.005)  # the poll thread drains the queue (callbacks run only there)


_P.__init__ = __init__
_P._poll = _poll
_P.produce = produce
