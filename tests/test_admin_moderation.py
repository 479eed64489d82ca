"""Moderation in the Django admin (issue 9): users, groups and messages, each change through
an action (events and tips as in the app), audited, and allowed to the Moderators group
but not to a plain staff user.

Driven through /admin/ with Django's test client, as tests/test_admin.py does; the
recalls and deletions also over WebSocket tabs (tests/ws.py), whose state after the events
must equal a fresh fetch (tests/test_revoke_protocol.py).
"""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group as AuthGroup
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import actions, rules
from messaging.actions.moderation import MODERATOR_PERMISSIONS, MODERATORS_GROUP
from messaging.errors import ErrorCode
from messaging.models import AuditLogEntry, Group, GroupMember, Message, Upload, User
from messaging.queries.message_list import get_message_list
from messaging.queries.sync import sync
from tests.chat_helpers import (
    assert_refused,
    db_snapshot,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
)
from tests.media_helpers import png, stored_files, upload, use_filesystem_storage
from tests.test_admin import change_form, inline_index, post, published, tips  # noqa: F401
from tests.test_message_revoke import later
from tests.test_revoke_protocol import state, verify

pytestmark = pytest.mark.django_db


def make_staff(username, *, moderator):
    """A staff user; in the Moderators group when ``moderator``."""
    user = actions.create_user(username, password="pw-" + username, is_staff=True)
    if moderator:
        user.groups.add(AuthGroup.objects.get(name=MODERATORS_GROUP))
    return user


def logged_in(user):
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def client(boss):  # the superuser's browser
    return logged_in(boss)


@pytest.fixture
def mod(db):
    return make_staff("mod", moderator=True)


@pytest.fixture
def mod_client(mod):
    return logged_in(mod)


@pytest.fixture
def plain_client(db):
    return logged_in(make_staff("clerk", moderator=False))


def audit():
    return [(e.actor_name, e.action, e.target_type, e.target_id, e.reason) for e in AuditLogEntry.objects.order_by("pk")]


def confirm_and_run(browser, action, pks, reason=""):
    """The moderation confirmation page, then its form posted back with ``reason``."""
    selected = {"action": action, "_selected_action": [str(pk) for pk in pks]}
    page = browser.post("/admin/messaging/message/", selected)
    assert page.status_code == 200 and b"are you sure" in page.content, page.content[:500]
    return browser.post("/admin/messaging/message/", {**selected, "post": "yes", "reason": reason}, follow=True)


def shown(response):
    return [str(m) for m in response.context["messages"]]


# --- the Moderators group -----------------------------------------------------------------------


def test_the_moderators_group_has_exactly_the_moderation_permissions(db):
    group = AuthGroup.objects.get(name=MODERATORS_GROUP)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert codenames == set(MODERATOR_PERMISSIONS)
    assert {"moderate_message", "view_auditlogentry", "change_chatsettings"} <= codenames
    assert not codenames & {"add_user", "delete_user", "add_permission", "change_permission", "change_group_permissions"}
    assert not group.permissions.exclude(content_type__app_label="messaging").exists()


def test_a_moderator_can_recall_delete_and_ban_and_a_plain_staff_user_cannot(mod_client, plain_client, alice, bob):
    spam = send_text(alice, "bob", "spam")
    other = send_text(alice, "bob", "more spam")

    # A plain staff user sees no chat model at all, and cannot post the actions.
    assert plain_client.get("/admin/messaging/message/").status_code == 403
    assert plain_client.get("/admin/messaging/user/").status_code == 403
    before = db_snapshot()
    assert (
        plain_client.post("/admin/messaging/message/", {"action": "recall_messages", "_selected_action": [spam.pk]}).status_code
        == 403
    )
    assert plain_client.post("/admin/messaging/user/", {"action": "ban_users", "_selected_action": [alice.pk]}).status_code == 403
    assert db_snapshot() == before

    listing = mod_client.get("/admin/messaging/message/")
    assert listing.status_code == 200
    assert {"recall_messages", "delete_messages_for_everyone"} <= set(
        listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    )
    assert "Recalled 1 message(s)." in shown(confirm_and_run(mod_client, "recall_messages", [spam.pk], "spam"))
    assert "Deleted 1 message(s)." in shown(confirm_and_run(mod_client, "delete_messages_for_everyone", [other.pk], "spam"))
    response = mod_client.post("/admin/messaging/user/", {"action": "ban_users", "_selected_action": [alice.pk]}, follow=True)
    assert "Banned 1 user(s)." in shown(response)

    assert Message.objects.get(pk=spam.pk).revoker.username == "mod"
    assert Message.objects.get(pk=other.pk).deleted_at is not None
    assert not User.objects.get(pk=alice.pk).is_active
    assert [row[:2] for row in audit()] == [("mod", "recall_message"), ("mod", "delete_message"), ("mod", "ban_user")]


def test_viewing_messages_is_not_enough_to_recall_them(alice, bob):
    from django.contrib.auth.models import Permission

    viewer = make_staff("viewer", moderator=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_message"))
    browser = logged_in(viewer)
    message = send_text(alice, "bob", "hi")
    listing = browser.get("/admin/messaging/message/")
    assert listing.status_code == 200
    assert not {"recall_messages", "delete_messages_for_everyone"} & set(
        listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    )
    before = db_snapshot()
    for action in ("recall_messages", "delete_messages_for_everyone"):
        form = {"action": action, "_selected_action": [message.pk], "post": "yes"}
        assert browser.post("/admin/messaging/message/", form).status_code in (200, 302)
    assert db_snapshot() == before


def test_the_actions_themselves_refuse_someone_without_the_permission(alice, bob):
    clerk = make_staff("clerk", moderator=False)
    message = send_text(alice, "bob", "hi")
    assert_refused(ErrorCode.PERMISSION_DENIED, actions.recall_message_as_moderator, clerk, message)
    assert_refused(ErrorCode.PERMISSION_DENIED, actions.delete_message_for_everyone, clerk, message)
    assert_refused(ErrorCode.PERMISSION_DENIED, actions.delete_message_for_everyone, bob, message)
    assert_refused(ErrorCode.PERMISSION_DENIED, actions.reset_password, clerk, alice)
    assert_refused(ErrorCode.PERMISSION_DENIED, actions.set_user_active, alice, False, moderator=clerk)


def test_a_moderator_cannot_edit_superuser_flags_permissions_or_staff_accounts(mod, mod_client, alice, boss):
    url = f"/admin/messaging/user/{alice.pk}/change/"
    page = mod_client.get(url)
    form = page.context["adminform"].form
    assert not {"is_staff", "is_superuser", "groups", "user_permissions"} & set(form.fields)
    data = change_form(mod_client, url)
    data.update(nick="Ally", is_superuser="on", is_staff="on", groups=[AuthGroup.objects.get().pk])
    post(mod_client, url, data)
    alice.refresh_from_db()
    assert (alice.nick, alice.is_staff, alice.is_superuser, alice.groups.count()) == ("Ally", False, False, 0)

    # Staff accounts (a superuser's, another moderator's, their own) are read-only to a moderator.
    for staff in (boss, mod):
        before = db_snapshot()
        staff_url = f"/admin/messaging/user/{staff.pk}/change/"
        assert mod_client.get(staff_url).status_code == 200
        assert mod_client.post(staff_url, {"username": staff.username, "is_superuser": "on"}).status_code == 403
        assert mod_client.get(f"/admin/messaging/user/{staff.pk}/password/").status_code == 403
        response = mod_client.post("/admin/messaging/user/", {"action": "ban_users", "_selected_action": [staff.pk]}, follow=True)
        assert any("only a superuser" in m for m in shown(response))
        assert db_snapshot() == before
    assert User.objects.get(pk=boss.pk).is_active and not User.objects.get(pk=mod.pk).is_superuser
    # Nor can a moderator set a chat user's password with Django's form (reset it instead).
    assert mod_client.get(f"/admin/messaging/user/{alice.pk}/password/").status_code == 403


# --- users ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("term", "found"), [("ali", ["alice"]), ("Robert", ["bob"]), ("erin@example", ["erin"])])
def test_users_are_searched_by_user_id_nick_and_email(mod_client, users, term, found):
    actions.update_user_profile(users["bob"], nick="Robert")
    actions.create_user("erin", email="erin@example.com")
    listing = mod_client.get("/admin/messaging/user/", {"q": term})
    assert [u.username for u in listing.context["cl"].result_list] == found


def test_ban_and_unban_from_the_list_are_audited(mod_client, alice):
    mod_client.post("/admin/messaging/user/", {"action": "ban_users", "_selected_action": [alice.pk]})
    assert not User.objects.get(pk=alice.pk).is_active  # and the sockets closed: tests/test_ban.py
    mod_client.post("/admin/messaging/user/", {"action": "unban_users", "_selected_action": [alice.pk]})
    mod_client.post("/admin/messaging/user/", {"action": "unban_users", "_selected_action": [alice.pk]})  # no change: no entry
    assert User.objects.get(pk=alice.pk).is_active
    assert audit() == [("mod", "ban_user", "user", "alice", ""), ("mod", "unban_user", "user", "alice", "")]


def test_a_profile_edit_by_a_moderator_is_audited_with_old_and_new_values(mod_client, alice):
    url = f"/admin/messaging/user/{alice.pk}/change/"
    data = change_form(mod_client, url)
    data.update(nick="Ally", email="ally@example.com")
    post(mod_client, url, data)
    assert [(e.action, e.target_id, e.details) for e in AuditLogEntry.objects.order_by("pk")] == [
        ("update_account", "alice", {"fields": ["email"]}),
        ("update_profile", "alice", {"nick": ["Alice", "Ally"]}),
    ]


def test_reset_password_shows_a_new_password_once_logs_out_and_is_audited(mod_client, alice):
    old_session = logged_in(alice)
    assert old_session.get("/").status_code == 200

    response = mod_client.post("/admin/messaging/user/", {"action": "reset_passwords", "_selected_action": [alice.pk]})

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    [(user, password)] = response.context["reset"]
    assert user.username == "alice" and password in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(password) and not alice.check_password("pw-alice")
    assert old_session.get("/").status_code == 302, "the old session no longer authenticates"
    [entry] = AuditLogEntry.objects.all()
    assert (entry.action, entry.target_id) == ("reset_password", "alice")
    assert password not in str(entry.details) + entry.reason
    # Not in the admin's messages (a cookie): only on the page.
    assert password not in str(shown(mod_client.get("/admin/messaging/user/")))


@pytest.mark.django_db(transaction=True)
async def test_reset_password_closes_the_users_sockets(alice, bob):
    from tests.ws import Tab

    mod = await database_sync_to_async(make_staff)("mod", moderator=True)
    tab, other = await Tab.open(alice), await Tab.open(bob)

    await database_sync_to_async(actions.reset_password)(mod, alice)

    assert await tab.wait_event("KICKED_OUT") == {"type": "passwordChanged"}
    assert await tab.communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4001}
    assert (await other.request("getMyProfile"))["userID"] == "bob"
    await other.close()


def seed_user_activity(user, peer, n):
    """``user`` in n groups (made by the peer) and with n C2C and n group messages."""
    for i in range(n):
        make_group(peer, group_type="Public", group_id=f"g{i}", members=[user.username], name=f"Team {i}")
        send_group_text(user, f"g{i}", f"group {i}")
        send_text(user, peer.username, f"c2c {i}")


@pytest.mark.parametrize("n", [3, 40])
def test_the_user_page_lists_groups_and_recent_messages_in_a_fixed_number_of_queries(mod_client, alice, bob, n):
    seed_user_activity(alice, bob, n)
    url = f"/admin/messaging/user/{alice.pk}/change/"
    mod_client.get(url)  # the session and the permissions cached as on any later page

    with CaptureQueriesContext(connection) as queries:
        page = mod_client.get(url)

    assert page.status_code == 200
    assert len(queries) == USER_PAGE_QUERIES, "\n".join(q["sql"] for q in queries.captured_queries)
    assert [m.group.group_id for m in page.context["chat_groups"]] == [f"g{i}" for i in reversed(range(n))]
    recent = page.context["recent_messages"]
    assert len(recent) == min(2 * n, 20)
    assert (recent[0].preview, recent[0].conversation) == (f"c2c {n - 1}", "C2Cbob")
    assert (recent[1].preview, recent[1].conversation) == (f"group {n - 1}", f"GROUPg{n - 1}")
    html = page.content.decode()
    group = Group.objects.get(group_id="g0")
    assert f'href="/admin/messaging/group/{group.pk}/change/"' in html
    assert f'href="/admin/messaging/message/{recent[0].pk}/change/"' in html
    assert "/admin/messaging/message/?sender=alice" in html


USER_PAGE_QUERIES = 10


# --- groups ---------------------------------------------------------------------------------------


def test_removing_a_member_from_the_inline_goes_through_delete_members(client, alice, bob, carol, dave, published):  # noqa: F811
    make_group(alice, group_type="Public", members=["bob", "carol", "dave"])
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    data[f"members-{inline_index(data, 'bob')}-remove"] = "on"
    data[f"members-{inline_index(data, 'carol')}-remove"] = "on"
    data[f"members-{inline_index(data, 'carol')}-role"] = "Admin"  # ignored: carol is removed

    with published() as events:
        post(client, url, data)

    group.refresh_from_db()
    assert group.member_count == 2
    assert set(GroupMember.objects.filter(group=group).values_list("user__username", flat=True)) == {"alice", "dave"}
    tip = tips()[-1]
    assert (tip["operationType"], tip["operatorID"], tip["userIDList"], tip["memberCount"]) == (
        rules.TIP_MEMBER_KICKED_OUT,
        "boss",
        ["bob", "carol"],
        2,
    )
    by_event = {}
    for event, _, targets in events:
        by_event.setdefault(event, set()).update(targets)
    assert by_event["GROUP_LIST_UPDATED"] == {bob.pk, carol.pk}
    assert {bob.pk, carol.pk} <= by_event["CONVERSATION_LIST_UPDATED"]
    # The tip to the group's sockets; the removal notice to each removed user's system conversation.
    assert {("thread", group.thread_id), bob.pk, carol.pk} <= by_event["MESSAGE_RECEIVED"]
    [entry] = AuditLogEntry.objects.all()
    assert (entry.action, entry.target_id, entry.details) == ("delete_members", "g1", {"userIDList": ["bob", "carol"]})


def test_the_owner_row_cannot_be_removed(client, alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    data[f"members-{inline_index(data, 'alice')}-remove"] = "on"  # disabled: a forged value is ignored
    before = db_snapshot()
    post(client, url, data)
    assert db_snapshot() == before


def test_transferring_ownership_goes_through_change_group_owner(client, alice, bob, published):  # noqa: F811
    make_group(alice, group_type="Private", members=["bob"])
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    data["transfer_to"] = "bob"

    with published() as events:
        post(client, url, data)

    roles = dict(GroupMember.objects.filter(group=group).values_list("user__username", "role"))
    assert roles == {"alice": "Member", "bob": "Owner"}
    assert Group.objects.get(pk=group.pk).owner == bob
    tip = tips()[-1]
    assert (tip["operationType"], tip["operatorID"], tip["newGroupProfile"]) == (6, "boss", {"ownerID": "bob"})
    assert {pk for e, _, t in events if e == "GROUP_LIST_UPDATED" for pk in t} == {alice.pk, bob.pk}
    [entry] = AuditLogEntry.objects.all()
    assert (entry.action, entry.details) == ("change_group_owner", {"ownerID": "bob"})


def test_transfer_to_a_non_member_is_reported_and_changes_nothing(client, alice, carol):
    make_group(alice, group_type="Public")
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    data["transfer_to"] = "carol"
    before = db_snapshot()
    response = client.post(url, data, follow=True)
    assert any("not a member" in m for m in shown(response))
    assert db_snapshot() == before


def test_every_app_admin_group_change_is_audited(client, alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    data.update(mute_all="on", name="Renamed")
    data[f"members-{inline_index(data, 'bob')}-role"] = "Admin"
    data[f"members-{inline_index(data, 'bob')}-mute"] = "600"
    post(client, url, data)
    client.post("/admin/messaging/group/", {"action": "dismiss_groups", "_selected_action": [group.pk]})

    assert [(e.action, e.target_id, e.details) for e in AuditLogEntry.objects.order_by("pk")] == [
        ("update_group_profile", "g1", {"name": "Renamed"}),
        ("update_group_profile", "g1", {"muteAllMembers": True}),
        ("set_member_role", "g1", {"userID": "bob", "role": "Admin"}),
        ("mute_member", "g1", {"userID": "bob", "muteTime": 600}),
        ("dismiss_group", "g1", {"memberCount": 2}),
    ]
    assert {e.actor_name for e in AuditLogEntry.objects.all()} == {"boss"}


def test_a_moderator_manages_groups_as_the_app_admin(mod_client, alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(mod_client, url)
    data.update(mute_all="on", transfer_to="bob")
    data[f"members-{inline_index(data, 'carol')}-remove"] = "on"
    post(mod_client, url, data)

    group.refresh_from_db()
    roles = dict(GroupMember.objects.filter(group=group).values_list("user__username", "role"))
    assert (group.mute_all, group.owner, roles) == (True, bob, {"alice": "Member", "bob": "Owner"})
    assert [(e.actor_name, e.action) for e in AuditLogEntry.objects.order_by("pk")] == [
        ("mod", "update_group_profile"),
        ("mod", "change_group_owner"),
        ("mod", "delete_members"),
    ]


def test_a_members_own_group_changes_are_not_moderation(alice, bob):
    make_group(alice, group_type="Public", members=["bob"])
    actions.set_mute_all(alice, "g1", True)
    actions.delete_members(alice, "g1", ["bob"])
    assert not AuditLogEntry.objects.exists()


# --- messages: search, filters, attachments -------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    return use_filesystem_storage(settings, tmp_path)


def send_image(sender, to, conversation_type="C2C"):
    image = upload(sender, "image", png(300, 150), name="cat.png")
    sent = actions.send_message(
        sender, conversation_type=conversation_type, to=to, msg_type=rules.IMAGE, payload={"uuid": image.uuid.hex}
    )
    return sent.message, image


def listed(browser, **params):
    response = browser.get("/admin/messaging/message/", params)
    assert response.status_code == 200, response.content[:500]
    return sorted(m.msg_id for m in response.context["cl"].result_list)


def test_messages_are_searched_by_text_sender_conversation_and_date(mod_client, alice, bob, carol):
    make_group(alice, group_type="Public", members=["bob"])
    hello = send_text(alice, "bob", "Hello there")
    spam = send_group_text(bob, "g1", "buy cheap pills")
    other = send_text(carol, "bob", "hello from carol")
    tip_ids = set(Message.objects.filter(type=rules.GROUP_TIP).values_list("msg_id", flat=True))

    assert listed(mod_client, q="cheap PILLS") == [spam.msg_id]
    assert listed(mod_client, q="hello") == sorted([hello.msg_id, other.msg_id])
    assert listed(mod_client, sender="carol") == [other.msg_id]
    assert listed(mod_client, q="GROUPg1") == sorted({spam.msg_id} | tip_ids)
    assert listed(mod_client, q="g1") == sorted({spam.msg_id} | tip_ids)
    assert listed(mod_client, conversation="GROUPg1", type="TIMTextElem") == [spam.msg_id]
    assert listed(mod_client, q="C2Calice") == [hello.msg_id]
    assert listed(mod_client, conversation="C2Cbob") == sorted([hello.msg_id, other.msg_id])
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)  # as the date filter links
    today = {"created_at__gte": str(midnight), "created_at__lt": str(midnight + timedelta(days=1))}
    assert len(listed(mod_client, **today)) == Message.objects.count()
    assert listed(mod_client, created_at__lt=str(midnight - timedelta(days=1))) == []
    assert listed(mod_client, thread__kind__exact="C2C") == sorted([hello.msg_id, other.msg_id])


def test_attachments_show_as_thumbnails_a_moderator_may_open(media_root, mod_client, plain_client, alice, bob, carol):
    message, image = send_image(alice, "bob")
    actions.recall_message_as_moderator(User.objects.get(username="mod"), message)
    page = mod_client.get("/admin/messaging/message/")
    thumb = f"/files/{image.uuid.hex}/thumb"
    assert f'src="{thumb}"' in page.content.decode()
    assert 'width="96" height="48"' in page.content.decode(), "the thumbnail's ratio is reserved"
    assert mod_client.get(f"/admin/messaging/message/{message.pk}/change/").content.decode().count(f'<img src="{thumb}"') == 1

    # Moderators see it, recalled as it is; a plain staff user and a stranger do not.
    response = mod_client.get(thumb)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert plain_client.get(thumb).status_code == 403
    assert logged_in(carol).get(thumb).status_code == 403
    assert logged_in(bob).get(thumb).status_code == 403, "bob's copy was recalled"


@pytest.mark.parametrize("n", [3, 40])
def test_the_message_list_is_a_fixed_number_of_queries(media_root, mod_client, alice, bob, n):
    make_group(alice, group_type="Public", members=["bob"])
    for i in range(n):
        send_text(alice, "bob", f"m{i}")
        send_group_text(bob, "g1", f"g{i}")
    send_image(alice, "bob")
    actions.recall_message_as_moderator(User.objects.get(username="mod"), send_text(bob, "alice", "bad"))
    mod_client.get("/admin/messaging/message/")

    with CaptureQueriesContext(connection) as queries:
        page = mod_client.get("/admin/messaging/message/", {"q": ""})

    assert page.status_code == 200
    assert len(queries) == MESSAGE_LIST_QUERIES, "\n".join(q["sql"] for q in queries.captured_queries)
    assert "recalled by mod" in page.content.decode()


# The session, the user, their permissions (2), the page's COUNT, the page with its threads,
# groups and users, its attachments.
MESSAGE_LIST_QUERIES = 7


# --- recall and delete for everyone: the actions ------------------------------------------------


def test_delete_for_everyone_wipes_content_and_files_and_keeps_the_sequence_whole(
    media_root, mod, alice, bob, django_capture_on_commit_callbacks
):
    before_image = send_text(alice, "bob", "before")
    message, image = send_image(alice, "bob")
    after = send_text(bob, "alice", "after")
    files_before = stored_files(media_root)
    keys = {v["key"] for v in image.variants.values()}  # the original, the thumbnail, the large view
    assert keys <= set(files_before)
    thread = message.thread
    change_before = type(thread).objects.get(pk=thread.pk).last_change
    cursor = {"C2Calice": change_before}

    with pytest.raises(Exception):  # noqa: B017 - nothing is written on a refusal
        actions.delete_message_for_everyone(alice, message)
    with django_capture_on_commit_callbacks(execute=True):
        deleted = actions.delete_message_for_everyone(mod, message, reason="gore")

    row = Message.objects.get(pk=message.pk)
    assert (row.payload, row.cloud_custom_data, row.is_revoked, row.revoker, row.deleted_at) == (
        {},
        "",
        True,
        mod,
        deleted.deleted_at,
    )
    assert row.change == change_before + 1 == type(thread).objects.get(pk=thread.pk).last_change
    assert [m.seq for m in Message.objects.filter(thread=thread).order_by("seq")] == [1, 2, 3]
    assert len(keys) == 3 and not keys & set(stored_files(media_root)), "the image and its variants are gone from storage"
    assert Upload.objects.get(pk=image.pk).status == Upload.Status.DELETED
    # History, lastMessage and sync all show the recall by the moderator.
    history = get_message_list(bob, "C2Calice")["messageList"]
    assert [(m["sequence"], m["isRevoked"], m["revoker"], m["payload"]) for m in history] == [
        (1, False, None, {"text": "before"}),
        (2, True, "mod", {}),
        (3, False, None, {"text": "after"}),
    ]
    assert history[1]["messageForShow"] == "mod recalled a message"
    [entry] = sync(bob, cursor)["conversations"]
    assert [(m["sequence"], m["revoker"]) for m in entry["changedList"]] == [(2, "mod")]
    [audit_entry] = AuditLogEntry.objects.all()
    assert (audit_entry.action, audit_entry.target_id, audit_entry.reason) == ("delete_message", str(message.pk), "gore")
    assert audit_entry.details["files"] == [image.uuid.hex] and audit_entry.details["recalled"] is True

    # Again: nothing more happens.
    snapshot = db_snapshot()
    actions.delete_message_for_everyone(mod, message)
    assert db_snapshot() == snapshot
    assert (before_image.seq, after.seq) == (1, 3)


def test_deleting_a_recalled_message_wipes_it_and_keeps_its_revoker(mod, alice, bob):
    message = send_text(alice, "bob", "oops")
    actions.revoke_message(alice, "C2Cbob", message.msg_id)
    change = Message.objects.get(pk=message.pk).change

    actions.delete_message_for_everyone(mod, message)

    row = Message.objects.get(pk=message.pk)
    assert (row.payload, row.revoker, row.change) == ({}, alice, change), "what clients see did not change"
    assert [e.action for e in AuditLogEntry.objects.all()] == ["delete_message"]


def test_a_merged_message_deletion_removes_its_stored_list_not_the_bundled_files(
    media_root, settings, mod, alice, bob, django_capture_on_commit_callbacks
):
    settings.CHAT = {**settings.CHAT, "MERGER_INLINE_BYTES": 10}
    image_message, image = send_image(alice, "bob")
    text = send_text(alice, "bob", "x" * 50)
    refs = [{"ID": m.msg_id, "conversationID": "C2Cbob"} for m in (image_message, text)]
    merged = actions.send_message(
        alice,
        conversation_type="C2C",
        to="bob",
        msg_type=rules.MERGER,
        payload={"messageList": refs, "compatibleText": "merged", "title": "chat"},
    ).message
    stored_list = Upload.objects.get(kind=Upload.Kind.MERGER)

    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_message_for_everyone(mod, merged)

    assert Upload.objects.get(pk=stored_list.pk).status == Upload.Status.DELETED
    assert stored_list.key not in stored_files(media_root)
    assert Upload.objects.get(pk=image.pk).status == Upload.Status.READY
    assert image.variants["original"]["key"] in stored_files(media_root)


def test_tips_cannot_be_recalled_or_deleted(mod, alice):
    make_group(alice, group_type="Public")
    tip = Message.objects.get(type=rules.GROUP_TIP)
    assert_refused(ErrorCode.MESSAGE_NOT_REVOCABLE, actions.recall_message_as_moderator, mod, tip)
    assert_refused(ErrorCode.MESSAGE_NOT_REVOCABLE, actions.delete_message_for_everyone, mod, tip)
    assert_refused(ErrorCode.MESSAGE_NOT_FOUND, actions.delete_message_for_everyone, mod, 10**9)


def test_a_moderator_recalls_any_old_message_and_a_second_recall_changes_nothing(mod, alice, bob, published):  # noqa: F811
    message = send_text(alice, "bob", "old")

    with later(30 * 86400), published() as events:
        assert_refused(ErrorCode.C2C_REVOKE_WINDOW_PASSED, actions.revoke_message, alice, "C2Cbob", message.msg_id)
        first = actions.recall_message_as_moderator(mod, message, "abuse")
        second = actions.recall_message_as_moderator(mod, message)

    assert (first.changed, second.changed) == (True, False)
    [(event, data, targets)] = events
    assert event == "MESSAGE_REVOKED" and sorted(targets) == sorted([alice.pk, bob.pk])
    assert audit() == [("mod", "recall_message", "message", str(message.pk), "abuse")]


# --- over WebSocket tabs: at once, and the events applied to the old state equal a fresh fetch ------


def moderate_in_admin(action, message, reason="spam"):
    mod = User.objects.get(username="mod")
    response = confirm_and_run(logged_in(mod), action, [message.pk], reason)
    assert response.status_code == 200
    return shown(response)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["recall_messages", "delete_messages_for_everyone"])
async def test_an_admin_recall_or_deletion_of_a_c2c_message_reaches_both_parties_tabs(open_tab, alice, bob, action):
    await database_sync_to_async(make_staff)("mod", moderator=True)
    a, b = await open_tab(alice), await open_tab(bob)
    early = await a.send_text("bob", "early spam")
    await a.send_text("bob", "later")
    await b.wait_event("MESSAGE_RECEIVED")
    await b.wait_event("MESSAGE_RECEIVED")
    await a.drain()
    await b.drain()
    old = {a: await state(a, "C2Cbob"), b: await state(b, "C2Calice")}
    message = await database_sync_to_async(Message.objects.get)(msg_id=early["ID"])

    await database_sync_to_async(moderate_in_admin)(action, message)

    for tab, conversation_id in ((a, "C2Cbob"), (b, "C2Calice")):
        events = await verify(tab, old[tab], conversation_id)
        [revoked] = next(e["data"] for e in events if e["event"] == "MESSAGE_REVOKED")
        assert (revoked["ID"], revoked["isRevoked"], revoked["revoker"], revoked["payload"]) == (early["ID"], True, "mod", {})
        assert "early spam" not in str(events)
    fresh = await state(b, "C2Calice")
    assert fresh["total"] == 1 and fresh["history"][0]["messageForShow"] == "mod recalled a message"


@pytest.mark.django_db(transaction=True)
async def test_deleting_a_groups_last_message_updates_every_members_last_message(open_tab, alice, bob, carol):
    def arrange():
        make_staff("mod", moderator=True)
        make_group(alice, group_type="Public", members=["bob", "carol"])

    await database_sync_to_async(arrange)()
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    spam = await b.send_text("g1", "@carol spam", conversation_type="GROUP", atUserList=["carol"])
    await c.wait_event("MESSAGE_RECEIVED")
    await a.wait_event("MESSAGE_RECEIVED")
    for tab in (a, b, c):
        await tab.drain()
    old = {tab: await state(tab, "GROUPg1") for tab in (a, b, c)}
    message = await database_sync_to_async(Message.objects.get)(msg_id=spam["ID"])

    await database_sync_to_async(moderate_in_admin)("delete_messages_for_everyone", message)

    for tab in (a, b, c):
        events = await verify(tab, old[tab], "GROUPg1")
        patches = [p for e in events if e["event"] == "CONVERSATION_LIST_UPDATED" for p in e["data"]]
        assert patches[0]["lastMessage"]["isRevoked"] and patches[0]["lastMessage"]["revoker"] == "mod"
    fresh = await state(c, "GROUPg1")
    assert fresh["total"] == 0 and fresh["conversations"][0]["groupAtInfoList"] == []


def test_the_audit_log_links_each_target(mod_client, alice, bob):
    mod = User.objects.get(username="mod")
    message = send_text(alice, "bob", "spam")
    actions.recall_message_as_moderator(mod, message, reason="spam")
    actions.set_user_active(alice, False, moderator=mod)
    page = mod_client.get("/admin/messaging/auditlogentry/", {"q": "spam"})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="/admin/messaging/message/{message.pk}/change/"' in html
    assert len(page.context["cl"].result_list) == 1
    assert 'href="/admin/messaging/user/?q=alice"' in mod_client.get("/admin/messaging/auditlogentry/").content.decode()


def test_a_moderator_deletes_a_reported_message_for_everyone_from_the_report(media_root, mod_client, alice, bob):
    """The reports queue (actions/reports.py) calls ``delete_message_for_everyone``: the
    content and files go, the report is resolved, both steps are in the audit log."""
    from messaging.models import MessageReport

    message, image = send_image(alice, "bob")
    filed = actions.report_message(bob, "C2Calice", message.msg_id, "abuse").report
    url = f"/admin/messaging/messagereport/{filed.pk}/change/"
    assert "Delete message for everyone" in mod_client.get(url).content.decode()

    response = mod_client.post(url, {"_resolve": "deleted", "note": "gore"})

    assert response.status_code == 302
    row = Message.objects.get(pk=message.pk)
    assert (row.payload, row.revoker.username, row.deleted_at is not None) == ({}, "mod", True)
    assert Upload.objects.get(pk=image.pk).status == Upload.Status.DELETED
    assert MessageReport.objects.get(pk=filed.pk).action_taken == "deleted"
    assert [(e.action, e.reason) for e in AuditLogEntry.objects.order_by("pk")] == [
        ("delete_message", "gore"),
        ("resolve_report", "gore"),
    ]


def test_a_messages_previous_versions_are_shown_read_only_to_moderators(mod_client, alice, bob):
    message = send_text(alice, "bob", "first words")
    actions.modify_message(alice, "C2Cbob", message.msg_id, version=0, payload={"text": "second words"})
    actions.modify_message(alice, "C2Cbob", message.msg_id, version=1, payload={"text": "final words"})

    page = mod_client.get(f"/admin/messaging/message/{message.pk}/change/").content.decode()

    assert "Previous versions (edits by the sender)" in page
    assert "final words" in page, "the current version, in the message's fields"
    assert page.index("first words") < page.index("second words"), "the previous versions, oldest first"
    assert 'name="edits-0-payload"' not in page, "read-only"
    listing = mod_client.get("/admin/messaging/message/").content.decode()
    assert "edited (2×)" in listing and "final words" in listing


def test_the_moderation_pages_and_confirmations_speak_the_moderators_language(mod_client, alice):
    """Issue 11 item 10: the admin's chat screens in Simplified Chinese for a moderator whose
    browser asks for it: the confirmation page and what the action says when done."""
    spam = send_text(alice, "bob", "spam")
    selected = {"action": "recall_messages", "_selected_action": [str(spam.pk)]}
    page = mod_client.post("/admin/messaging/message/", selected, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "撤回：确定吗？" in page.content.decode()
    done = mod_client.post(
        "/admin/messaging/message/", {**selected, "post": "yes", "reason": "spam"}, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert "已撤回 1 条消息。" in shown(done)
    response = mod_client.post(
        "/admin/messaging/user/",
        {"action": "ban_users", "_selected_action": [alice.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "已封禁 1 个用户。" in shown(response)
