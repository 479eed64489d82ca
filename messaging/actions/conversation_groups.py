"""A user's conversation groups: named filters of their own conversation list
(createConversationGroup, deleteConversationGroup, renameConversationGroup,
addConversationsToGroup, deleteConversationsFromGroup).

The SDK's limits and codes: at most 20 groups (51010), a name of 1 to 32 UTF-8 bytes
(51011), at most 1,000 conversations in a group (51008), an unknown group 51009. A name
already taken is refused with 51011 too (the SDK documents no code of its own for it).

A group's members are the conversations whose ``group_names`` hold its name
(models/conversations.py). Every change reaches every socket of the user:
CONVERSATION_GROUP_LIST_UPDATED with the full list of names when the groups change, and
a CONVERSATION_LIST_UPDATED patch ``{conversationID, conversationGroupList}`` for each
conversation whose groups changed. Each op locks the user's row first, so that two
tabs creating groups at once cannot pass the limit together.
"""

from django.db import transaction

from messaging import rules
from messaging.access import access_own_conversations
from messaging.errors import ChatError, ErrorCode
from messaging.events import publish_on_commit
from messaging.models import Conversation, ConversationGroup, User
from messaging.queries.conversation_groups import get_conversation_group_list


def _check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ChatError(ErrorCode.CONVERSATION_GROUP_BAD_NAME, "groupName must not be empty")
    if len(name.encode("utf-8", "surrogatepass")) > rules.MAX_CONVERSATION_GROUP_NAME_BYTES:
        raise ChatError(
            ErrorCode.CONVERSATION_GROUP_BAD_NAME, f"groupName is longer than {rules.MAX_CONVERSATION_GROUP_NAME_BYTES} bytes"
        )
    return name


def _lock(user: User):
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).get()


def _group(user: User, name) -> ConversationGroup:
    group = ConversationGroup.objects.filter(user=user, name=name).first() if isinstance(name, str) else None
    if group is None:
        raise ChatError(ErrorCode.CONVERSATION_GROUP_NOT_FOUND, f"no conversation group {name!r}")
    return group


def _members(user: User, name: str) -> list:
    """The user's conversations in group ``name`` (pk, conversation_id and group_names only)."""
    rows = Conversation.objects.filter(user=user).exclude(group_names=[]).only("pk", "conversation_id", "group_names")
    return [conv for conv in rows if name in conv.group_names]


def _save_groups(user: User, rows: list):
    """Write the rows' new ``group_names`` (one statement) and tell every socket of the user."""
    if not rows:
        return
    Conversation.objects.bulk_update(rows, ["group_names"])
    publish_on_commit(
        "CONVERSATION_LIST_UPDATED",
        [{"conversationID": conv.conversation_id, "conversationGroupList": list(conv.group_names)} for conv in rows],
        [user.pk],
    )


def _publish_group_list(user: User):
    publish_on_commit("CONVERSATION_GROUP_LIST_UPDATED", get_conversation_group_list(user), [user.pk])


def _result(rows, failures) -> dict:
    return {"successConversationIDList": [conv.conversation_id for conv in rows], "failureConversationIDList": failures}


def _conversation_ids(conversation_ids) -> list:
    if not conversation_ids:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "conversationIDList must not be empty")
    return conversation_ids


def create_conversation_group(user: User, name, conversation_ids, *, origin=None) -> dict:
    """A new group ``name`` holding those of ``conversation_ids`` that are the user's."""
    _check_name(name)
    _conversation_ids(conversation_ids)
    with transaction.atomic():
        _lock(user)
        names = list(ConversationGroup.objects.filter(user=user).values_list("name", flat=True))
        if name in names:
            raise ChatError(ErrorCode.CONVERSATION_GROUP_BAD_NAME, f"there is a conversation group {name!r} already")
        if len(names) >= rules.MAX_CONVERSATION_GROUPS:
            raise ChatError(ErrorCode.CONVERSATION_GROUP_LIMIT, f"at most {rules.MAX_CONVERSATION_GROUPS} conversation groups")
        rows, failures = access_own_conversations(user, conversation_ids)
        if len(rows) > rules.MAX_CONVERSATIONS_PER_GROUP:
            raise ChatError(
                ErrorCode.CONVERSATION_GROUP_FULL, f"at most {rules.MAX_CONVERSATIONS_PER_GROUP} conversations in a group"
            )
        ConversationGroup.objects.create(user=user, name=name)
        for conv in rows:
            conv.group_names = [*conv.group_names, name]
        _save_groups(user, rows)
        _publish_group_list(user)
    return _result(rows, failures)


def delete_conversation_group(user: User, name, *, origin=None) -> str:
    """Delete the group; its conversations stay, out of it."""
    with transaction.atomic():
        _lock(user)
        group = _group(user, name)
        rows = _members(user, name)
        for conv in rows:
            conv.group_names = [n for n in conv.group_names if n != name]
        group.delete()
        _save_groups(user, rows)
        _publish_group_list(user)
    return name


def rename_conversation_group(user: User, old_name, new_name, *, origin=None) -> str:
    _check_name(new_name)
    with transaction.atomic():
        _lock(user)
        group = _group(user, old_name)
        if new_name == old_name:
            return new_name
        if ConversationGroup.objects.filter(user=user, name=new_name).exists():
            raise ChatError(ErrorCode.CONVERSATION_GROUP_BAD_NAME, f"there is a conversation group {new_name!r} already")
        rows = _members(user, old_name)
        for conv in rows:
            conv.group_names = [new_name if n == old_name else n for n in conv.group_names]
        ConversationGroup.objects.filter(pk=group.pk).update(name=new_name)
        _save_groups(user, rows)
        _publish_group_list(user)
    return new_name


def add_conversations_to_group(user: User, name, conversation_ids, *, origin=None) -> dict:
    return _move(user, name, conversation_ids, into=True)


def delete_conversations_from_group(user: User, name, conversation_ids, *, origin=None) -> dict:
    return _move(user, name, conversation_ids, into=False)


def _move(user: User, name, conversation_ids, *, into: bool) -> dict:
    """Put those of ``conversation_ids`` that are the user's into group ``name`` (or take
    them out of it). One already in (or out) is a success that changes nothing."""
    _conversation_ids(conversation_ids)
    with transaction.atomic():
        _lock(user)
        _group(user, name)
        rows, failures = access_own_conversations(user, conversation_ids)
        changed = [conv for conv in rows if (name in conv.group_names) != into]
        if into and changed and len(_members(user, name)) + len(changed) > rules.MAX_CONVERSATIONS_PER_GROUP:
            raise ChatError(
                ErrorCode.CONVERSATION_GROUP_FULL, f"at most {rules.MAX_CONVERSATIONS_PER_GROUP} conversations in a group"
            )
        for conv in changed:
            conv.group_names = [*conv.group_names, name] if into else [n for n in conv.group_names if n != name]
        _save_groups(user, changed)
    return _result(rows, failures)
