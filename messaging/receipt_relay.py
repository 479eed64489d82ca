"""A sender's socket's side of MESSAGE_READ_RECEIPT_RECEIVED: many receipts, few frames.

Each reader's receipt reaches the sender's sockets as a notice (a range of a thread,
``serialize.receipt_notice``). Fifty members reading at once must not be fifty frames
per tab, so a socket sends at most one frame per ``READ_RECEIPT_WINDOW`` seconds: the
first notice after a quiet window goes out at once, later ones are folded into one
range per thread and sent when the window ends. The counts in a frame are read after
the notices arrived, so after the commits that sent them: the last frame always shows
counts at least as new as the last receipt, whatever order the notices came in. A
message whose counts this socket already sent as they are is left out (a notice that
arrives after a read that already counted it sends nothing).
"""

import asyncio
import logging

log = logging.getLogger(__name__)


def merge_notice(pending: dict, notice: dict):
    """Fold ``notice`` into ``pending`` (thread pk -> notice) as the hull of their ranges:
    the counts are read again for the whole range, so a wider one only costs rows."""
    held = pending.get(notice["thread"])
    if held is None:
        pending[notice["thread"]] = dict(notice)
    else:
        held["after"] = min(held["after"], notice["after"])
        held["upto"] = max(held["upto"], notice["upto"])


SENT_MEMORY = 512


class ReceiptRelay:
    """Throttles one socket's receipt frames. ``fetch(notices)`` is a coroutine that
    returns the event's items (queries.receipts.get_receipt_updates in a database
    thread); ``push(items)`` sends the frame."""

    def __init__(self, window: float, fetch, push):
        self.window = window
        self.fetch = fetch
        self.push = push
        self.pending = {}
        self.task = None
        self.next_at = 0.0
        self.sent = {}  # messageID -> the item last sent, the newest SENT_MEMORY of them

    def add(self, notice: dict):
        merge_notice(self.pending, notice)
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())

    async def _run(self):
        loop = asyncio.get_running_loop()
        try:
            while self.pending:
                delay = self.next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                notices, self.pending = list(self.pending.values()), {}
                self.next_at = loop.time() + self.window
                items = [item for item in await self.fetch(notices) if self.sent.get(item["messageID"]) != item]
                if items:
                    self._remember(items)
                    await self.push(items)
        except Exception:
            # The layer is a fast path: the SDK refetches counts with getMessageReadReceiptList.
            log.exception("read receipts not relayed")
        finally:
            self.task = None

    def _remember(self, items):
        for item in items:
            self.sent.pop(item["messageID"], None)
            self.sent[item["messageID"]] = item
        while len(self.sent) > SENT_MEMORY:
            self.sent.pop(next(iter(self.sent)))

    def close(self):
        if self.task is not None:
            self.task.cancel()
