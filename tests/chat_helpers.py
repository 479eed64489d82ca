"""Shared arrange/assert helpers for the unit tests of actions and queries.

Tests call the actions directly (the only write path), to arrange state too; the ORM
is used here only to observe results (tests/test_write_path.py keeps it so).
"""

import pytest
from django.db import connection

from messaging import actions, rules
from messaging.errors import ChatError
from messaging.models import (
    Conversation,
    Group,
    GroupApplication,
    GroupAtMention,
    GroupMember,
    Message,
    MessageDeletion,
    Thread,
    User,
)

# The send path joins some statements into one CTE on PostgreSQL (messaging/actions/message_send.py):
# the pinned query counts differ by backend (DATABASE_URL runs the tests on PostgreSQL).
ON_POSTGRESQL = connection.vendor == "postgresql"
# A message's next seq and change number (the thread's UPDATE ... RETURNING) and its INSERT
# (message_send.insert_numbered): one statement on PostgreSQL, two elsewhere.
NUMBERED_INSERT = 1 if ON_POSTGRESQL else 2
# The numbered INSERT and the conversations UPDATE ... RETURNING of a send or tip without
# attachments, mentions or receivers (message_send.post_message): one statement on
# PostgreSQL (the UPDATE in the same CTE), three elsewhere.
NUMBERED_WRITE = 1 if ON_POSTGRESQL else 3
# A new C2C thread and its two conversation rows (message_send.c2c_thread): likewise.
NEW_C2C_THREAD = 1 if ON_POSTGRESQL else 2


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The users fixture hashes four passwords per test; MD5 keeps the suite fast.

    Autouse in every module that imports it.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def text_body_bytes(text, cloud_custom_data=""):
    """The body size as the SDK limit counts it here: JSON bytes of the payload plus cloudCustomData."""
    return rules.body_bytes({"text": text}, cloud_custom_data)


# JSON overhead of a text payload: '{"text": ""}'.
TEXT_OVERHEAD = text_body_bytes("")


def send_text(sender, to, text="hello", conversation_type="C2C", **kwargs):
    """The stored Message (``send_message`` returns it with its SDK dict: ``.message``)."""
    return actions.send_message(
        sender,
        conversation_type=conversation_type,
        to=to,
        msg_type="TIMTextElem",
        payload={"text": text},
        **kwargs,
    ).message


def send_group_text(sender, group_id, text="hello", **kwargs):
    return send_text(sender, group_id, text, conversation_type="GROUP", **kwargs)


def make_group(owner, group_type="Private", group_id="g1", members=(), name="Team"):
    return actions.create_group(owner, group_type=group_type, name=name, group_id=group_id, member_user_ids=list(members))


def set_role(group_id, user, role):
    """Arrange a role through the action, as the group's owner (tips 4/5 are posted)."""
    owner = Group.objects.select_related("owner").get(group_id=group_id).owner
    return actions.set_member_role(owner, group_id, user.username, role)


def mute(group_id, user, seconds):
    """Arrange a member mute through the action, as the group's owner (tip 7 is posted)."""
    owner = Group.objects.select_related("owner").get(group_id=group_id).owner
    return actions.mute_member(owner, group_id, user.username, seconds)


def conv(user, conversation_id):
    return Conversation.objects.get(user=user, conversation_id=conversation_id)


def conv_or_none(user, conversation_id):
    return Conversation.objects.filter(user=user, conversation_id=conversation_id).first()


def thread_seqs(thread):
    return list(Message.objects.filter(thread=thread).order_by("seq").values_list("seq", flat=True))


def assert_refused(code, call, *args, **kwargs):
    """``call`` raises ChatError(code) and writes nothing (``db_snapshot`` unchanged)."""
    before = db_snapshot()
    with pytest.raises(ChatError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message
    assert db_snapshot() == before
    return info.value


def db_snapshot():
    """Everything a failed action must leave untouched."""
    return {
        "messages": list(
            Message.objects.order_by("pk").values_list(
                "pk", "thread_id", "seq", "msg_id", "is_revoked", "revoker_id", "revoked_at"
            )
        ),
        "mentions": list(GroupAtMention.objects.order_by("pk").values_list("pk", "message_id", "user_id")),
        "threads": list(Thread.objects.order_by("pk").values_list("pk", "key", "last_seq", "last_change")),
        "deletions": list(MessageDeletion.objects.order_by("pk").values_list("pk", "message_id", "user_id")),
        "conversations": list(
            Conversation.objects.order_by("pk").values_list(
                "pk",
                "user_id",
                "conversation_id",
                "unread_count",
                "last_read_seq",
                "last_message_id",
                "is_hidden",
                "cleared_seq",
                "deleted_change",
            )
        ),
        "groups": list(
            Group.objects.order_by("pk").values_list(
                "pk", "group_id", "owner_id", "member_count", "name", "introduction", "notification", "avatar", "mute_all"
            )
        ),
        "members": list(GroupMember.objects.order_by("pk").values_list("pk", "group_id", "user_id", "role", "muted_until")),
        "users": list(User.objects.order_by("pk").values_list("pk", "username", "nick", "avatar", "is_active")),
        "profiles": list(
            User.objects.order_by("pk").values_list(
                "pk", "gender", "birthday", "location", "self_signature", "allow_type", "profile_custom_field"
            )
        ),
        "applications": list(
            GroupApplication.objects.order_by("pk").values_list("pk", "group_id", "applicant_id", "status", "handler_id")
        ),
    }


class FakeClock:
    """A clock (seconds) that moves only when the test sets ``now``."""

    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now
