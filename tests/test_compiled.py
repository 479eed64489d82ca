"""Querysets compiled once (messaging/compiled.py): each call runs the same SQL with its
own values and gives what the queryset built for it gives, and builds and compiles
nothing after the first call."""

import pytest
from django.db.models.sql.compiler import SQLCompiler

from messaging import access
from messaging.compiled import CompiledQuery
from messaging.models import Conversation, GroupMember, Message
from messaging.queries import conversation_list, groups, message_list, session
from messaging.queries import sync as sync_queries
from tests.chat_helpers import fast_passwords, make_group, send_text  # noqa: F401

pytestmark = pytest.mark.django_db

ANNOTATIONS = ("peer_read_seq", "friend_remark")


def fields(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def same_rows(found, expected, related=(), annotations=()):
    assert [fields(r) for r in found] == [fields(r) for r in expected]
    for path in related:
        for f, e in zip(found, expected, strict=True):
            for name in path.split("__"):
                if f is None or e is None:
                    break
                f, e = getattr(f, name), getattr(e, name)
            assert (f is None and e is None) or fields(f) == fields(e), path
    for name in annotations:
        assert [getattr(r, name) for r in found] == [getattr(r, name) for r in expected]


@pytest.fixture
def world(alice, bob, carol):
    make_world(alice, bob, carol)


def make_world(alice, bob, carol):
    send_text(alice, "bob", "hi bob")
    send_text(bob, "alice", "hi alice")
    send_text(carol, "alice", "hi from carol")
    make_group(alice, group_type="Private", group_id="g1", members=["bob"])
    make_group(bob, group_type="Public", group_id="g2", members=["alice", "carol"])
    send_text(bob, "g2", "to the group", conversation_type="GROUP")


def test_each_user_gets_the_rows_the_orm_gives_them(world, alice, bob, carol):
    check_compiled_reads_like_the_orm(alice, bob, carol)


def check_compiled_reads_like_the_orm(*users):
    """Each compiled read of the socket's reads gives each user what the ORM gives them
    (tests/integration/pg_suite/concurrent_actions.py runs it on PostgreSQL, in threads)."""
    for user in users:
        expected = (
            Conversation.objects.filter(user=user, is_hidden=False)
            .select_related(*conversation_list.SELECTED)
            .annotate(
                peer_read_seq=conversation_list.peer_read_seq_subquery(),
                friend_remark=conversation_list.friend_remark_subquery(),
            )
            .order_by("-is_pinned", "-last_time", "-pk")
        )
        found = conversation_list.LIST_ROWS.list(user.pk, shape=(100,))
        assert found, user
        same_rows(found, expected, related=conversation_list.SELECTED, annotations=ANNOTATIONS)

        expected = (
            GroupMember.objects.filter(user=user)
            .select_related("group__owner", "group__thread")
            .annotate(remind_type=groups.remind_type_subquery(user, "group"))
            .order_by("group__name", "group_id")
        )
        same_rows(groups.GROUP_LIST_ROWS.list(user.pk), expected, ("group", "group__owner", "group__thread"), ("remind_type",))
        expected = Conversation.objects.filter(user=user).order_by("pk")
        found = sorted(sync_queries.CONVERSATION_ROWS.list(user.pk), key=lambda c: c.pk)
        same_rows(found, expected)

        # sync's changes after cursors, compiled per number of cursors: every change of
        # each conversation (cursor 0), and of each from its second change on.
        for cursor in (0, 1):
            values = [user.pk]
            for conv in expected:
                values += [conv.thread_id, cursor, conv.first_seq]
            found = sync_queries._changed_rows(len(expected)).list(*values, shape=(50,))
            assert found, user
            same_rows(found, sync_queries._changed_queryset(*values, 50), related=("sender",))
        users_state = session.USER_STATE.list(user.pk)
        assert users_state == [(user.is_active, user.nick, user.avatar)]

        # access_conversation's row, and getMessageList's page and cursor, per conversation.
        for conv in expected:
            orm_row = (
                Conversation.objects.select_related("thread", "peer", "group__owner", "group__thread")
                .annotate(peer_read_seq=access.peer_read_seq_subquery(), friend_remark=access.friend_remark_subquery())
                .filter(user=user, conversation_id=conv.conversation_id)
            )
            related = ("thread", "peer", "group", "group__owner", "group__thread")
            same_rows(access.CONVERSATION_ROW.list(user.pk, conv.conversation_id), orm_row, related, ANNOTATIONS)
            readable = Message.objects.visible_to(user).filter(thread_id=conv.thread_id, seq__gte=conv.first_seq)
            newest = readable.select_related("sender", "revoker").order_by("-seq")
            found = message_list.PAGE.list(user.pk, conv.thread_id, conv.first_seq, shape=(2,))
            same_rows(found, newest[:2], related=("sender", "revoker"))
            if not found:
                continue
            last = found[-1]
            assert message_list.CURSOR_SEQ.list(user.pk, conv.thread_id, last.msg_id) == [last.seq]
            found = message_list.PAGE_BEFORE.list(user.pk, conv.thread_id, conv.first_seq, found[0].seq, shape=(5,))
            same_rows(found, newest.filter(seq__lt=newest[0].seq)[:5], related=("sender", "revoker"))
        assert access.CONVERSATION_ROW.list(user.pk, "C2Cnobody") == []


def test_after_the_first_call_nothing_is_built_or_compiled(world, alice, bob, compiles):
    built = []
    query = CompiledQuery(
        lambda user_id, limit: built.append(limit) or Conversation.objects.filter(user_id=user_id).order_by("pk")[:limit], int
    )
    assert len(query.list(alice.pk, shape=(10,))) == 5  # bob, carol, g1, the system notices, g2
    compiled = compiles
    compiled.clear()
    assert [c.peer_id for c in query.list(bob.pk, shape=(10,))][:1] == [alice.pk]
    assert len(query.list(alice.pk, shape=(10,))) == 5
    assert compiled == [] and built == [10]
    # Another shape is compiled once for itself.
    assert len(query.list(alice.pk, shape=(2,))) == 2
    assert built == [10, 2]


def test_get_message_list_builds_and_compiles_nothing_after_its_first_call(world, alice, bob, compiles):
    """getMessageList's reads (the conversation row, the cursor, the page) are compiled once
    per page size: a later call, another user's or another page's, adds none."""
    for _ in range(3):
        send_text(bob, "alice", "more")
    first = message_list.get_message_list(alice, "C2Cbob", count=2)
    older = message_list.get_message_list(alice, "C2Cbob", count=2, next_req_message_id=first["nextReqMessageID"])
    compiled = compiles
    compiled.clear()
    assert message_list.get_message_list(alice, "C2Cbob", count=2) == first
    again = message_list.get_message_list(alice, "C2Cbob", count=2, next_req_message_id=first["nextReqMessageID"])
    assert again == older and [m["ID"] for m in older["messageList"]] != [m["ID"] for m in first["messageList"]]
    assert message_list.get_message_list(bob, "C2Calice", count=2)["messageList"][-1]["ID"] == first["messageList"][-1]["ID"]
    assert compiled == []


def test_values_lists_and_strings(world, alice):
    query = CompiledQuery(
        lambda user_id, conversation_id: Conversation.objects.filter(
            user_id=user_id, conversation_id=conversation_id
        ).values_list("unread_count", flat=True),
        int,
        str,
    )
    assert query.list(alice.pk, "C2Cbob") == [Conversation.objects.get(user=alice, conversation_id="C2Cbob").unread_count]
    assert query.list(alice.pk, "GROUPg2") == [1]
    assert query.list(alice.pk, "C2Cnobody") == []


def test_a_value_that_is_not_a_parameter_is_refused(alice):
    query = CompiledQuery(lambda user_id: Conversation.objects.all(), int)
    with pytest.raises(ValueError, match="do not reach the SQL"):
        query.list(alice.pk)
    with pytest.raises(TypeError, match="expected 1 values"):
        query.list(alice.pk, 2)


def test_the_converters_are_worked_out_once_per_connection(world, alice, bob, monkeypatch):
    """A compiled read asks its columns for their converters (and whether one is composite)
    on its first call only; the rows still come converted (datetimes, JSON)."""
    rows = conversation_list.LIST_ROWS
    rows.list(alice.pk, shape=(100,))
    asked = []
    for name in ("get_converters", "has_composite_fields"):
        original = getattr(SQLCompiler, name)
        monkeypatch.setattr(SQLCompiler, name, lambda self, *a, _o=original, _n=name, **k: asked.append(_n) or _o(self, *a, **k))
    listed = rows.list(bob.pk, shape=(100,))
    assert asked == []
    expected = Conversation.objects.filter(user=bob, is_hidden=False).select_related(*conversation_list.SELECTED)
    assert {c.pk: c.last_message.created_at for c in listed} == {c.pk: c.last_message.created_at for c in expected}
    assert all(c.last_message.created_at.tzinfo is not None for c in listed)
