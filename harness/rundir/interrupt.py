"""Ctrl-C during training: finish the update in flight, checkpoint, stop; a second Ctrl-C stops
at once (the last checkpoint stays). An update cut in half would leave weights that no
checkpoint could describe, so the first Ctrl-C only asks the loop to stop between updates.
SIGTERM, what a batch scheduler or `kill` sends before SIGKILL, is handled the same way.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from rich.console import Console

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Set by the first Ctrl-C; the training loop reads it between updates."""

    def __init__(self) -> None:
        self.requested = False


@contextmanager
def deferred_interrupt(console: Console) -> Iterator[StopRequest]:
    """Within the block, the first SIGINT or SIGTERM sets the request and the second raises."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request  # signal handlers live in the main thread only (e.g. under Ray)
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if request.requested:
            raise KeyboardInterrupt
        request.requested = True
        console.print("interrupt    finishing this update, then checkpointing (Ctrl-C: stop now)")

    previous = {number: signal.signal(number, handler) for number in STOP_SIGNALS}
    try:
        yield request
    finally:
        for number, earlier in previous.items():
            signal.signal(number, earlier)
