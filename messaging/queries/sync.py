"""sync: every change since what the client has seen, in bounded pages (docs/PROTOCOL.md
§5.21 and §8).

Each thread counts its changes (``Thread.last_change``: +1 for every stored message and
every recall, under the row lock that orders the thread's sends, so they commit in
order), and each message keeps the number of its last change (``Message.change``). A
client names, per conversation, the last change it applied (``syncCursor``); the answer
is every message changed after it, as it is now: those stored since (``messageList``,
recalled ones without their content) apart from older ones changed since
(``changedList``: recalls, edits and reactions of messages the client may hold, with
``reactions``, the messages' whole reaction lists), and the user's own deletions
for themselves since (``deletedList``, ``clearedSequence``). A conversation the client does not name (new to it) brings its unread
messages, at most ``SYNC_NEW_CONVERSATION_MESSAGES``. The last page also carries the
conversation list and the group list, the state of everything else (unread counts,
read cursors, pins, memberships, profiles).

Queries, whatever the number of conversations: the user's conversations with their
threads, one for the named conversations' changes, one for the new conversations'
messages (when there are any), one for the user's deletions (when a named conversation
has one after its cursor), one for the group messages' senders' name cards (when
there are any: queries.name_cards), one for the reactions of the messages returned (when
there are any), and one for their first users (when there are reactions:
queries.reactions.reaction_lists), and on the last page the lists (getConversationList's
and getGroupList's).
"""

import functools
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q

from messaging import conf, rules, serialize
from messaging.access import friend_remark_subquery, peer_read_seq_subquery
from messaging.compiled import CompiledQuery
from messaging.errors import ChatError, ErrorCode
from messaging.models import Conversation, Message, MessageDeletion, Thread, User
from messaging.queries import conversation_list, groups
from messaging.queries.name_cards import name_cards
from messaging.queries.reactions import reaction_lists

# Compiled once (messaging/compiled.py): every reconnecting client runs it.
CONVERSATION_ROWS = CompiledQuery(
    lambda user_id: (
        Conversation.objects.filter(user_id=user_id)
        .select_related("thread", "group", "peer")
        .annotate(peer_read_seq=peer_read_seq_subquery(), friend_remark=friend_remark_subquery())
    ),
    int,
)


@dataclass
class Synced:
    """A sync page for a socket (``sync_for_socket``): the reply and, on the last page,
    the user's unread state (``conversation_list.get_unread_state``'s shape) and the
    threads of their groups (``groups.get_group_thread_ids``') as the page read them.
    The socket counts the total unread from them again and follows those threads: what
    it had from an event that never came (the channel layer is at most once) is repaired
    here, as the page's lists repair the client's."""

    reply: dict
    unread_state: tuple[dict, set] | None = None
    thread_ids: list | None = None


def sync(user: User, cursors: dict) -> dict:
    """The changes after ``cursors`` ({conversationID: change}); see the module."""
    return sync_for_socket(user, cursors).reply


def sync_for_socket(user: User, cursors: dict) -> Synced:
    """``sync``, with the unread state and the group threads of the conversation rows it
    reads first (no query more)."""
    page_size = conf.get("SYNC_PAGE_SIZE")
    rows = {c.thread_id: c for c in CONVERSATION_ROWS.list(user.pk)}
    named, new = {}, []
    for conv in rows.values():
        cursor = cursors.get(conv.conversation_id)
        if cursor is None:
            if not conv.is_hidden and conv.unread_count > 0:
                new.append(conv)
            continue
        if cursor > conv.thread.last_change or conv.thread.last_change - cursor > conf.get("SYNC_MAX_GAP"):
            raise ChatError(ErrorCode.RESYNC_REQUIRED, f"cannot sync {conv.conversation_id} from {cursor}: fetch it again")
        if cursor < conv.thread.last_change:
            named[conv.thread_id] = cursor

    changed = _changed_messages(user, rows, named, page_size + 1)
    complete = len(changed) <= page_size
    changed = changed[:page_size]
    by_thread = {}
    for message in changed:
        by_thread.setdefault(message.thread_id, []).append(message)
    # A conversation cut by the page ends at its last change returned; the others are
    # caught up to what the first query read (or further, if a change came since).
    cut = changed[-1].thread_id if not complete else None
    changes_complete = complete

    budget = page_size - len(changed)
    included = []
    for conv in sorted(new, key=lambda c: c.thread_id):
        expected = _new_message_count(conv)
        if expected > budget:
            complete = False
            break
        included.append(conv)
        budget -= expected
    unread = _unread_messages(user, included)
    new_messages = {}
    for message in unread:
        new_messages.setdefault(message.thread_id, []).append(message)
    cards = name_cards(
        (m.thread_id, m.sender_id) for m in (*changed, *unread) if m.sender_id and rows[m.thread_id].group_id is not None
    )

    reactions = reaction_lists(user, [m.pk for m in (*changed, *unread) if not m.is_revoked], rules.REACTION_MAX_PARTIAL_USERS)
    deleted = _deleted_messages(user, rows, named)
    result = [
        _conversation_changes(
            rows[thread_id],
            messages,
            user,
            cards,
            caught_up=thread_id != cut,
            since=named[thread_id],
            deleted=deleted,
            reactions=reactions,
        )
        for thread_id, messages in by_thread.items()
    ]
    if changes_complete:
        # Changes the user cannot see (before they joined, or targeted at others, or
        # another user's deletion for themselves): only the cursor moves. The user's own
        # deletions come with it.
        result.extend(
            _conversation_changes(rows[t], [], user, cards, caught_up=True, since=named[t], deleted=deleted)
            for t in named
            if t not in by_thread
        )
    result.extend(
        _conversation_changes(
            conv, new_messages.get(conv.thread_id, []), user, cards, caught_up=True, since=0, reactions=reactions
        )
        for conv in included
    )

    data = {"conversations": result, "isSyncCompleted": complete}
    if not complete:
        return Synced(data)
    data["conversationList"] = conversation_list.get_conversation_list(user)
    data["groupList"] = groups.get_group_list(user)
    state = conversation_list.unread_state((c.conversation_id, c.unread_count, c.is_hidden, c.remind_type) for c in rows.values())
    return Synced(data, state, [c.thread_id for c in rows.values() if c.group_id is not None])


def _changed_messages(user, rows, named, limit):
    """Up to ``limit`` messages ``user`` may see changed after the named cursors, by thread
    then change."""
    if not named:
        return []
    values = [user.pk]
    for thread_id, cursor in named.items():
        values += [thread_id, cursor, rows[thread_id].first_seq]
    if len(named) <= COMPILED_CURSORS:
        return _changed_rows(len(named)).list(*values, shape=(limit,))
    return list(_changed_queryset(*values, limit))


# A reconnecting client names a few conversations (those changed while it was away): for
# up to this many the query is compiled once per number (messaging/compiled.py).
COMPILED_CURSORS = 8


def _changed_queryset(user_id, *values_and_limit):
    *values, limit = values_and_limit
    clauses = [
        Q(thread_id=thread_id, change__gt=cursor, seq__gte=first_seq)
        for thread_id, cursor, first_seq in zip(values[::3], values[1::3], values[2::3], strict=True)
    ]
    return (
        Message.objects.visible_to(user_id)
        .filter(reduce(or_, clauses))
        .select_related("sender", "revoker")
        .order_by("thread_id", "change")[:limit]
    )


@functools.cache
def _changed_rows(cursors: int) -> CompiledQuery:
    return CompiledQuery(_changed_queryset, *(int,) * (1 + 3 * cursors))


def _deleted_messages(user, rows, named):
    """thread id -> IDs of the messages ``user`` deleted for themselves after the named
    cursors (deleteMessage). A query only when a named conversation has such a deletion
    (``Conversation.deleted_change``), which the conversation rows already tell."""
    behind = {t: cursor for t, cursor in named.items() if rows[t].deleted_change > cursor}
    if not behind:
        return {}
    clauses = [Q(thread_id=t, change__gt=cursor) for t, cursor in behind.items()]
    deleted = {}
    for thread_id, msg_id in (
        MessageDeletion.objects.filter(user=user).filter(reduce(or_, clauses)).values_list("thread_id", "message__msg_id")
    ):
        deleted.setdefault(thread_id, []).append(msg_id)
    return deleted


def _first_new_seq(conv):
    """The first sequence a conversation new to the client brings: after the read cursor,
    and no more than SYNC_NEW_CONVERSATION_MESSAGES back (sequences have no gaps; targeted
    messages to others make the page budget a bound, not an exact count)."""
    return max(conv.last_read_seq, conv.first_seq - 1, conv.thread.last_seq - conf.get("SYNC_NEW_CONVERSATION_MESSAGES")) + 1


def _new_message_count(conv):
    return max(conv.thread.last_seq - _first_new_seq(conv) + 1, 0)


def _unread_messages(user, convs):
    if not convs:
        return []
    clauses = [Q(thread_id=c.thread_id, seq__gte=_first_new_seq(c)) for c in convs]
    return list(
        Message.objects.visible_to(user)
        .filter(reduce(or_, clauses))
        .select_related("sender", "revoker")
        .order_by("thread_id", "change")
    )


def _conversation_changes(conv, messages, user, cards, *, caught_up, since, deleted=None, reactions=None):
    """One conversation's part of the answer: the messages stored after ``since`` (the
    client's cursor), by sequence, and those stored before it and changed since
    (recalled, edited, reacted to), by change, as the user sees them; the reactions of
    those messages (``reactions``: every changed message not recalled, with its whole
    list, empty when the last reaction went; a new message when it has any); and the new
    cursor (the last change returned; with ``caught_up``, at least the thread's counter as
    the first query read it)."""
    cursor = max((m.change for m in messages), default=0)
    if caught_up:
        cursor = max(cursor, conv.thread.last_change)
    thread = conv.thread
    if thread.kind == Thread.Kind.GROUP:
        to_for = lambda m: conv.group.group_id  # noqa: E731
    else:
        to_for = lambda m: conv.peer.username if m.sender_id == user.pk else user.username  # noqa: E731

    def shown(rows):
        return [
            serialize.for_viewer(
                serialize.message_base(
                    m, thread, sender=m.sender, to=to_for(m), name_card=cards.get((m.thread_id, m.sender_id), "")
                ),
                user.username,
                peer_read_seq=conv.peer_read_seq,
            )
            for m in rows
        ]

    entry = {
        "conversationID": conv.conversation_id,
        "syncCursor": cursor,
        "messageList": shown(sorted((m for m in messages if m.created_change > since), key=lambda m: m.seq)),
        "changedList": shown(m for m in messages if m.created_change <= since),
    }
    reactions = reactions or {}
    reacted = [
        {"messageID": m.msg_id, "reactionList": reactions.get(m.pk, [])}
        for m in messages
        if not m.is_revoked and (m.created_change <= since or m.pk in reactions)
    ]
    if reacted:
        entry["reactions"] = reacted
    if since and conv.deleted_change > since:
        # The user deleted messages for themselves since the cursor (on another device):
        # what the client may hold and must drop (clearHistoryMessage: up to clearedSequence).
        entry["deletedList"] = (deleted or {}).get(conv.thread_id, [])
        entry["clearedSequence"] = conv.cleared_seq
    return entry
