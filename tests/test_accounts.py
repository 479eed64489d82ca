"""Hosting: open sign-up (off by default), password reset by e-mail, and a user deleting
their own account (their messages stay, as "Deleted user"; nobody else's history changes)."""

import re

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.core.cache import cache
from django.test import Client, TestCase

from messaging import actions, runtime
from messaging.actions.users import DELETED_USER_NICK
from messaging.models import Group, GroupApplication, GroupMember, Upload, User
from messaging.queries.conversation_list import get_conversation_list
from messaging.queries.friends import get_friend_application_list, get_friend_list
from messaging.queries.groups import get_group_list
from messaging.queries.message_list import get_message_list
from tests.chat_helpers import fast_passwords, make_group, send_group_text, send_text, set_role  # noqa: F401
from tests.media_helpers import png, stored_files, upload, use_filesystem_storage
from tests.ws import Tab

SIGNUP = {
    "username": "newbie",
    "nick": "New Bie",
    "email": "newbie@example.com",
    "password1": "s3cret-pass",
    "password2": "s3cret-pass",
}


@pytest.fixture
def media_root(settings, tmp_path):
    return use_filesystem_storage(settings, tmp_path)


@pytest.fixture
def open_signup(db, django_capture_on_commit_callbacks):
    admin = actions.create_user("root", is_superuser=True)
    with django_capture_on_commit_callbacks(execute=True):  # the action installs the row on commit
        actions.update_chat_settings(admin, {"open_signup": True})
    cache.clear()
    yield
    runtime.use_defaults()


# --- sign-up ---------------------------------------------------------------------------


def test_signup_is_closed_by_default_and_the_login_page_does_not_link_it(db):
    client = Client()
    assert client.get("/signup/").status_code == 404
    assert client.post("/signup/", SIGNUP).status_code == 404
    assert not User.objects.filter(username="newbie").exists()
    page = client.get("/accounts/login/").content.decode()
    assert "/signup/" not in page
    assert "/accounts/password_reset/" in page


def test_open_signup_creates_the_user_and_signs_them_in(open_signup):
    client = Client(enforce_csrf_checks=True)
    assert 'href="/signup/"' in client.get("/accounts/login/").content.decode()
    page = client.get("/signup/")
    assert page.status_code == 200
    token = client.cookies["csrftoken"].value

    answer = client.post("/signup/", {**SIGNUP, "csrfmiddlewaretoken": token})

    assert answer.status_code == 302 and answer["Location"] == "/"
    user = User.objects.get(username="newbie")
    assert (user.nick, user.email, user.is_active, user.is_staff) == ("New Bie", "newbie@example.com", True, False)
    assert client.get("/").status_code == 200  # signed in


def test_signup_without_the_csrf_token_is_refused(open_signup):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/signup/", SIGNUP).status_code == 403
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.parametrize(
    "change, error",
    [
        ({"username": "has space"}, "userID must be printable ASCII without spaces"),
        ({"username": "x" * 33}, "userID must be 1 to 32 bytes"),
        ({"username": "alice"}, "already exists"),
        ({"password2": "other-pass"}, "Password again: The two passwords differ."),
        ({"password1": "short", "password2": "short"}, "too short"),
    ],
)
def test_signup_refuses_bad_ids_taken_ids_and_weak_passwords(open_signup, alice, change, error):
    count = User.objects.count()
    answer = Client().post("/signup/", {**SIGNUP, **change})
    assert answer.status_code == 200
    assert error in answer.content.decode()
    assert User.objects.count() == count


def test_signup_is_limited_per_address(open_signup, settings):
    settings.CHAT = {**settings.CHAT, "SIGNUP_ATTEMPTS_PER_HOUR": 2}
    client = Client()
    for _ in range(2):
        assert client.post("/signup/", {**SIGNUP, "password2": "x"}).status_code == 200
    answer = client.post("/signup/", SIGNUP)
    assert answer.status_code == 429
    assert not User.objects.filter(username="newbie").exists()
    # Another address still may.
    assert Client(REMOTE_ADDR="10.0.0.9").post("/signup/", SIGNUP).status_code == 302


# --- login --------------------------------------------------------------------------------


def login_page_error(data):
    """The text of the login page's error box after posting ``data`` ('' when none)."""
    page = Client().post("/accounts/login/", data).content.decode()
    box = re.search(r'data-testid="login-error">(.*?)<form', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", box.group(1))).strip() if box else ""


def test_the_login_form_says_what_is_missing_and_calls_the_id_user_id(db, alice):
    empty = login_page_error({"username": "", "password": ""})
    assert "Enter your User ID." in empty and "Enter your password." in empty
    assert login_page_error({"username": "alice", "password": ""}) == "Enter your password."
    wrong = login_page_error({"username": "alice", "password": "not-it"})
    assert "User ID" in wrong and "username" not in wrong.lower(), wrong


# --- password reset ----------------------------------------------------------------------


def log_in(username, password):
    """The login form's status: 302 signed in, 200 the form again (refused)."""
    return Client().post("/accounts/login/", {"username": username, "password": password}).status_code


def reset_link(message):
    return re.search(r"https?://[^/]+(/accounts/reset/\S+/)", message.body).group(1)


@pytest.mark.django_db(transaction=True)
async def test_password_reset_mails_a_link_that_sets_a_new_password_and_kicks_open_sockets(bob, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "chat@example.com"
    erin = await database_sync_to_async(actions.create_user)("erin", password="pw-erin", email="erin@example.com")
    open_tab, other = await Tab.open(erin), await Tab.open(bob)

    def reset():
        client = Client()
        assert client.post("/accounts/password_reset/", {"email": "erin@example.com"})["Location"] == (
            "/accounts/password_reset/done/"
        )
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert (message.to, message.from_email, message.subject) == (
            ["erin@example.com"],
            "chat@example.com",
            "Reset your Chat password",
        )
        form = client.get(reset_link(message), follow=True)
        assert b"Choose a new password" in form.content and b"@erin" in form.content
        done = client.post(form.redirect_chain[-1][0], {"new_password1": "brand-n3w-pw", "new_password2": "brand-n3w-pw"})
        assert done["Location"] == "/accounts/reset/done/"
        # The link works once.
        assert b"expired or was already used" in Client().get(reset_link(message), follow=True).content

    await database_sync_to_async(reset)()
    kicked = await open_tab.wait_event("KICKED_OUT")
    assert kicked == {"type": "passwordChanged"}
    assert (await open_tab.communicator.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4001}
    assert (await other.request("getMyProfile"))["userID"] == "bob"
    await other.close()

    assert await database_sync_to_async(log_in)("erin", "brand-n3w-pw") == 302
    assert await database_sync_to_async(log_in)("erin", "pw-erin") == 200


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    answer = Client().post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert answer["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


# --- deleting one's own account --------------------------------------------------------------


def test_a_deleted_users_messages_stay_in_the_peers_history_as_deleted_user(alice, bob, carol, media_root):
    make_group(alice, "Public", "club", members=["bob", "carol"])
    make_group(bob, "Public", "bobs", members=["alice"])
    sent_file = upload(alice, "file", b"a contract", name="contract.txt")
    send_text(alice, "bob", "hi bob")
    actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMFileElem", payload={"uuid": sent_file.uuid.hex})
    send_text(bob, "alice", "hi alice")
    send_group_text(alice, "club", "hello club")
    unsent = upload(alice, "image", png(), name="never-sent.png")
    bob_history = [m["payload"] for m in get_message_list(bob, "C2Calice")["messageList"]]
    carol_club = get_message_list(carol, "GROUPclub")["messageList"]

    with TestCase.captureOnCommitCallbacks(execute=True):  # the bytes go after the commit
        actions.delete_account(alice)

    alice = User.objects.get(pk=alice.pk)
    assert (alice.is_active, alice.nick, alice.avatar, alice.email, alice.has_usable_password()) == (
        False,
        DELETED_USER_NICK,
        "",
        "",
        False,
    )
    assert alice.deleted_at is not None and alice.username == "alice"
    # bob's history: every message is still there, the sender now shown as "Deleted user".
    history = get_message_list(bob, "C2Calice")["messageList"]
    assert [m["payload"] for m in history] == bob_history
    assert {m["nick"] for m in history if m["from"] == "alice"} == {DELETED_USER_NICK}
    entry = next(c for c in get_conversation_list(bob) if c["conversationID"] == "C2Calice")
    assert entry["userProfile"]["nick"] == DELETED_USER_NICK
    # The group: ownership went to the oldest member, alice left, the counts add up.
    club = Group.objects.get(group_id="club")
    assert club.owner.username == "bob"
    assert club.member_count == GroupMember.objects.filter(group=club).count() == 2
    assert not GroupMember.objects.filter(user=alice).exists()
    carol_after = get_message_list(carol, "GROUPclub")["messageList"]
    assert [m["ID"] for m in carol_after[: len(carol_club)]] == [m["ID"] for m in carol_club]
    assert carol_after[-1]["payload"]["operationType"] == 2 and carol_after[-1]["payload"]["memberCount"] == 2
    assert {g["groupID"]: g["memberCount"] for g in get_group_list(carol)} == {"club": 2}
    assert Group.objects.get(group_id="bobs").member_count == 1
    # The file of a sent message stays (it is bob's history too); the unsent image is gone.
    assert Upload.objects.filter(pk=sent_file.pk).exists()
    assert not Upload.objects.filter(pk=unsent.pk).exists()
    assert not any(unsent.uuid.hex in path for path in stored_files(media_root))
    assert any(sent_file.key in path for path in stored_files(media_root))
    # No login, no unban.
    assert log_in("alice", "pw-alice") == 200  # the form again: refused
    assert actions.set_user_active(alice, True) is False


def test_an_owner_alone_in_a_group_dismisses_it_and_an_admin_inherits_before_older_members(alice, bob, carol, dave):
    make_group(alice, "Public", "solo")
    make_group(alice, "Public", "team", members=["bob", "carol"])
    set_role("team", carol, "Admin")

    actions.delete_account(alice)

    assert Group.objects.get(group_id="solo").dismissed_at is not None
    team = Group.objects.get(group_id="team")
    assert team.owner.username == "carol"
    assert dict(GroupMember.objects.filter(group=team).values_list("user__username", "role")) == {
        "bob": "Member",
        "carol": "Owner",
    }


def test_delete_account_view_needs_the_password_and_signs_out(alice, bob):
    send_text(alice, "bob", "hello")
    client = Client()
    client.force_login(alice)
    wrong = client.post("/account/delete/", {"password": "nope"})
    assert wrong.status_code == 403 and wrong.json()["message"] == "That password isn't right."
    assert User.objects.get(pk=alice.pk).is_active

    answer = client.post("/account/delete/", {"password": "pw-alice"})

    assert answer.json() == {"ok": True, "next": "/accounts/login/"}
    assert User.objects.get(pk=alice.pk).deleted_at is not None
    assert client.get("/")["Location"].startswith("/accounts/login/")
    assert Client().get("/account/delete/").status_code == 405


def test_delete_account_view_is_csrf_protected(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/account/delete/", {"password": "pw-alice"}).status_code == 403
    assert User.objects.get(pk=alice.pk).deleted_at is None


@pytest.mark.django_db(transaction=True)
async def test_deleting_the_account_closes_its_sockets_and_tells_the_peers(alice, bob):
    await database_sync_to_async(send_text)(alice, "bob", "hello")
    mine, peer = await Tab.open(alice), await Tab.open(bob)

    await database_sync_to_async(actions.delete_account)(alice)

    assert await mine.wait_event("KICKED_OUT") == {"type": "accountDeleted"}
    assert (await mine.communicator.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4003}
    profiles = await peer.wait_event("PROFILE_UPDATED")
    assert profiles[0]["userID"] == "alice" and profiles[0]["nick"] == DELETED_USER_NICK
    await peer.close()


def test_a_deleted_user_leaves_friend_lists_and_their_pending_requests_go(alice, bob, carol, dave):
    actions.set_allow_type(bob, "AllowType_Type_AllowAny")
    actions.add_friend(alice, "bob")
    actions.add_friend(carol, "alice")  # alice confirms requests: pending
    actions.create_group(dave, group_type="Public", name="Door", group_id="door", join_option="NeedPermission")
    actions.join_group(alice, "door")
    assert [f["userID"] for f in get_friend_list(bob.pk)] == ["alice"]
    assert GroupApplication.objects.filter(applicant=alice).exists()

    actions.delete_account(alice)

    assert get_friend_list(bob.pk) == [] and get_friend_list(alice.pk) == []
    assert get_friend_application_list(carol.pk)["friendApplicationList"] == []
    assert not GroupApplication.objects.filter(applicant=alice).exists()
