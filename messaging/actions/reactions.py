"""Message reactions: addMessageReaction, removeMessageReaction (docs/PROTOCOL.md §5.54,
§5.55; the event §6.19).

Who may react: whoever may see the message (``access_message``: a member of the group
from the message on, a party of the C2C conversation, a receiver of a targeted message).
A non-member is refused 10007, a message out of sight 10030. A recalled message (which
includes one a moderator deleted for everyone) takes no reactions: 10030, as the message
is gone from view; nor do group tips and system notices (10004). A muted member may react:
muting stops sending messages (10017), and a reaction is not a message (the vendor's mute
says the same); nor does a reaction count as unread, move the conversation or its
``lastMessage``.

Refusals carry the vendor's codes: 23007 the user already reacted so, 23008 they have not
(removing), 23005 the message has ``rules.MAX_REACTIONS_PER_MESSAGE`` distinct reactions.
A reactionID is one emoji or one code of the site's emoji set (``rules.is_reaction_id``),
else 10004.

Cost: a fixed number of queries whatever the group's size (tests/test_reactions.py pins
them for 10 and 1,000 members): the access check, the message row locked (so that two
reactions at once cannot pass the limit together), one aggregate for the checks, the
insert or delete, the changed reaction's new summary (one query), and the viewers' ids.
After commit ONE small event goes to the group's channel-layer group: the changed
reaction's absolute total and first users (``rules.REACTION_MAX_PARTIAL_USERS``), never
the whole list; the same event for every viewer. In C2C each of the two parties gets it
with the conversationID they know.
"""

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from messaging import rules
from messaging.access import access_conversation
from messaging.actions.message_delete import next_change
from messaging.errors import ChatError, ErrorCode
from messaging.events import publish_on_commit
from messaging.models import Conversation, Message, MessageReaction, MessageReceiver, Thread, User
from messaging.queries.reactions import reaction_item

EVENT = "MESSAGE_REACTIONS_UPDATED"
NO_REACTIONS = frozenset({rules.GROUP_TIP, rules.GROUP_SYSTEM_NOTICE})


def add_message_reaction(user: User, conversation_id, message_id, reaction_id, *, origin=None) -> dict:
    """``user`` reacts to the message with ``reaction_id``; returns the reaction's new
    summary as the event carries it, with ``reactedByMyself``."""
    return _change(user, conversation_id, message_id, reaction_id, add=True, origin=origin)


def remove_message_reaction(user: User, conversation_id, message_id, reaction_id, *, origin=None) -> dict:
    """``user`` takes back their ``reaction_id`` on the message (23008 if they had none)."""
    return _change(user, conversation_id, message_id, reaction_id, add=False, origin=origin)


def _change(user, conversation_id, message_id, reaction_id, *, add, origin):
    if not rules.is_reaction_id(reaction_id):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "reactionID must be one emoji")
    conv = access_conversation(user, conversation_id)
    if conv is None or not isinstance(message_id, str) or not message_id:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
    with transaction.atomic():
        message = (
            Message.objects.visible_to(user)
            .select_for_update()
            .filter(thread_id=conv.thread_id, msg_id=message_id, seq__gte=conv.first_seq)
            .only("pk", "seq", "type", "is_revoked", "is_targeted", "sender_id")
            .first()
        )
        if message is None or message.is_revoked:
            raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, "no such message")
        if message.type in NO_REACTIONS:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "group tips and notices take no reactions")
        state = MessageReaction.objects.filter(message_id=message.pk).aggregate(
            kinds=Count("reaction_id", distinct=True),
            this_kind=Count("pk", filter=Q(reaction_id=reaction_id)),
            mine=Count("pk", filter=Q(reaction_id=reaction_id, user=user)),
        )
        if add:
            if state["mine"]:
                raise ChatError(ErrorCode.ALREADY_REACTED, "you already reacted with this emoji")
            if not state["this_kind"] and state["kinds"] >= rules.MAX_REACTIONS_PER_MESSAGE:
                raise ChatError(
                    ErrorCode.TOO_MANY_REACTIONS, f"a message takes at most {rules.MAX_REACTIONS_PER_MESSAGE} different reactions"
                )
            # No race with another tab between the check and the insert: the message row is locked.
            MessageReaction.objects.create(message_id=message.pk, user=user, reaction_id=reaction_id, created=timezone.now())
        else:
            if not state["mine"]:
                raise ChatError(ErrorCode.NOT_REACTED, "you have not reacted with this emoji")
            MessageReaction.objects.filter(message_id=message.pk, user=user, reaction_id=reaction_id).delete()
        # A change of the message, as an edit is: a client that missed the event gets the
        # message's reactions from ``sync`` (queries/sync.py, docs/PROTOCOL.md §8).
        Message.objects.filter(pk=message.pk).update(change=next_change(conv.thread_id))
        item = reaction_item(message.pk, reaction_id, rules.REACTION_MAX_PARTIAL_USERS)
        _publish(user, conv, message, message_id, item, "add" if add else "remove", origin)
    return {
        "conversationID": conversation_id,
        "messageID": message_id,
        "reactionList": [dict(item, reactedByMyself=add)],
    }


def _publish(user, conv, message, message_id, item, operation, origin):
    """MESSAGE_REACTIONS_UPDATED to everyone who sees the message, after commit: one send
    to a group's thread (one query for its viewers' ids), or one to each C2C party."""
    data = {"messageID": message_id, "reactionList": [item], "operatorID": user.username, "operation": operation}
    if conv.thread.kind == Thread.Kind.C2C:
        parties = ((user.pk, conv.peer.username), (conv.peer_id, user.username))
        for viewer_pk, peer in parties[: 1 if conv.peer_id == user.pk else 2]:
            publish_on_commit(EVENT, {"conversationID": rules.c2c_conversation_id(peer), **data}, [viewer_pk], origin=origin)
        return
    if conv.thread.kind != Thread.Kind.GROUP:
        return
    viewers = Conversation.objects.filter(thread_id=conv.thread_id, min_seq__lte=message.seq)
    if message.is_targeted:  # only its sender and receivers see it (Message.visible_to)
        receivers = MessageReceiver.objects.filter(message_id=message.pk).values("user_id")
        viewers = viewers.filter(Q(user_id=message.sender_id) | Q(user_id__in=receivers))
    recipients = list(viewers.values_list("user_id", flat=True))
    event = {"conversationID": conv.conversation_id, **data}
    publish_on_commit(EVENT, event, recipients, origin=origin, via_thread=conv.thread_id)
