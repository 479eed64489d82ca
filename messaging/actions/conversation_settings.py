"""A user's settings of their own conversations: the draft (setConversationDraft), the
marks (markConversation) and the receive option (setMessageRemindType).

Each is the user's alone: nobody else's state changes and nobody else is told. Every
socket of the user gets a CONVERSATION_LIST_UPDATED patch with the new value, so that
the other tabs and devices show the same list (docs/PROTOCOL.md §6.3).
"""

from django.db import transaction
from django.db.models import F

from messaging import rules
from messaging.access import access_conversation_state, access_own_conversations
from messaging.errors import ChatError, ErrorCode
from messaging.events import publish_on_commit
from messaging.models import Conversation, User


def set_conversation_draft(user: User, conversation_id, draft_text: str, *, origin=None) -> str:
    """Keep ``draft_text`` as the conversation's draft (``""`` clears it). Two queries; the
    patch goes out only when the draft changed (the composer saves it often)."""
    if not isinstance(draft_text, str):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "draftText must be a string")
    if len(draft_text) > rules.MAX_DRAFT_CHARS:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"draftText is longer than {rules.MAX_DRAFT_CHARS} characters")
    conv = access_conversation_state(user, conversation_id)
    if conv is None:
        raise ChatError(ErrorCode.CONVERSATION_NOT_FOUND, f"conversation {conversation_id!r} not found")
    with transaction.atomic():
        changed = Conversation.objects.filter(pk=conv.pk).exclude(draft_text=draft_text).update(draft_text=draft_text)
        if changed:
            publish_on_commit(
                "CONVERSATION_LIST_UPDATED", [{"conversationID": conversation_id, "draftText": draft_text}], [user.pk]
            )
    return conversation_id


def mark_conversation(user: User, conversation_ids, mark_type: int, enable_mark: bool, *, origin=None) -> dict:
    """Set or clear one mark on up to 100 of the user's conversations. Returns
    ``{successConversationIDList, failureConversationIDList}`` (failures: 2500, not one of
    the user's conversations). Marks change no count: an unread mark is a flag that the
    user clears by reading the conversation (read_state.mark_read). Three queries."""
    if not rules.is_mark_type(mark_type):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "markType must be a TYPES.CONV_MARK_TYPE_* value or 2**n (32 <= n <= 62)")
    if not isinstance(enable_mark, bool):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "enableMark must be true or false")
    with transaction.atomic():
        rows, failures = access_own_conversations(user, conversation_ids, for_update=True)
        if rows:
            marks = F("marks").bitor(mark_type) if enable_mark else F("marks").bitand(~mark_type)
            Conversation.objects.filter(pk__in=[conv.pk for conv in rows]).update(marks=marks)
            patches = []
            for conv in rows:
                new_marks = conv.marks | mark_type if enable_mark else conv.marks & ~mark_type
                patches.append({"conversationID": conv.conversation_id, "markList": rules.mark_list(new_marks)})
            publish_on_commit("CONVERSATION_LIST_UPDATED", patches, [user.pk])
    return {"successConversationIDList": [conv.conversation_id for conv in rows], "failureConversationIDList": failures}


def set_message_remind_type(user: User, *, user_ids=None, group_id=None, remind_type: str, origin=None) -> dict:
    """The receive option of a group conversation (``group_id``) or of C2C conversations
    (``user_ids``, at most 30). A group: the user must be a member (10010, 10007) and the
    reply is ``{groupID, messageRemindType}``. C2C: ``{successUserIDList,
    failureUserIDList}``, a failure (2500) for a user with no conversation of this user's.

    Stored and shown (the conversation's ``messageRemindType``, and for a group its
    ``selfInfo.messageRemindType``); notifications respect it in the client, and a muted
    conversation's unread count leaves the total (queries/conversation_list.py). Delivery
    and the conversation's own unread count do not change: the server keeps every
    message, and ``Discard`` is kept as the muting the web SDK can offer.
    """
    if remind_type not in rules.REMIND_TYPES:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "messageRemindType must be AcceptAndNotify, AcceptNotNotify or Discard")
    if (group_id is None) == (user_ids is None):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "give either groupID or userIDList")
    if group_id is not None:
        conversation_id = rules.group_conversation_id(group_id)
        conv = access_conversation_state(user, conversation_id)  # 10010 / 10007 for a group not theirs
        with transaction.atomic():
            Conversation.objects.filter(pk=conv.pk).update(remind_type=remind_type)
            publish_on_commit(
                "CONVERSATION_LIST_UPDATED", [{"conversationID": conversation_id, "messageRemindType": remind_type}], [user.pk]
            )
            # The group's selfInfo.messageRemindType (getGroupList) changed too: the user's
            # sockets refetch their group list and push GROUP_LIST_UPDATED.
            publish_on_commit("GROUP_LIST_UPDATED", None, [user.pk], meta={"refresh": "groups"})
        return {"groupID": group_id, "messageRemindType": remind_type}
    if not user_ids:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "userIDList must not be empty")
    if len(user_ids) > rules.MAX_REMIND_USER_IDS:
        raise ChatError(ErrorCode.TOO_MANY_ACCOUNTS, f"at most {rules.MAX_REMIND_USER_IDS} userIDs at a time")
    wanted = {rules.c2c_conversation_id(peer): peer for peer in dict.fromkeys(user_ids)}
    with transaction.atomic():
        found = dict(Conversation.objects.filter(user=user, conversation_id__in=wanted).values_list("conversation_id", "pk"))
        if found:
            Conversation.objects.filter(pk__in=found.values()).update(remind_type=remind_type)
            patches = [{"conversationID": cid, "messageRemindType": remind_type} for cid in wanted if cid in found]
            publish_on_commit("CONVERSATION_LIST_UPDATED", patches, [user.pk])
    return {
        "successUserIDList": [peer for cid, peer in wanted.items() if cid in found],
        "failureUserIDList": [
            {"userID": peer, "code": int(ErrorCode.CONVERSATION_NOT_FOUND), "message": "no conversation with this user"}
            for cid, peer in wanted.items()
            if cid not in found
        ],
    }
