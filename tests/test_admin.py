"""The Django admin is a transport: each change goes through an action (events and
tips go out, counts stay right) and chat rows are never hard-deleted from it.

Driven through /admin/ with Django's test client as a superuser, as tests/test_ban.py
does for bans.
"""

from contextlib import contextmanager

import pytest
from django import forms
from django.contrib import admin as django_admin
from django.core.management import call_command
from django.test import Client, RequestFactory

from messaging import actions, rules, serialize
from messaging.events import collect_events
from messaging.models import Conversation, Group, GroupMember, Message, Thread, Upload, User
from tests.chat_helpers import (
    conv,
    db_snapshot,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
    set_role,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

CHAT_MODELS = (Message, Conversation, Group, GroupMember, Thread, Upload, User)


@pytest.fixture
def client(boss):
    client = Client()
    client.force_login(boss)
    return client


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    """Collects (event, data, targets) published by what runs in the block."""

    @contextmanager
    def capture():
        events = []
        with collect_events() as collected:
            with django_capture_on_commit_callbacks(execute=True):
                yield events
        events.extend((m["event"], m["data"], targets) for m, targets in collected)

    return capture


def spy(monkeypatch, name):
    """Record the calls of ``actions.<name>`` (the admin looks it up at call time)."""
    calls = []
    real = getattr(actions, name)

    def recorded(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(actions, name, recorded)
    return calls


def _form_data(form, data):
    """What a browser would post back for ``form`` unchanged."""
    for name, field in form.fields.items():
        if field.disabled:
            continue
        key, value = form.add_prefix(name), form[name].value()
        if isinstance(field.widget, forms.CheckboxInput):
            if value:
                data[key] = "on"
        elif isinstance(field, forms.SplitDateTimeField):
            if value:
                data[key + "_0"], data[key + "_1"] = value.date().isoformat(), value.time().strftime("%H:%M:%S")
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        elif value is not None:
            data[key] = value


def change_form(client, url):
    """The change page's form data as loaded (main form and inlines)."""
    page = client.get(url)
    assert page.status_code == 200
    data = {}
    _form_data(page.context["adminform"].form, data)
    for inline in page.context["inline_admin_formsets"]:
        _form_data(inline.formset.management_form, data)
        for form in inline.formset.forms:
            _form_data(form, data)
    return data


def post(client, url, data):
    response = client.post(url, data)
    assert response.status_code == 302, _errors(response)
    return response


def _errors(response):
    if response.context is None:
        return response.content[:2000]
    form = response.context.get("adminform")
    return form.form.errors if form else response.content[:2000]


def inline_index(data, username):
    """The index of ``username``'s row in the member inline of a posted group form."""
    ids = dict(GroupMember.objects.filter(user__username=username).values_list("group__group_id", "pk"))
    for key, value in data.items():
        if key.startswith("members-") and key.endswith("-id") and str(value) in {str(pk) for pk in ids.values()}:
            return key.split("-")[1]
    raise AssertionError(f"{username} is not in the inline")


def tips(group_id="g1"):
    rows = Message.objects.filter(thread__key=f"group:{group_id}", type=rules.GROUP_TIP).order_by("seq")
    return [m.payload for m in rows]


# --- users ------------------------------------------------------------------------------------


def test_add_user_goes_through_create_user(client, monkeypatch):
    calls = spy(monkeypatch, "create_user")

    post(
        client,
        "/admin/messaging/user/add/",
        {
            "username": "erin",
            "nick": "Erin",
            "avatar": "",
            "usable_password": "true",
            "password1": "x9-long-pw",
            "password2": "x9-long-pw",
        },
    )

    assert [args for args, _ in calls] == [("erin",)]
    erin = User.objects.get(username="erin")
    assert (erin.nick, erin.is_active) == ("Erin", True)
    assert erin.check_password("x9-long-pw")


def test_add_user_refuses_a_user_id_the_sdk_refuses(client):
    response = client.post(
        "/admin/messaging/user/add/",
        {"username": "émile", "usable_password": "true", "password1": "x9-long-pw", "password2": "x9-long-pw"},
    )
    assert response.status_code == 200
    assert "username" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="émile").exists()


def test_profile_change_goes_through_update_user_profile(client, alice, bob, monkeypatch, published):
    send_text(bob, "alice", "hi")
    calls = spy(monkeypatch, "update_user_profile")
    url = f"/admin/messaging/user/{alice.pk}/change/"
    data = change_form(client, url)
    data.update(nick="Ally", email="alice@example.com", username="renamed")

    with published() as events:
        post(client, url, data)

    assert [kwargs for _, kwargs in calls] == [{"nick": "Ally", "moderator": User.objects.get(username="boss")}]
    row = User.objects.get(pk=alice.pk)
    # The username is the userID (read-only here); email is Django's auth and saved as usual.
    assert (row.username, row.nick, row.email) == ("alice", "Ally", "alice@example.com")
    profile = serialize.profile(row)
    assert profile["nick"] == "Ally"
    assert ("PROFILE_UPDATED", [profile], sorted([alice.pk, bob.pk])) in [(e, d, sorted(t)) for e, d, t in events]


def test_saving_an_unchanged_user_writes_no_chat_state(client, alice, published):
    url = f"/admin/messaging/user/{alice.pk}/change/"
    data = change_form(client, url)
    before = db_snapshot()
    with published() as events:
        post(client, url, data)
    assert db_snapshot() == before
    assert events == []


# --- groups -----------------------------------------------------------------------------------


def test_group_profile_and_mute_all_go_through_the_actions(client, alice, bob, carol, published):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    data.update(name="Launch", notification="Ship it", mute_all="on")

    with published() as events:
        post(client, url, data)

    group.refresh_from_db()
    assert (group.name, group.notification, group.mute_all, group.member_count) == ("Launch", "Ship it", True, 3)
    assert [(t["operationType"], t["operatorID"], t["newGroupProfile"]) for t in tips()[-2:]] == [
        (6, "boss", {"name": "Launch", "notification": "Ship it"}),
        (6, "boss", {"muteAllMembers": True}),
    ]
    refreshed = {pk for e, _, targets in events if e == "GROUP_LIST_UPDATED" for pk in targets}
    assert refreshed == {alice.pk, bob.pk, carol.pk}
    assert not GroupMember.objects.filter(user__username="boss").exists()


def test_group_name_over_30_bytes_is_a_form_error_and_changes_nothing(client, alice):
    make_group(alice, group_type="Public")
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    data["name"] = "群" * 11  # 11 characters, 33 bytes
    before = db_snapshot()

    response = client.post(url, data)

    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    assert db_snapshot() == before


def test_a_group_avatar_on_another_host_is_a_form_error_and_changes_nothing(client, alice):
    make_group(alice, group_type="Public")
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    data["avatar"] = "https://tracker.example/p.gif"
    before = db_snapshot()

    response = client.post(url, data)

    assert response.status_code == 200
    assert "avatar" in response.context["adminform"].form.errors
    assert db_snapshot() == before


def test_a_user_avatar_on_another_host_is_a_form_error_and_changes_nothing(client, alice):
    url = f"/admin/messaging/user/{alice.pk}/change/"
    data = change_form(client, url)
    data["avatar"] = "//tracker.example/p.gif"
    before = db_snapshot()

    response = client.post(url, data)

    assert response.status_code == 200
    assert "avatar" in response.context["adminform"].form.errors
    assert db_snapshot() == before


def test_member_inline_sets_roles_and_mutes_through_the_actions(client, alice, bob, carol, monkeypatch):
    make_group(alice, group_type="Public", members=["bob", "carol"])
    role_calls, mute_calls = spy(monkeypatch, "set_member_role"), spy(monkeypatch, "mute_member")
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    data[f"members-{inline_index(data, 'bob')}-role"] = "Admin"
    data[f"members-{inline_index(data, 'carol')}-mute"] = "600"

    post(client, url, data)

    assert len(role_calls) == len(mute_calls) == 1
    roles = dict(GroupMember.objects.filter(group=group).values_list("user__username", "role"))
    assert roles == {"alice": "Owner", "bob": "Admin", "carol": "Member"}
    assert GroupMember.objects.get(group=group, user=carol).muted_until is not None
    assert [(t["operationType"], t["userIDList"]) for t in tips()[-2:]] == [(4, ["bob"]), (7, ["carol"])]
    assert tips()[-1]["memberList"][0]["muteTime"] == 600
    assert Group.objects.get(pk=group.pk).member_count == 3


def test_a_refused_member_change_is_reported_and_the_rest_stands(client, alice):
    names = [f"m{i:02d}" for i in range(11)]
    for name in names:
        make_user(name)
    make_group(alice, group_type="Public", members=names)
    for name in names[:10]:
        set_role("g1", User.objects.get(username=name), "Admin")
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    data[f"members-{inline_index(data, 'm10')}-role"] = "Admin"
    data["introduction"] = "Still saved"

    response = client.post(url, data, follow=True)

    assert "at most 10 admins" in response.content.decode()
    assert GroupMember.objects.get(group=group, user__username="m10").role == "Member"
    assert Group.objects.get(pk=group.pk).introduction == "Still saved"


def test_work_group_members_have_no_role_or_mute_controls(client, alice, bob):
    make_group(alice, group_type="Private", members=["bob"])
    group = Group.objects.get(group_id="g1")
    url = f"/admin/messaging/group/{group.pk}/change/"
    data = change_form(client, url)
    index = inline_index(data, "bob")
    data[f"members-{index}-role"] = "Admin"  # the field is disabled: a forged value is ignored
    data[f"members-{index}-mute"] = "600"
    before = db_snapshot()

    post(client, url, data)

    assert db_snapshot() == before


# --- no hard delete, no adds of chat rows -------------------------------------------------------


def test_no_chat_model_can_be_deleted_from_the_admin(boss):
    request = RequestFactory().get("/admin/")
    request.user = boss
    registered = {model: model_admin for model, model_admin in django_admin.site._registry.items() if model in CHAT_MODELS}
    assert set(registered) >= {Message, Conversation, Group, User, Upload}
    for model, model_admin in registered.items():
        assert model_admin.has_delete_permission(request) is False, model.__name__
        assert "delete_selected" not in model_admin.get_actions(request), model.__name__
        for inline in model_admin.get_inline_instances(request):
            assert inline.has_delete_permission(request) is False
            assert inline.has_add_permission(request, None) is False


@pytest.mark.parametrize("model", ["message", "conversation", "group", "user"])
def test_delete_pages_are_forbidden(client, alice, bob, model):
    make_group(alice, members=["bob"])
    send_text(alice, "bob", "hi")
    pk = {
        "message": Message.objects.first().pk,
        "conversation": conv(bob, "C2Calice").pk,
        "group": Group.objects.get(group_id="g1").pk,
        "user": bob.pk,
    }[model]
    before = db_snapshot()

    assert client.get(f"/admin/messaging/{model}/{pk}/delete/").status_code == 403
    assert client.post(f"/admin/messaging/{model}/{pk}/delete/", {"post": "yes"}).status_code == 403
    assert db_snapshot() == before


@pytest.mark.parametrize("model", ["message", "conversation", "group", "upload"])
def test_chat_rows_cannot_be_added_from_the_admin(client, model):
    assert client.get(f"/admin/messaging/{model}/add/").status_code == 403


# --- seed_demo ---------------------------------------------------------------------------------


def test_seed_demo_makes_users_and_the_group_through_the_actions_and_is_idempotent(db, monkeypatch):
    monkeypatch.setenv("CHAT_DEMO_PASSWORD", "demo-pw")
    calls = spy(monkeypatch, "create_user")

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert sorted(args[0] for args, _ in calls) == ["admin", "alice", "bob", "carol", "dave"]
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="bob").check_password("demo-pw")
    assert Group.objects.get(group_id="demo").member_count == 4


@pytest.mark.parametrize("model", ["message", "conversation", "group", "user", "upload"])
def test_moderators_still_see_every_list_and_row(client, alice, bob, model):
    make_group(alice, members=["bob"])
    send_text(alice, "bob", "hi")
    listing = client.get(f"/admin/messaging/{model}/")
    assert listing.status_code == 200
    first = listing.context["cl"].result_list[:1]
    for row in first:
        assert client.get(f"/admin/messaging/{model}/{row.pk}/change/").status_code == 200


def test_the_admin_recalls_group_and_c2c_messages_through_the_action(client, alice, bob, published):
    """After a confirmation page that asks for the reason (kept in the audit log)."""
    make_group(alice, group_type="Public", members=["bob"])
    group_message = send_group_text(bob, "g1", "spam")
    c2c = send_text(alice, "bob", "private")
    selected = {"action": "recall_messages", "_selected_action": [group_message.pk, c2c.pk]}

    confirm = client.post("/admin/messaging/message/", selected)
    assert confirm.status_code == 200 and b"are you sure" in confirm.content
    assert not Message.objects.filter(is_revoked=True).exists()
    with published() as events:
        response = client.post("/admin/messaging/message/", {**selected, "post": "yes", "reason": "spam"}, follow=True)

    assert response.status_code == 200
    assert "Recalled 2 message(s)." in [str(m) for m in response.context["messages"]]
    group_message.refresh_from_db()
    c2c.refresh_from_db()
    assert (group_message.is_revoked, group_message.revoker.username) == (True, "boss")
    assert (c2c.is_revoked, c2c.revoker.username) == (True, "boss")
    assert [event for event, _, _ in events] == ["MESSAGE_REVOKED", "MESSAGE_REVOKED"]


def test_the_admin_dismisses_a_work_group_through_the_action(client, alice, bob, published):
    make_group(alice, group_type="Private", members=["bob"])
    send_group_text(bob, "g1", "before")

    with published() as events:
        response = client.post(
            "/admin/messaging/group/", {"action": "dismiss_groups", "_selected_action": [Group.objects.get().pk]}, follow=True
        )

    assert response.status_code == 200
    group = Group.objects.get(group_id="g1")
    assert group.dismissed_at is not None and group.member_count == 0
    # The notice in the group's history, and one in each member's system conversation.
    assert sorted(event for event, _, _ in events) == ["GROUP_LIST_UPDATED"] + ["MESSAGE_RECEIVED"] * 3
    assert client.get(f"/admin/messaging/group/{group.pk}/change/").status_code == 200

    client.post("/admin/messaging/group/", {"action": "dismiss_groups", "_selected_action": [group.pk]}, follow=True)
    assert Group.objects.get(group_id="g1").dismissed_at == group.dismissed_at


def test_join_applications_are_listed_read_only(client, alice, bob):
    make_group(alice, group_type="Public")
    actions.update_group_profile(alice, "g1", join_option="NeedPermission")
    actions.join_group(bob, "g1", apply_message="let me in")

    listing = client.get("/admin/messaging/groupapplication/")
    assert listing.status_code == 200
    assert b"Pending" in listing.content
    assert client.get("/admin/messaging/groupapplication/add/").status_code == 403


def test_friend_lists_requests_and_blocks_are_shown_read_only(client, alice, bob, carol, dave):
    actions.add_friend(alice, "bob")  # bob confirms requests: a pending application
    actions.add_friend(alice, "dave")
    actions.accept_friend_application(dave, "alice")
    actions.add_to_blacklist(carol, ["alice"])
    for model, needle in (("friend", "dave"), ("friendapplication", "bob"), ("block", "carol")):
        page = client.get(f"/admin/messaging/{model}/")
        assert page.status_code == 200 and needle in page.content.decode(), model
        assert client.get(f"/admin/messaging/{model}/add/").status_code == 403
