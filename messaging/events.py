"""Publishing events to the users' sockets, after commit.

``publish_on_commit(event, data, user_ids)``: the caller names who may see the event;
that list is a security boundary. Events go to each user's channel-layer group
``user.<pk>``, which every socket of that user joins.

When an action runs inside ``collect_events()`` (the WebSocket consumer does this),
committed events are handed back to the caller, which sends them without blocking a
database thread; elsewhere (admin, management commands) they are sent at once.

The channel layer is at-most-once; it is a fast path, never the record: the
database is, and clients recover anything missed by refetching.
"""

import threading
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

_local = threading.local()


def user_group(user_pk):
    return f"user.{user_pk}"


def publish_on_commit(event, data, user_ids, *, origin=None, meta=None):
    """Send ``event`` to every socket of ``user_ids`` (user pks) once the transaction commits.

    ``origin`` is the sending socket's channel name: MESSAGE_RECEIVED is not echoed to
    it. ``meta`` is for the consumers only (never forwarded to the browser).
    """
    user_ids = list(dict.fromkeys(user_ids))
    if not user_ids:
        return
    message = {"type": "chat.event", "event": event, "data": data, "origin": origin, "meta": meta or {}}
    transaction.on_commit(lambda: _dispatch(message, user_ids))


def kick_on_commit(user_ids, reason):
    """Close every socket of ``user_ids`` (after KICKED_OUT) once the transaction commits."""
    message = {"type": "chat.kick", "reason": reason}
    user_ids = list(user_ids)
    transaction.on_commit(lambda: _dispatch(message, user_ids))


def _dispatch(message, user_ids):
    collector = getattr(_local, "collector", None)
    if collector is not None:
        collector.append((message, user_ids))
    else:
        async_to_sync(send_events)([(message, user_ids)])


@contextmanager
def collect_events():
    """Collect committed events instead of sending them; yields the list."""
    previous = getattr(_local, "collector", None)
    _local.collector = collected = []
    try:
        yield collected
    finally:
        _local.collector = previous


async def send_events(events):
    layer = get_channel_layer()
    if layer is None:
        return
    for message, user_ids in events:
        for user_id in user_ids:
            await layer.group_send(user_group(user_id), message)
