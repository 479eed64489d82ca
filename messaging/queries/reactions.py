"""Reading message reactions: getMessageReactions, getAllUserListOfMessageReaction
(docs/PROTOCOL.md §5.56, §5.57).

As in the vendor's SDK, reactions are not part of getMessageList's messages: the client
asks for the messages it shows, up to 20 of one conversation in one call. Each read has
a fixed number of queries whatever the number of messages, reactions or reactors: the
counts come from one grouped query, the first users of every reaction from one query
with a window function (``ROW_NUMBER() OVER (PARTITION BY message, reaction ...)``).

A reaction's users are in the order they reacted; a message's reactions in the order of
each one's earliest reactor still there (a new reaction goes last).
"""

import functools

from django.db.models import Count, F, Min, Q, Window
from django.db.models.functions import RowNumber

from messaging import rules, serialize
from messaging.access import access_conversation, access_message
from messaging.compiled import CompiledQuery
from messaging.errors import ChatError, ErrorCode
from messaging.models import Message, MessageReaction, User


def reaction_item(message_pk: int, reaction_id: str, limit: int) -> dict:
    """One reaction of one message as every viewer sees it: ``{reactionID,
    totalUserCount, partialUserList}`` with its first ``limit`` (≥ 1) users. One query:
    the total is a window count over the same rows the page is cut from."""
    rows = list(
        MessageReaction.objects.filter(message_id=message_pk, reaction_id=reaction_id)
        .select_related("user")
        .annotate(total=Window(Count("pk")))
        .order_by("created", "pk")[:limit]
    )
    return {
        "reactionID": reaction_id,
        "totalUserCount": rows[0].total if rows else 0,
        "partialUserList": [serialize.user_profile(row.user) for row in rows],
    }


def get_message_reactions(user: User, message_list, max_user_count: int) -> dict:
    """``{resultList: [{messageID, reactionList}]}`` for the messages of ``message_list``
    (``{ID, conversationID}``, all of one conversation) that ``user`` sees, in the order
    asked. A recalled message has none; one the user cannot see (deleted for them, out of
    their history) is left out. Each reaction says ``reactedByMyself`` and carries its
    first ``max_user_count`` (0–10) users. Four queries."""
    conversation_ids = {ref.conversationID for ref in message_list}
    if len(conversation_ids) != 1:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "the messages must all be of one conversation")
    conv = access_conversation(user, conversation_ids.pop())
    if conv is None:
        return {"resultList": []}
    wanted = list(dict.fromkeys(ref.ID for ref in message_list))
    rows = list(
        Message.objects.visible_to(user)
        .filter(thread_id=conv.thread_id, msg_id__in=wanted, seq__gte=conv.first_seq)
        .values_list("pk", "msg_id", "is_revoked")
    )
    messages = {pk: msg_id for pk, msg_id, _ in rows}
    shown = [pk for pk, _, is_revoked in rows if not is_revoked]
    reactions = {pk: [] for pk in messages}
    reactions.update(reaction_lists(user, shown, max_user_count))
    by_id = {msg_id: pk for pk, msg_id in messages.items()}
    return {
        "resultList": [{"messageID": msg_id, "reactionList": reactions[by_id[msg_id]]} for msg_id in wanted if msg_id in by_id]
    }


def reaction_lists(user: User, message_pks, max_user_count: int) -> dict:
    """message pk -> its reactionList as ``user`` sees it (``reactedByMyself``, the first
    ``max_user_count`` users of each reaction), for the messages that have reactions: one
    query, and one more for the users when there are reactions and ``max_user_count`` > 0."""
    message_pks = list(dict.fromkeys(message_pks))
    if not message_pks:
        return {}
    if len(message_pks) <= COMPILED_MESSAGES:
        counts = _compiled_counts(len(message_pks)).list(user.pk, *message_pks)
    else:
        counts = _counts(user.pk, *message_pks)
    reactions, items = {}, {}
    for row in counts:
        item = {
            "reactionID": row["reaction_id"],
            "totalUserCount": row["total"],
            "partialUserList": [],
            "reactedByMyself": row["mine"] > 0,
        }
        reactions.setdefault(row["message_id"], []).append(item)
        items[row["message_id"], row["reaction_id"]] = item
    if items and max_user_count > 0:
        for row in _first_users(list(reactions), max_user_count):
            items[row.message_id, row.reaction_id]["partialUserList"].append(serialize.user_profile(row.user))
    return reactions


def _counts(user_id, *message_pks):
    """Per message and reaction: its users, its first reaction's time, whether ``user_id`` is one."""
    return (
        MessageReaction.objects.filter(message_id__in=message_pks)
        .values("message_id", "reaction_id")
        .annotate(total=Count("pk"), first=Min("created"), mine=Count("pk", filter=Q(user_id=user_id)))
        .order_by("message_id", "first", "reaction_id")
    )


# A sync page (a reconnecting client's) asks for the reactions of a few messages: for up to
# this many the counts' query is compiled once per number (messaging/compiled.py), as built
# each time it was a third of such a ``sync`` (docs/PERFORMANCE.md, "the storm on a held socket").
COMPILED_MESSAGES = 20


@functools.cache
def _compiled_counts(messages: int) -> CompiledQuery:
    return CompiledQuery(_counts, *(int,) * (1 + messages))


def _first_users(message_pks, limit):
    """The first ``limit`` reactors of every reaction of the messages, in reaction order:
    one query."""
    rank = Window(RowNumber(), partition_by=[F("message_id"), F("reaction_id")], order_by=[F("created").asc(), F("pk").asc()])
    return (
        MessageReaction.objects.filter(message_id__in=message_pks)
        .select_related("user")
        .annotate(rank=rank)
        .filter(rank__lte=limit)
        .order_by("message_id", "reaction_id", "rank")
    )


def get_all_user_list_of_message_reaction(user: User, ref, reaction_id: str, next_seq: int, count: int) -> dict:
    """``{userList, nextSeq, isCompleted}``: a page of ``count`` (1–100) users of one
    reaction, from position ``next_seq`` (0 first, then the ``nextSeq`` returned), in the
    order they reacted. 10030 for a message the user cannot see. Three queries."""
    if not rules.is_reaction_id(reaction_id):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "reactionID must be one emoji")
    message = access_message(user, ref.conversationID, ref.ID)
    if message.is_revoked:
        return {"userList": [], "nextSeq": 0, "isCompleted": True}
    rows = list(
        MessageReaction.objects.filter(message_id=message.pk, reaction_id=reaction_id)
        .select_related("user")
        .order_by("created", "pk")[next_seq : next_seq + count + 1]
    )
    more = len(rows) > count
    return {
        "userList": [serialize.user_profile(row.user) for row in rows[:count]],
        "nextSeq": next_seq + count if more else 0,
        "isCompleted": not more,
    }
