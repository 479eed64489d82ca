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

import hashlib
import threading
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

_local = threading.local()


def user_group(user_pk):
    return f"user.{user_pk}"


def thread_group(thread_pk):
    """The channel-layer group of a group chat's thread: every socket of its members."""
    return f"thread.{thread_pk}"


def session_group(session_key):
    """The channel-layer group of one login session: every socket opened with it (a
    digest: the key itself never travels through Redis)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def kick_session(session_key, reason):
    """Close every socket of the login session ``session_key`` at once (after KICKED_OUT
    with ``reason``), on every process: the session was ended (logout)."""
    _dispatch({"type": "chat.kick", "reason": reason, "code": 4001}, [("session", session_key)])


def presence_group(user_pk):
    """The channel-layer group of the sockets subscribed to a user's status
    (subscribeUserStatus; messaging/presence.py)."""
    return f"presence.{user_pk}"


# The channel-layer group of a ``(kind, id)`` target.
TARGET_GROUPS = {"thread": thread_group, "session": session_group, "presence": presence_group}


def publish_on_commit(event, data, user_ids, *, origin=None, meta=None, via_thread=None):
    """Send ``event`` to every socket of ``user_ids`` (user pks) once the transaction commits.

    ``origin`` is the sending socket's channel name: MESSAGE_RECEIVED is not echoed to
    it. ``meta`` is for the consumers only (never forwarded to the browser).

    ``via_thread`` (a group chat's thread pk) sends one message to the thread's
    channel-layer group instead of one per user: one Redis call for any group size.
    The sockets in that group are the members' as of their last membership refresh,
    so the consumers still deliver only to ``user_ids`` (carried with their unread
    counts as ``meta["to"]``, ``pack_recipients``): that list stays the security boundary.
    """
    user_ids = list(dict.fromkeys(user_ids))
    if not user_ids:
        return
    meta = dict(meta or {})
    targets = user_ids
    if via_thread is not None:
        meta = pack_recipients(meta, user_ids)
        targets = [("thread", via_thread)]
    message = {"type": "chat.event", "event": event, "data": data, "origin": origin, "meta": meta}
    transaction.on_commit(lambda: _dispatch(message, targets))


def pack_recipients(meta, user_ids):
    """``meta`` of a thread-group send with its recipients and their unread counts in one
    map, ``meta["to"]``: user pk (str) -> the absolute unread count the action computed,
    or None. Every socket of the thread decodes the broadcast (once per process,
    messaging/channel_layer.py) and looks itself up there (``is_addressed_to``,
    ``count_for``): one key per member instead of a recipient list plus a count map."""
    counts = meta.pop("counts", None) or {}
    meta["to"] = {str(pk): counts.get(str(pk)) for pk in user_ids}
    return meta


def is_addressed_to(meta, user_pk):
    """Whether a channel-layer event with ``meta`` is for the user ``user_pk``: a
    thread-group send names its recipients (the security boundary: a socket still in
    the thread's group whose user was removed drops it); any other send is addressed."""
    to = meta.get("to")
    if to is not None:
        return str(user_pk) in to
    recipients = meta.get("recipients")  # (the format before ``to``)
    return recipients is None or str(user_pk) in recipients


def count_for(meta, user_pk):
    """The absolute unread count ``meta`` carries for ``user_pk``, or None."""
    to = meta.get("to")
    if to is not None:
        return to.get(str(user_pk))
    return meta.get("counts", {}).get(str(user_pk))


def dispatch_on_commit(message, targets):
    """Send a prepared channel-layer ``message`` to ``targets`` (user pks, or
    ``(kind, id)`` of TARGET_GROUPS) once the transaction commits (at once outside one)."""
    transaction.on_commit(lambda: _dispatch(message, list(targets)))


def kick_on_commit(user_ids, reason, code=4003):
    """Close every socket of ``user_ids`` (after KICKED_OUT ``reason``) with ``code`` once the
    transaction commits: 4003 banned, 4001 the login is no longer valid."""
    message = {"type": "chat.kick", "reason": reason, "code": code}
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
    send_many = getattr(layer, "group_send_many", None)  # the pub/sub layer's (one write for them all)
    for message, targets in events:
        names = [TARGET_GROUPS[target[0]](target[1]) if isinstance(target, tuple) else user_group(target) for target in targets]
        if send_many is not None and names:
            await send_many(names, message)
            continue
        for name in names:
            await layer.group_send(name, message)
