"""Sending messages: the only code that inserts a Message.

A send is, in one transaction: one UPDATE of the thread (the next ``seq``, under the
row lock that orders every send to the thread), one INSERT of the message, and one
UPDATE of every conversation row of the thread (unread +1, last message, shown
again) whose RETURNING gives each viewer's absolute unread count. That is O(1)
statements for a group of any size. Events go out after commit. On PostgreSQL the
thread's UPDATE and the INSERT are one statement (``insert_numbered``), and the checks
before the transaction are one query (the peer with the pair's thread, or the
membership with its group, and whether the sender used the message's client ID
already): a send is 5 statements, BEGIN and COMMIT included, and a pair's first
message 6 (docs/PERFORMANCE.md "Send path statements"); 2 when the write is one
statement that commits alone (``_one_statement_send``), a pair's first text message
included (``insert_first``: the thread, the message and both conversation rows).

Each returns a ``SentMessage``: the stored row and the SDK Message it built for the
events, so that a transport answers the sender without serialising it again.

The SDK's send options (docs/PROTOCOL.md §5.1): ``onlineUserOnly`` stores nothing and
goes only to the sockets open now (``_send_online``); ``messageControlInfo`` and a
targeted group message's ``receiverList`` are stored on the message and narrow the
conversation UPDATE (``SendControl``).
"""

import functools
import hashlib
import secrets
import time
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from messaging import conf, ratelimit, rules, runtime, serialize, storage
from messaging.access import access_c2c_peer, access_group, access_group_membership, check_may_send
from messaging.actions.message_types import build_body
from messaging.errors import ChatError, ErrorCode
from messaging.events import publish_on_commit
from messaging.models import Conversation, Group, GroupAtMention, GroupMember, Message, MessageReceiver, Thread, User


@dataclass(frozen=True)
class SendControl:
    """How far a stored message reaches beyond its thread's history: the SDK's
    messageControlInfo and a targeted group message's receivers. The default is an
    ordinary message, whose conversation UPDATE stays the plain one."""

    excluded_from_unread_count: bool = False
    excluded_from_last_message: bool = False
    excluded_from_content_moderation: bool = False
    # A targeted group message: the receivers' user pks, and their userIDs as sent.
    receiver_pks: tuple = ()
    receiver_list: tuple = ()


ORDINARY = SendControl()


@dataclass(frozen=True)
class SentMessage:
    """A stored message and the viewer-independent SDK Message made of it
    (``serialize.message_base``); ``serialize.for_viewer(data, user_id)`` is what a
    viewer sees."""

    message: Message
    data: dict


def new_message_id(user_pk):
    """An SDK-style ID: ``<sender>-<clientTime>-<random>``."""
    return f"{user_pk}-{int(time.time())}-{secrets.randbelow(10**9)}"


def random_message_id(sender_pk, conversation_type, to, random) -> str:
    """The message ID of a server API send (docs/API.md): the sender, the caller's
    ``random`` and a digest of the target. The same random from the same sender to the
    same conversation is the same ID, so ``send_message``'s resend check returns the
    stored message instead of storing it twice (the vendor's MsgRandom dedup, TIM.md §9);
    the same random to another target is another message (a batch send uses one)."""
    target = hashlib.blake2b(f"{conversation_type}:{to}".encode(), digest_size=6).hexdigest()
    return f"{sender_pk}-r{random}-{target}"


def check_body_size(payload, cloud_custom_data):
    """The SDK's fixed 12 KB limit on a message body, counted as ``rules.body_bytes`` says
    (the browser counts the same way, with the limit from the hello frame)."""
    size = rules.body_bytes(payload, cloud_custom_data)
    limit = conf.get("MAX_BODY_BYTES")
    if size > limit:
        raise ChatError(ErrorCode.BODY_TOO_LONG, f"message body is {size} bytes; the limit is {limit // 1024} KB")


def moderate(body, control: SendControl):
    """Banned words in a text message (``messaging/banned_words.py``): 80001 when the
    run-time setting says refuse, the words masked with ``*`` when it says mask. A message
    sent with ``excludedFromContentModeration`` is not checked (the SDK's option)."""
    if body.type != rules.TEXT or control.excluded_from_content_moderation:
        return
    words = runtime.banned_words()
    if not words:
        return
    text = body.payload["text"]
    if runtime.get("BANNED_WORDS_ACTION") == "mask":
        body.payload["text"] = words.mask(text)
    elif words.contains(text):
        raise ChatError(ErrorCode.SENSITIVE_WORDS, "your message contains a word that is not allowed here")


def send_message(
    sender: User,
    *,
    conversation_type,
    to,
    msg_type,
    payload,
    msg_id=None,
    priority="Normal",
    cloud_custom_data="",
    random=0,
    client_time=0,
    at_user_list=None,
    forward=None,
    offline_push_info=None,
    message_control_info=None,
    receiver_list=(),
    online_user_only=False,
    need_read_receipt=False,
    by_admin=False,
    origin=None,
) -> SentMessage:
    """Store and deliver one message from ``sender``.

    A resend with a message ID this sender already used returns the stored message
    and stores nothing. ``forward`` ({ID, conversationID}) copies a message the
    sender may see instead of ``msg_type``/``payload``. Errors (SDK codes): 2106 bad
    conversation type or the system conversation, 20003 unknown user, 10010 unknown
    group, 10007 not a member, 10017 muted, 10004 bad arguments or empty text,
    80002 body over 12 KB, the upload codes (message_types), 2453 not forwardable,
    10023 over the group's send rate for this priority, 10006 over the sending socket's
    own budgets (messaging/ratelimit.py), 80001 a banned word while the run-time setting
    refuses them (masked otherwise: ``moderate``). Nothing is stored when it fails.

    The send options (the SDK's, SDK names): ``message_control_info`` a dict of
    messageControlInfo flags; ``receiver_list`` userIDs of a targeted group message;
    ``online_user_only`` stores nothing and returns an unsaved Message (``pk`` None).
    A combination the SDK forbids is 10004. ``need_read_receipt`` asks for read receipts
    (actions/read_receipts.py): 10004 in an AVChatRoom and with ``online_user_only``
    (nothing stored, nothing to confirm).

    ``by_admin`` is the server API's send (docs/API.md; TIM.md §9 openim/sendmsg and
    send_group_msg): no block, friendship or mute checks, and in a group a sender who
    is not a member (the app admin's account) may post. The WebSocket never passes it.
    """
    if conversation_type not in (Thread.Kind.C2C, Thread.Kind.GROUP):
        raise ChatError(ErrorCode.BAD_CONVERSATION_TYPE, 'conversationType must be "C2C" or "GROUP"')
    if priority not in rules.PRIORITIES:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"unknown priority {priority!r}")
    if not isinstance(cloud_custom_data, str):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "cloudCustomData must be a string")
    if msg_id is not None and (not isinstance(msg_id, str) or not 0 < len(msg_id) <= conf.get("MAX_CLIENT_MESSAGE_ID")):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "message ID must be a string of 1 to 64 characters")
    if offline_push_info is not None and not isinstance(offline_push_info, dict):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "offlinePushInfo must be an object")
    for name, value in (("random", random), ("clientTime", client_time)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53):
            raise ChatError(ErrorCode.INVALID_PARAMETERS, f"{name} must be an integer from 0 to 2**53")
    receiver_list = list(dict.fromkeys(receiver_list or ()))
    check_option_combination(conversation_type, receiver_list, at_user_list, message_control_info, online_user_only)

    # Whether the sender stored a message with this client ID already (None: not known):
    # asked by the first read (access.resent_sql), so that a new message, the usual
    # case, needs no query of its own for it.
    resend_of = None if online_user_only else msg_id
    if conversation_type == Thread.Kind.C2C:
        peer = access_c2c_peer(sender, to, by_admin=by_admin, with_thread=True, resend_of=resend_of)
        if peer.pk == sender.pk:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "you cannot send a message to yourself")
        group, name_card, resent = None, "", getattr(peer, "resent", None)
    elif by_admin:
        peer, group, resent = None, access_group(to), None
        membership = GroupMember.objects.filter(group=group, user=sender).first()
    else:
        peer = None
        group, membership = access_group_membership(sender, to, resend_of=resend_of)
        resent = membership.resent
        check_may_send(membership, group)
    if group is not None:
        name_card = membership.name_card if membership else ""
        if group.type == Group.Type.AVCHATROOM and (receiver_list or online_user_only):
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "receiverList and onlineUserOnly are not allowed in an AVChatRoom")
    if need_read_receipt and (online_user_only or not rules.receipts_supported(group.type if group else None)):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "read receipts are not for online-only messages nor in an AVChatRoom")
    receivers = group_receivers(group, receiver_list) if receiver_list else {}
    fields = dict(
        msg_id=msg_id or new_message_id(sender.pk),
        priority=priority,
        cloud_custom_data=cloud_custom_data,
        random=random or 0,
        client_time=client_time or 0,
        offline_push_info=offline_push_info,
        need_read_receipt=need_read_receipt,
        control=SendControl(
            **{name: bool((message_control_info or {}).get(key)) for name, key in CONTROL_FLAGS},
            receiver_pks=tuple(receivers),
            receiver_list=tuple(receiver_list),
        ),
        origin=origin,
        name_card=name_card,
    )
    if online_user_only:
        if forward is not None or msg_type not in rules.ONLINE_ONLY_TYPES:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "onlineUserOnly messages are text, custom, face or location messages")
        body = build_body(sender, msg_type, payload, conversation_type=conversation_type, at_user_list=at_user_list)
        moderate(body, fields["control"])
        check_body_size(body.payload, cloud_custom_data)
        if not by_admin:
            check_reply(sender, cloud_custom_data, group.thread_id if group else None, peer)
        ratelimit.check_send()  # the sender's budgets only: the group's rate counts stored messages
        return _send_online(sender, group or peer, body, **fields)
    if msg_id is not None and (resent is None or resent):  # (SQLite says 0 or 1)
        stored = Message.objects.filter(sender=sender, msg_id=msg_id).select_related("thread").first()
        if stored is not None:
            if group is None:
                same_target = stored.thread.key == Thread.c2c_key(sender.pk, peer.pk)
            else:
                same_target = stored.thread_id == group.thread_id
            if not same_target:
                raise ChatError(ErrorCode.INVALID_PARAMETERS, "this message ID was already used in another conversation")
            return _already_stored(stored, sender, peer.username if group is None else group.group_id, name_card)
    if not by_admin:
        check_reply(sender, cloud_custom_data, group.thread_id if group else None, peer)
    # After the resend check (a resend is not a new send), before any write: the group's
    # window and the sending socket's budgets, one round trip (messaging/ratelimit.py).
    ratelimit.check_send(group.thread_id if group is not None else None, priority)
    body = None
    one_statement = _one_statement_send(msg_type, forward, at_user_list, receivers, group, peer)
    try:
        with nullcontext() if one_statement else transaction.atomic():
            body = build_body(
                sender, msg_type, payload, conversation_type=conversation_type, at_user_list=at_user_list, forward=forward
            )
            moderate(body, fields["control"])
            check_body_size(body.payload, cloud_custom_data)
            if group is None:
                # A pair's first message in one statement makes its thread with it (post_message).
                made = new_c2c_thread if one_statement and peer.c2c_thread_id is None else c2c_thread
                thread, target, counts_unread = made(sender, peer, peer.c2c_thread_id), peer.username, True
            else:
                thread, target, counts_unread = group.thread, group.group_id, group.counts_unread
            return post_message(
                thread,
                sender,
                to=target,
                msg_type=body.type,
                payload=body.payload,
                at_user_list=body.at_user_list,
                attachments=body.attachments,
                counts_unread=counts_unread,
                **fields,
            )
    except IntegrityError:
        # The same client ID raced in from another tab: the first one won. Or another
        # sender's message in this thread has that ID: refuse it.
        stored = Message.objects.filter(sender=sender, msg_id=fields["msg_id"]).select_related("thread").first()
        if stored is None:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "this message ID is already used in the conversation") from None
        return _already_stored(stored, sender, peer.username if group is None else group.group_id, name_card)
    except BaseException:
        if body is not None and body.created_upload is not None:
            storage.delete(body.created_upload.key)
        raise


def check_reply(sender: User, cloud_custom_data: str, group_thread_id: int | None, peer: User | None):
    """A reply (cloudCustomData.messageReply, TUIKit's shape: rules.replied_message_id)
    must name a message of this same conversation that ``sender`` may read: from their
    first visible sequence on (joined, cleared), not hidden from them. Else 10004, and
    the same answer whether the message exists elsewhere or not at all, so a reply
    cannot probe for messages. The server adds nothing from the original to the reply:
    the abstract and sender in it are the client's text. One query, only for a reply."""
    try:
        message_id = rules.replied_message_id(cloud_custom_data)
    except ValueError as error:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, str(error)) from None
    if message_id is None:
        return
    if group_thread_id is not None:
        in_thread = {"thread_id": group_thread_id}
    else:
        in_thread = {"thread__key": Thread.c2c_key(sender.pk, peer.pk)}
    readable = (
        Message.objects.visible_to(sender)
        .filter(
            msg_id=message_id,
            thread__conversations__user=sender,
            seq__gte=F("thread__conversations__min_seq"),
            seq__gt=F("thread__conversations__cleared_seq"),
            **in_thread,
        )
        .exists()
    )
    if not readable:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "messageReply.messageID is not a message of this conversation you can read")


# The types whose body is built without the database (no upload, no stored message).
NO_DATABASE_BODIES = frozenset({rules.TEXT, rules.CUSTOM, rules.FACE, rules.LOCATION})


def _one_statement_send(msg_type, forward, at_user_list, receivers, group, peer) -> bool:
    """Whether the send's whole write is one statement (``post_message``'s numbered
    INSERT and conversation UPDATE in one CTE, on PostgreSQL), so that it needs no
    transaction of its own: no BEGIN and no COMMIT round trip, the statement commits
    alone (autocommit) and its events go out right after it. Not for a body that reads
    or locks rows (uploads, forwards), mentions, targeted messages, nor on SQLite (two
    statements there). A C2C
    pair's first message is one statement too: the thread, the message and both
    conversation rows (``insert_first``)."""
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and forward is None
        and msg_type in NO_DATABASE_BODIES
        and not at_user_list
        and not receivers
    )


def _already_stored(stored: Message, sender: User, to: str, name_card: str) -> SentMessage:
    """A resend of a stored message: the same message back, no event."""
    return SentMessage(stored, serialize.message_base(stored, stored.thread, sender=sender, to=to, name_card=name_card))


# SendControl's fields and the SDK's messageControlInfo keys.
CONTROL_FLAGS = (
    ("excluded_from_unread_count", "excludedFromUnreadCount"),
    ("excluded_from_last_message", "excludedFromLastMessage"),
    ("excluded_from_content_moderation", "excludedFromContentModeration"),
)


def check_option_combination(conversation_type, receiver_list, at_user_list, message_control_info, online_user_only):
    """The send options the SDK forbids together (TIM.md §2.1, §2.2): 10004, before any query."""
    if online_user_only and message_control_info is not None:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "onlineUserOnly cannot be combined with messageControlInfo")
    if not receiver_list:
        return
    if conversation_type != Thread.Kind.GROUP:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "receiverList is only for group messages")
    if at_user_list:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "receiverList cannot be combined with atUserList")
    if len(receiver_list) > rules.MAX_RECEIVERS or not all(isinstance(u, str) and u for u in receiver_list):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"receiverList must be at most {rules.MAX_RECEIVERS} userIDs")


def group_receivers(group: Group, receiver_list) -> dict:
    """user pk -> userID of a targeted message's receivers, or 10004 when one is not a
    member of ``group``. One query."""
    found = dict(
        GroupMember.objects.filter(group=group, user__username__in=receiver_list).values_list("user_id", "user__username")
    )
    missing = sorted(set(receiver_list) - set(found.values()))
    if missing:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"receiverList: not members of this group: {', '.join(missing)}")
    return found


def _send_online(sender, target: Group | User, body, *, control: SendControl, origin, name_card, **fields) -> SentMessage:
    """An onlineUserOnly message, checked by the caller as a stored one would be: handed
    to the sockets open now and nothing written (no thread, no ``seq``, no conversation
    row), so nothing replays it. A file would need a stored message to be downloadable:
    only the types without one (``rules.ONLINE_ONLY_TYPES``). Its row is never saved."""
    now = timezone.now()
    message = new_message_row(None, 0, sender, body.type, body.payload, body.at_user_list, now=now, control=control, **fields)
    if isinstance(target, User):
        conversation_type, recipients, to, via_thread = Thread.Kind.C2C, [target.pk], target.username, None
    else:
        conversation_type, to, via_thread = Thread.Kind.GROUP, target.group_id, target.thread_id
        recipients = control.receiver_pks or GroupMember.objects.filter(group=target).values_list("user_id", flat=True)
    base = serialize.message_base(message, Thread(kind=conversation_type), sender=sender, to=to, name_card=name_card)
    # Nothing to commit: outside a transaction publish_on_commit sends at once.
    publish_on_commit(
        "MESSAGE_RECEIVED",
        serialize.online_delivery(base),
        [*recipients, sender.pk],
        origin=origin,
        meta={"online": True},
        via_thread=via_thread,
    )
    return SentMessage(message, base)


def new_message_row(
    thread,
    seq,
    sender,
    msg_type,
    payload,
    at_user_list,
    *,
    now,
    msg_id,
    control: SendControl,
    priority="Normal",
    cloud_custom_data="",
    random=0,
    client_time=0,
    offline_push_info=None,
    need_read_receipt=False,
) -> Message:
    """The Message a send makes, unsaved: post_message inserts it, an onlineUserOnly send
    only serialises it."""
    return Message(
        thread=thread,
        seq=seq,
        msg_id=msg_id,
        sender=sender,
        type=msg_type,
        payload=payload,
        priority=priority,
        cloud_custom_data=cloud_custom_data,
        at_user_list=at_user_list or [],
        random=random,
        client_time=client_time or int(now.timestamp()),
        offline_push_info=offline_push_info,
        need_read_receipt=need_read_receipt,
        excluded_from_unread_count=control.excluded_from_unread_count,
        excluded_from_last_message=control.excluded_from_last_message,
        excluded_from_content_moderation=control.excluded_from_content_moderation,
        is_targeted=bool(control.receiver_pks),
        receiver_list=list(control.receiver_list),
        created_at=now,
    )


def c2c_thread(user_a: User, user_b: User, thread_id=None) -> Thread:
    """The C2C thread of the pair, with both conversation rows; created on first use.
    Call inside a transaction. ``thread_id``: the thread the peer lookup found
    (``access_c2c_peer(with_thread=True)``), used as is (only its pk, kind and key are
    read); None looks once more.

    The first message makes it with ``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING``,
    no savepoint: a concurrent first send waits for the other's commit and inserts
    nothing, and the thread is then read by its key; only the inserting send makes the
    two conversation rows (on PostgreSQL in the same statement, a CTE)."""
    thread = new_c2c_thread(user_a, user_b)
    low, high = thread.user_low, thread.user_high
    if thread_id is not None:
        thread.pk = thread_id
        return thread
    thread_params = [Thread.Kind.C2C, thread.key, low.pk, high.pk, timezone.now()]
    rows = [
        Conversation(user=low, peer=high, conversation_id=rules.c2c_conversation_id(high.username)),
        Conversation(user=high, peer=low, conversation_id=rules.c2c_conversation_id(low.username)),
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: the conversation rows are selected from the thread INSERT's
            # RETURNING, so they exist exactly when this send made the thread.
            selects, params = [], thread_params
            for row in rows:
                columns, exprs, row_params = insert_select(row, {"thread_id": "t.id"}, typed=True)
                selects.append(f"SELECT {', '.join(exprs)} FROM t")
                params += row_params
            cursor.execute(
                f"WITH t AS ({NEW_C2C_THREAD}) INSERT INTO messaging_conversation ({', '.join(columns)})"
                f" {' UNION ALL '.join(selects)} RETURNING thread_id",
                params,
            )
        else:
            cursor.execute(NEW_C2C_THREAD, thread_params)
        made = cursor.fetchone()
    if made is None:
        return Thread.objects.get(key=thread.key)
    thread.pk = made[0]
    if connection.vendor != "postgresql":
        for row in rows:
            row.thread = thread
        Conversation.objects.bulk_create(rows)
    return thread


def new_c2c_thread(user_a: User, user_b: User, thread_id=None) -> Thread:
    """The pair's thread, unsaved (``pk`` None), its users set: ``post_message`` inserts it
    with the first message and both conversation rows, in one statement (``insert_first``);
    ``c2c_thread`` builds on it. ``thread_id`` is ignored (the signature is
    ``c2c_thread``'s, so that ``send_message`` calls either)."""
    low, high = sorted((user_a, user_b), key=lambda u: u.pk)
    return Thread(kind=Thread.Kind.C2C, key=Thread.c2c_key(low.pk, high.pk), user_low=low, user_high=high)


def insert_first(thread: Thread, message: Message, control: SendControl, counts_unread, sender_pk, now):
    """A C2C pair's first message, on PostgreSQL, in one statement: the thread
    (``INSERT ... ON CONFLICT (key) DO NOTHING``, its numbers already those of its first
    message), the message numbered 1, and both conversation rows as the send's
    UPDATE would leave them (``_conversation_update``: unread 1 for the receiver
    unless the message counts for nobody; last message, time and shown unless
    excludedFromLastMessage), each selected from the previous one's RETURNING, so that
    nothing is written unless the thread is. Returns the rows the UPDATE would return,
    [(user pk, conversationID, unread)], and sets the numbers and pks on ``message``
    and ``thread``; or None when the key was taken (the pair's other first message,
    committed meanwhile): nothing written then, and the caller sends into that thread."""
    low, high = thread.user_low, thread.user_high  # set by new_c2c_thread: no query
    counts = counts_unread and not control.excluded_from_unread_count
    shown = not control.excluded_from_last_message
    numbered = {"thread_id": "t.id", **{column: "1" for column in NUMBERED}}
    columns, values, params = insert_select(message, numbered)
    # Both conversation rows from one SELECT (one set of parameters for the columns they
    # share: under psycopg's 50, so that the statement's conversion is cached): the
    # columns of one row or the other from the thread's RETURNING and a VALUES list.
    computed = {
        "thread_id": "m.thread_id",
        "user_id": "CASE r.n WHEN 1 THEN t.user_low_id ELSE t.user_high_id END",
        "peer_id": "CASE r.n WHEN 1 THEN t.user_high_id ELSE t.user_low_id END",
        "conversation_id": "r.conversation_id",
        "unread_count": "r.unread_count",
        **({"last_message_id": "m.id"} if shown else {}),
    }
    shared = Conversation(user=low, peer=high, last_time=now if shown else None)
    conversation_columns, exprs, shared_params = insert_select(shared, computed)
    params += shared_params
    for user, other in ((low, high), (high, low)):
        params += [rules.c2c_conversation_id(other.username), 1 if counts and user.pk != sender_pk else 0]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH t AS ({FIRST_C2C_THREAD}),"
            f" m AS (INSERT INTO messaging_message ({', '.join(columns)}) SELECT {', '.join(values)} FROM t"
            " RETURNING id, thread_id),"
            f" c AS (INSERT INTO messaging_conversation ({', '.join(conversation_columns)}) SELECT {', '.join(exprs)}"
            f" FROM m, t, {TWO_CONVERSATIONS} RETURNING user_id, conversation_id, unread_count)"
            " SELECT 0, m.id, m.thread_id, NULL FROM m UNION ALL SELECT 1, c.user_id, c.unread_count, c.conversation_id FROM c",
            [Thread.Kind.C2C, thread.key, low.pk, high.pk, now, *params],
        )
        made = sorted(cursor.fetchall(), key=lambda row: row[0])
    if not made:
        return None
    (_, message.pk, thread.pk, _), *viewers = made
    thread.last_seq = thread.last_change = 1
    message.thread = thread
    message.seq = message.created_change = message.change = 1
    message._state.adding, message._state.db = False, connection.alias
    thread._state.adding, thread._state.db = False, connection.alias
    return [(user_pk, conversation_id, unread) for _, user_pk, unread, conversation_id in viewers]


NEW_C2C_THREAD = (
    "INSERT INTO messaging_thread (kind, key, last_seq, last_change, purged_seq, user_low_id, user_high_id, created_at)"
    " VALUES (%s, %s, 0, 0, 0, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING id"
)
# The same, numbered as after its first message, with its users (insert_first).
FIRST_C2C_THREAD = (
    "INSERT INTO messaging_thread (kind, key, last_seq, last_change, purged_seq, user_low_id, user_high_id, created_at)"
    " VALUES (%s, %s, 1, 1, 0, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING id, user_low_id, user_high_id"
)
# The two rows' own columns (n = 1: the lower user's row), typed by the first row.
TWO_CONVERSATIONS = (
    "(VALUES (1, CAST(%s AS varchar(64)), CAST(%s AS integer)), (2, %s, %s)) AS r (n, conversation_id, unread_count)"
)


def insert_select(instance, computed: dict, *, typed=False):
    """(quoted columns, SELECT expressions, parameters) of an INSERT ... SELECT of the unsaved
    ``instance``: every concrete column but the primary key, its value as Django would save
    it, or the SQL expression ``computed`` gives for that column (a CTE's RETURNING).
    ``typed`` casts each parameter to its column's type (a UNION ALL of SELECTs types its
    columns from its first SELECT, where a NULL would be text). The columns and
    expressions are worked out once per model and shape (``_insert_shape``)."""
    columns, exprs, fields = _insert_shape(type(instance), tuple(computed.items()), typed, connection.vendor)
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    return columns, exprs, params


@functools.cache
def _insert_shape(model, computed: tuple, typed: bool, vendor: str):
    """``insert_select``'s columns and expressions, and the fields that take parameters."""
    computed = dict(computed)
    columns, exprs, fields = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in computed:
            exprs.append(computed[field.column])
        else:
            exprs.append(f"CAST(%s AS {field.cast_db_type(connection)})" if typed else "%s")
            fields.append(field)
    return tuple(columns), tuple(exprs), tuple(fields)


def post_message(
    thread: Thread,
    sender: User | None,
    *,
    to,
    msg_type,
    payload,
    msg_id,
    at_user_list=None,
    attachments=(),
    counts_unread=True,
    direct_to=(),
    control: SendControl = ORDINARY,
    origin=None,
    name_card="",
    **stored,
) -> SentMessage:
    """Insert one message into ``thread`` and fan it out. Call inside a transaction.

    Used by send_message and by group actions for their tips. ``counts_unread`` is
    False for Meeting groups and for tips. ``direct_to`` (user pks) also delivers to
    those users' own channel groups: members this change added. ``control``: the
    send options stored on the message (``SendControl``). ``stored``: the other
    fields the message keeps as sent (``new_message_row``: priority,
    cloudCustomData, random, clientTime, offlinePushInfo, needReadReceipt).
    """
    now = timezone.now()
    message = new_message_row(
        thread, None, sender, msg_type, payload, at_user_list, now=now, msg_id=msg_id, control=control, **stored
    )
    sender_pk = sender.pk if sender else 0
    if connection.vendor == "postgresql" and not attachments and not at_user_list and not control.receiver_pks:
        viewers = None
        if thread.pk is None:  # a C2C pair's first message (new_c2c_thread)
            viewers = insert_first(thread, message, control, counts_unread, sender_pk, now)
            if viewers is None:  # the pair's other first message made the thread meanwhile
                thread = Thread.objects.get(key=thread.key)
                message.thread = thread
        if viewers is None:
            # One statement: the conversation rows take the message's pk from the INSERT's RETURNING.
            update = _conversation_update(control, counts_unread, sender_pk, None, now, thread.pk, from_cte=True)
            viewers = insert_numbered(thread, message, then=update)
    else:
        insert_numbered(thread, message)
        if attachments:
            message.attachments.add(*attachments)
        if at_user_list:
            _record_mentions(thread, message, at_user_list)
        if control.receiver_pks:
            MessageReceiver.objects.bulk_create([MessageReceiver(message=message, user_id=pk) for pk in control.receiver_pks])
        sql, params = _conversation_update(control, counts_unread, sender_pk, message.pk, now, thread.pk)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            viewers = cursor.fetchall()
    base = serialize.message_base(message, thread, sender=sender, to=to, name_card=name_card)
    # Each socket gets one of two encodings made once here: the receivers' (flow "in")
    # or the sender's own tabs' (flow "out"). The event carries them, not the dict.
    delivery = serialize.delivery(base, message.change, last_message=not control.excluded_from_last_message)
    meta = {"counts": {str(pk): unread for pk, _, unread in viewers}}
    recipients = [user_pk for user_pk, _, _ in viewers]
    if control.receiver_pks:
        publish_change_to_others(thread, rules.group_conversation_id(to), message.change, recipients)
    if thread.kind == Thread.Kind.GROUP:
        publish_on_commit("MESSAGE_RECEIVED", delivery, recipients, origin=origin, meta=meta, via_thread=thread.pk)
        if direct_to:
            # Members added by this very change have no socket in the thread's group yet.
            publish_on_commit("MESSAGE_RECEIVED", delivery, direct_to, origin=origin, meta=meta)
    else:
        publish_on_commit("MESSAGE_RECEIVED", delivery, recipients, origin=origin, meta=meta)
    return SentMessage(message, base)


# The thread's next sequence and change number, under its row lock (the UPDATE's).
NEXT_NUMBERS = (
    "UPDATE messaging_thread SET last_seq = last_seq + 1, last_change = last_change + 1"
    " WHERE id = %s RETURNING last_seq, last_change"
)
# The Message columns that take the thread's new numbers.
NUMBERED = {"seq": "last_seq", "change": "last_change", "created_change": "last_change"}


def insert_numbered(thread: Thread, message: Message, then=None):
    """Give ``message`` the thread's next ``seq`` and change number and insert it: on
    PostgreSQL one statement (the UPDATE ... RETURNING of the thread in a CTE, whose row
    lock orders the thread's sends as before, and the INSERT ... SELECT from it), else the
    UPDATE and the INSERT. Sets the numbers on ``message`` and ``thread``.

    ``then`` (PostgreSQL): the (sql, params) of an UPDATE ... FROM m ... RETURNING that
    runs in the same statement, ``m`` being the inserted message (``m.id``); its rows are
    returned."""
    rows = None
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(NEXT_NUMBERS, [thread.pk])
            seq, change = cursor.fetchone()
        message.seq, message.created_change, message.change = seq, change, change
        message.save(force_insert=True)
    else:
        columns, values, params = insert_select(message, {column: f"n.{name}" for column, name in NUMBERED.items()})
        insert = (
            f"INSERT INTO messaging_message ({', '.join(columns)}) SELECT {', '.join(values)} FROM n RETURNING id, seq, change"
        )
        with connection.cursor() as cursor:
            if then is None:
                cursor.execute(f"WITH n AS ({NEXT_NUMBERS}) {insert}", [thread.pk, *params])
                message.pk, seq, change = cursor.fetchone()
            else:
                update, update_params = then
                # The message's row first (kind 0), then the UPDATE's (kind 1).
                cursor.execute(
                    f"WITH n AS ({NEXT_NUMBERS}), m AS ({insert}), u AS ({update})"
                    " SELECT 0, m.id, m.seq, m.change, NULL FROM m"
                    " UNION ALL SELECT 1, u.user_id, 0, u.unread_count, u.conversation_id FROM u",
                    [thread.pk, *params, *update_params],
                )
                rows = cursor.fetchall()
                (_, message.pk, seq, change, _), *updated = sorted(rows, key=lambda row: row[0])
                rows = [(user_pk, conversation_id, unread) for _, user_pk, _, unread, conversation_id in updated]
        message.seq, message.created_change, message.change = seq, change, change
        message._state.adding, message._state.db = False, connection.alias
    thread.last_seq, thread.last_change = message.seq, message.change
    return rows


def publish_change_to_others(thread: Thread, conversation_id, change, viewers):
    """A targeted message's send or recall is a change of the group's conversation that
    only its sender and receivers hear of. The other members get its number alone
    (``serialize.cursor_patch``), so that their next patch does not look like a lost
    change, which would make every one of their tabs call ``sync`` (docs/PROTOCOL.md
    §8.1). One query: the group's other conversation rows."""
    others = Conversation.objects.filter(thread_id=thread.pk).exclude(user_id__in=viewers).values_list("user_id", flat=True)
    publish_on_commit(
        "CONVERSATION_LIST_UPDATED", [serialize.cursor_patch(conversation_id, change)], others, via_thread=thread.pk
    )


def _conversation_update(control: SendControl, counts_unread, sender_pk, message_pk, now, thread_pk, *, from_cte=False):
    """The send's one UPDATE ... RETURNING of the thread's conversation rows (unread +1, last
    message, shown again), as ``control`` narrows it: excludedFromUnreadCount and a
    targeted message count for nobody (TIM.md §10); excludedFromLastMessage leaves each
    row's lastMessage, time and hidden state (a hidden row counts nothing, so the total,
    which leaves hidden conversations out, stays what a refetch says); a targeted message
    touches only its sender's and receivers' rows."""
    counts = counts_unread and not control.excluded_from_unread_count and not control.receiver_pks
    if control.excluded_from_last_message:
        sql = "UPDATE messaging_conversation SET unread_count = unread_count + CASE WHEN user_id = %s OR is_hidden THEN 0 ELSE %s END"
        params = [sender_pk, 1 if counts else 0]
    else:
        sql = (
            "UPDATE messaging_conversation SET"
            " unread_count = unread_count + CASE WHEN user_id = %s THEN 0 ELSE %s END,"
            f" last_message_id = {'m.id' if from_cte else '%s'}, last_time = %s, is_hidden = %s"
        )
        params = [sender_pk, 1 if counts else 0, *(() if from_cte else (message_pk,)), now, False]
    if from_cte:
        sql += " FROM m"
    sql += " WHERE thread_id = %s"
    params.append(thread_pk)
    if control.receiver_pks:
        viewers = [sender_pk, *control.receiver_pks]
        sql += f" AND user_id IN ({', '.join(['%s'] * len(viewers))})"
        params.extend(viewers)
    return sql + " RETURNING user_id, conversation_id, unread_count", params


def _record_mentions(thread, message, at_user_list):
    """One row per mentioned member, one for @all (members only: others see nothing)."""
    rows = []
    if rules.AT_ALL in at_user_list:
        rows.append(GroupAtMention(thread=thread, message=message, seq=message.seq, user=None))
    named = [u for u in at_user_list if u != rules.AT_ALL]
    if named:
        member_pks = GroupMember.objects.filter(group__thread=thread, user__username__in=named).values_list("user_id", flat=True)
        rows.extend(GroupAtMention(thread=thread, message=message, seq=message.seq, user_id=pk) for pk in member_pks)
    GroupAtMention.objects.bulk_create(rows)
