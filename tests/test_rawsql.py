"""The send path's hand-written reads (messaging/rawsql.py, messaging/access.py) give the
instances the ORM gives: every concrete field equal, converted values included (SQLite's
datetimes, JSON fields), the related objects attached, a missing owner as None.
The same checks run on PostgreSQL in tests/integration/pg_suite/concurrent_actions.py."""

import pytest
from django.utils import timezone

from messaging import access, actions
from messaging.models import Conversation, GroupMember, User
from tests.chat_helpers import assert_refused, fast_passwords, make_group, send_text  # noqa: F401

pytestmark = pytest.mark.django_db


def fields(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def check_membership_like_the_orm(owner, member, group_id):
    """``access_group_membership`` equals the ORM's select_related read, field for field."""
    group, membership = access.access_group_membership(member, group_id)
    expected = GroupMember.objects.select_related("group__owner", "group__thread").get(group__group_id=group_id, user=member)
    assert fields(membership) == fields(expected)
    assert fields(group) == fields(expected.group)
    assert fields(group.thread) == fields(expected.group.thread)
    assert group.owner is not None and fields(group.owner) == fields(expected.group.owner)
    assert membership.group is group
    assert isinstance(group.custom_fields, dict) and isinstance(group.created_at, type(expected.group.created_at))
    assert group.thread.kind == expected.group.thread.kind


def check_peer_like_the_orm(sender, peer):
    """``access_c2c_peer`` equals ``User.objects.get``, with the pair's thread and the checks."""
    found = access.access_c2c_peer(sender, peer.username, with_thread=True)
    assert fields(found) == fields(User.objects.get(pk=peer.pk))
    assert isinstance(found.date_joined, type(timezone.now()))
    thread_id = Conversation.objects.filter(user=sender, peer=peer).values_list("thread_id", flat=True).first()
    assert found.c2c_thread_id == thread_id
    assert found.blocked_sender is False or found.blocked_sender == 0


def test_group_membership_is_what_the_orm_reads(alice, bob):
    make_group(alice, group_type="Public", group_id="raw1", members=["bob"])
    check_membership_like_the_orm(alice, bob, "raw1")
    check_membership_like_the_orm(alice, alice, "raw1")


def test_a_group_without_owner_reads_as_the_orm_reads_it(alice, bob):
    make_group(alice, group_type="Private", group_id="raw3", members=["bob"])
    actions.quit_group(alice, "raw3")
    group, membership = access.access_group_membership(bob, "raw3")
    assert group.owner is None and group.owner_id is None
    expected = GroupMember.objects.select_related("group__owner", "group__thread").get(group__group_id="raw3", user=bob)
    assert fields(group) == fields(expected.group) and fields(membership) == fields(expected)


def test_group_membership_refusals_are_unchanged(alice, bob, carol):
    make_group(alice, group_type="Public", group_id="raw2", members=["bob"])
    assert_refused(10007, access.access_group_membership, carol, "raw2")
    assert_refused(10010, access.access_group_membership, bob, "nope")


def test_c2c_peer_is_what_the_orm_reads_before_and_after_the_first_message(alice, bob):
    check_peer_like_the_orm(alice, bob)
    assert access.access_c2c_peer(alice, "bob", with_thread=True).c2c_thread_id is None
    send_text(alice, "bob")
    check_peer_like_the_orm(alice, bob)
    check_peer_like_the_orm(bob, alice)
    assert access.access_c2c_peer(bob, "alice", with_thread=True).c2c_thread_id is not None


def test_c2c_peer_refusals_are_unchanged(alice, bob):
    assert_refused(20003, access.access_c2c_peer, alice, "nobody")
    actions.add_to_blacklist(bob, ["alice"])
    assert_refused(20007, access.access_c2c_peer, alice, "bob")
    # The server API's send skips the block: only a missing user is refused.
    assert access.access_c2c_peer(alice, "bob", by_admin=True, with_thread=True).pk == bob.pk
