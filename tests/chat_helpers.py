"""Shared arrange/assert helpers for the unit tests of actions and queries.

Tests call the actions directly (the only write path); the ORM is used here only to
arrange state the actions do not offer yet (roles, mutes) and to observe results.
"""

import json

import pytest

from messaging import actions
from messaging.models import Conversation, Group, GroupMember, Message, Thread, User


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The users fixture hashes four passwords per test; MD5 keeps the suite fast.

    Autouse in every module that imports it.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def text_body_bytes(text, cloud_custom_data=""):
    """The body size as the SDK limit counts it here: JSON bytes of the payload plus cloudCustomData."""
    return len(json.dumps({"text": text}, ensure_ascii=False).encode()) + len(cloud_custom_data.encode())


# JSON overhead of a text payload: '{"text": ""}'.
TEXT_OVERHEAD = text_body_bytes("")


def send_text(sender, to, text="hello", conversation_type="C2C", **kwargs):
    return actions.send_message(
        sender,
        conversation_type=conversation_type,
        to=to,
        msg_type="TIMTextElem",
        payload={"text": text},
        **kwargs,
    )


def send_group_text(sender, group_id, text="hello", **kwargs):
    return send_text(sender, group_id, text, conversation_type="GROUP", **kwargs)


def make_group(owner, group_type="Private", group_id="g1", members=(), name="Team"):
    return actions.create_group(owner, group_type=group_type, name=name, group_id=group_id, member_user_ids=list(members))


def set_role(group_id, user, role):
    """Arrange: there is no set-admin action yet, so roles are set through the ORM."""
    GroupMember.objects.filter(group__group_id=group_id, user=user).update(role=role)


def conv(user, conversation_id):
    return Conversation.objects.get(user=user, conversation_id=conversation_id)


def conv_or_none(user, conversation_id):
    return Conversation.objects.filter(user=user, conversation_id=conversation_id).first()


def thread_seqs(thread):
    return list(Message.objects.filter(thread=thread).order_by("seq").values_list("seq", flat=True))


def db_snapshot():
    """Everything a failed action must leave untouched."""
    return {
        "messages": list(Message.objects.order_by("pk").values_list("pk", "thread_id", "seq", "msg_id")),
        "threads": list(Thread.objects.order_by("pk").values_list("pk", "key", "last_seq")),
        "conversations": list(
            Conversation.objects.order_by("pk").values_list(
                "pk", "user_id", "conversation_id", "unread_count", "last_read_seq", "last_message_id", "is_hidden"
            )
        ),
        "groups": list(Group.objects.order_by("pk").values_list("pk", "group_id", "owner_id", "member_count")),
        "members": list(GroupMember.objects.order_by("pk").values_list("pk", "group_id", "user_id", "role")),
        "users": User.objects.count(),
    }
