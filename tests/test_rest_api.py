"""The server REST API (/api/v1/, docs/API.md): tokens, scopes, every endpoint's effect,
the random-based dedup, errors as {ErrorCode, ErrorInfo} with a 4xx, pinned query counts."""

import hashlib
import io
import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from messaging import actions
from messaging.models import ApiToken, AuditLogEntry, Group, GroupMember, Message, User
from tests.chat_helpers import NUMBERED_WRITE, fast_passwords, make_group, mute, send_text  # noqa: F401
from tests.ws import Tab

ALL_SCOPES = ["users", "messages", "groups", "moderation"]


def new_token(identifier, scopes=ALL_SCOPES, name="backend"):
    return actions.create_api_token(name, scopes=scopes, identifier=identifier)


class Api:
    """A Django test client that sends the bearer token and JSON bodies."""

    def __init__(self, secret, **client_options):
        self.client = Client(**client_options)
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def post(self, path, data=None, *, raw=None):
        body = raw if raw is not None else json.dumps(data or {})
        return self.client.post(f"/api/v1{path}", body, content_type="application/json", headers=self.headers)

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def refused(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["ActionStatus"] == "FAIL" and body["ErrorCode"] == code, body
    assert body["ErrorInfo"]
    return body


def text_body(text):
    return [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]


@pytest.fixture
def system(db):
    return actions.create_user("administrator", nick="System")


@pytest.fixture
def api(system, users):
    return Api(new_token(system).secret)


# --- tokens and auth -------------------------------------------------------------------------


def test_a_token_is_stored_as_the_hash_of_its_secret_only(system, users):
    new = new_token(system)
    row = ApiToken.objects.get(pk=new.token.pk)
    assert row.key_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret.startswith(row.prefix) and len(row.prefix) < len(new.secret) // 3
    out = io.StringIO()
    call_command("dumpdata", "messaging", stdout=out)
    assert new.secret not in out.getvalue() and row.key_hash in out.getvalue()
    assert row.last_used_at is None
    ok(Api(new.secret).get("/users/unread", UserID="alice"))
    assert ApiToken.objects.get(pk=row.pk).last_used_at is not None


@pytest.mark.parametrize("header", [None, "Bearer chat_wrong", "Bearer ", "Basic abc", "Token x"])
def test_no_valid_token_is_401_70003(system, users, header):
    client = Client()
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/users/unread", {"UserID": "alice"}, headers=headers)
    refused(response, 401, 70003)


def test_a_token_without_the_scope_is_403_and_changes_nothing(system, users):
    api = Api(new_token(system, scopes=["users"]).secret)
    refused(api.post("/users/ban", {"UserID": "alice"}), 403, 10007)
    refused(api.post("/c2c/messages", {"To_Account": "bob", "MsgRandom": 1, "MsgBody": text_body("x")}), 403, 10007)
    assert User.objects.get(username="alice").is_active
    assert not Message.objects.exists()
    ok(api.get("/users/unread", UserID="alice"))


def test_a_revoked_token_is_refused_at_once(system, users):
    new = new_token(system)
    api = Api(new.secret)
    ok(api.get("/users/unread", UserID="alice"))
    assert actions.revoke_api_token(new.token) is True
    refused(api.get("/users/unread", UserID="alice"), 401, 70003)
    assert actions.revoke_api_token(new.token) is False


def test_a_token_whose_identifier_is_banned_is_refused(system, users):
    api = Api(new_token(system).secret)
    actions.set_user_active(system, False)
    refused(api.get("/users/unread", UserID="alice"), 401, 70003)


def test_csrf_does_not_apply_to_token_calls_and_a_session_alone_is_not_enough(system, users, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(system)
    response = client.post("/api/v1/users/import", json.dumps({"UserID": "erin"}), content_type="application/json", headers={})
    refused(response, 401, 70003)
    secret = new_token(system).secret
    response = client.post(
        "/api/v1/users/import",
        json.dumps({"UserID": "erin"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert ok(response) == {"UserID": "erin", "Created": True}


def test_the_admin_makes_a_token_shows_its_secret_once_and_revokes_it(system, users):
    boss = actions.create_user("boss", password="pw-boss", is_superuser=True)
    client = Client()
    client.force_login(boss)
    assert client.get("/admin/messaging/apitoken/add/").status_code == 200
    response = client.post(
        "/admin/messaging/apitoken/add/", {"name": "crm", "identifier": system.pk, "scopes": ["messages", "groups"]}
    )
    # The secret on a page of its own that no cache keeps, never in the admin's messages
    # (a cookie) nor on any later page.
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "messages" not in response.cookies
    token = ApiToken.objects.get(name="crm")
    secret = response.context["secret"]
    assert secret.startswith("chat_") and f'<code id="token-secret">{secret}</code>' in response.content.decode()
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (token.scopes, token.identifier_id, token.created_by_id) == (["messages", "groups"], system.pk, boss.pk)
    page = client.get(f"/admin/messaging/apitoken/{token.pk}/change/")
    assert page.status_code == 200 and secret not in page.content.decode()
    api = Api(secret)
    ok(api.get("/c2c/messages", Operator_Account="alice", Peer_Account="bob"))

    # Only a superuser revokes: a staff user who may view the tokens is not offered it.
    viewer = actions.create_user("tokenviewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    watcher = Client()
    watcher.force_login(viewer)
    watcher.post("/admin/messaging/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None

    client.post("/admin/messaging/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    refused(api.get("/c2c/messages", Operator_Account="alice", Peer_Account="bob"), 401, 70003)
    assert list(AuditLogEntry.objects.order_by("pk").values_list("actor_name", "action", "target_id")) == [
        ("boss", "create_api_token", token.prefix),
        ("boss", "revoke_api_token", token.prefix),
    ]


def test_the_schema_is_served_without_a_token():
    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/c2c/messages" in schema["paths"]
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}


def test_the_docs_page_loads_swagger_ui_from_the_sites_own_static_files():
    page = Client().get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()


def test_the_rate_per_token_answers_429_10006(api, settings):
    settings.CHAT = {**settings.CHAT, "API_RATE": "2/m"}
    ok(api.get("/users/unread", UserID="alice"))
    ok(api.get("/users/unread", UserID="alice"))
    refused(api.get("/users/unread", UserID="alice"), 429, 10006)


# --- accounts ------------------------------------------------------------------------------------


def test_importing_an_account_twice_makes_it_once(api):
    assert ok(api.post("/users/import", {"UserID": "erin", "Nick": "Erin"})) == {"UserID": "erin", "Created": True}
    assert ok(api.post("/users/import", {"UserID": "erin", "Nick": "Other"})) == {"UserID": "erin", "Created": False}
    erin = User.objects.get(username="erin")
    assert erin.nick == "Erin" and not erin.has_usable_password()


def test_batch_import_lists_created_existing_and_failed(api):
    result = ok(api.post("/users/import/batch", {"Accounts": ["erin", "alice", "frank", "erin"]}))
    assert result == {"Created": ["erin", "frank"], "Existing": ["alice"], "FailAccounts": []}
    assert set(User.objects.filter(username__in=["erin", "frank"]).values_list("username", flat=True)) == {"erin", "frank"}


def test_unread_counts_of_a_user(api, alice, bob, carol):
    send_text(bob, "alice")
    send_text(bob, "alice")
    send_text(carol, "alice")
    assert ok(api.get("/users/unread", UserID="alice")) == {
        "UserID": "alice",
        "TotalUnreadCount": 3,
        "Conversations": {"C2Cbob": 2, "C2Ccarol": 1},
    }
    refused(api.get("/users/unread", UserID="nobody"), 404, 70107)


# --- messages ------------------------------------------------------------------------------------


def test_sending_as_a_user_stores_the_message_from_them(api, alice, bob):
    sent = ok(
        api.post("/c2c/messages", {"From_Account": "alice", "To_Account": "bob", "MsgRandom": 7, "MsgBody": text_body("hi")})
    )
    message = Message.objects.get(msg_id=sent["MsgKey"])
    assert (message.sender_id, message.payload, message.random, message.seq) == (alice.pk, {"text": "hi"}, 7, sent["MsgSeq"])
    assert sent["Message"]["from"] == "alice" and sent["Message"]["to"] == "bob"
    assert sent["Message"]["payload"] == {"text": "hi"} and sent["MsgTime"] == sent["Message"]["time"]


def test_the_same_random_from_the_same_sender_returns_the_stored_message(api, alice, bob, carol):
    body = {"From_Account": "alice", "To_Account": "bob", "MsgRandom": 42, "MsgBody": text_body("once")}
    first = ok(api.post("/c2c/messages", body))
    again = ok(api.post("/c2c/messages", {**body, "MsgBody": text_body("a retry")}))
    assert again == first
    assert Message.objects.filter(sender=alice).count() == 1
    other_random = ok(api.post("/c2c/messages", {**body, "MsgRandom": 43}))
    other_target = ok(api.post("/c2c/messages", {**body, "To_Account": "carol"}))
    other_sender = ok(api.post("/c2c/messages", {**body, "From_Account": "carol"}))
    keys = {first["MsgKey"], other_random["MsgKey"], other_target["MsgKey"], other_sender["MsgKey"]}
    assert len(keys) == 4 and Message.objects.count() == 4


def test_sending_as_the_system_uses_the_tokens_identifier(api, system, alice):
    sent = ok(api.post("/c2c/messages", {"To_Account": "alice", "MsgRandom": 1, "MsgBody": text_body("welcome")}))
    assert sent["Message"]["from"] == "administrator" and sent["Message"]["nick"] == "System"
    assert Message.objects.get(msg_id=sent["MsgKey"]).sender_id == system.pk


def test_the_api_skips_the_block_and_friendship_checks(api, alice, bob, settings):
    settings.CHAT = {**settings.CHAT, "FRIENDSHIP_CHECK": True}
    actions.add_to_blacklist(bob, ["alice"])
    sent = ok(
        api.post("/c2c/messages", {"From_Account": "alice", "To_Account": "bob", "MsgRandom": 1, "MsgBody": text_body("x")})
    )
    assert Message.objects.filter(msg_id=sent["MsgKey"], sender=alice).exists()


def test_the_api_skips_the_mute_checks_in_a_group(api, alice, bob):
    make_group(alice, "Public", "g1", members=["bob"])
    mute("g1", bob, 600)
    actions.set_mute_all(alice, "g1", True)
    sent = ok(api.post("/groups/messages", {"GroupId": "g1", "From_Account": "bob", "Random": 1, "MsgBody": text_body("x")}))
    assert sent["Message"]["from"] == "bob" and sent["Message"]["conversationType"] == "GROUP"


def test_a_group_message_from_a_non_member_is_refused_but_the_system_may_post(api, alice, bob, carol, system):
    make_group(alice, "Private", "g1", members=["bob"])
    body = {"GroupId": "g1", "Random": 1, "MsgBody": text_body("x")}
    refused(api.post("/groups/messages", {**body, "From_Account": "carol"}), 403, 10007)
    sent = ok(api.post("/groups/messages", body))
    assert sent["Message"]["from"] == "administrator"
    assert not GroupMember.objects.filter(group__group_id="g1", user=system).exists()


def test_message_types_map_from_the_vendors_msg_content(api, alice, bob):
    bodies = [
        (
            {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "d", "Desc": "x", "Ext": "e"}},
            {"data": "d", "description": "x", "extension": "e"},
        ),
        ({"MsgType": "TIMFaceElem", "MsgContent": {"Index": 3, "Data": "f"}}, {"index": 3, "data": "f"}),
        (
            {"MsgType": "TIMLocationElem", "MsgContent": {"Desc": "here", "Latitude": 1.5, "Longitude": -2}},
            {"description": "here", "latitude": 1.5, "longitude": -2},
        ),
    ]
    for random, (element, payload) in enumerate(bodies, start=1):
        sent = ok(api.post("/c2c/messages", {"To_Account": "bob", "MsgRandom": random, "MsgBody": [element]}))
        assert sent["Message"]["type"] == element["MsgType"]
        assert Message.objects.get(msg_id=sent["MsgKey"]).payload == payload


def test_batch_send_makes_one_message_per_user_and_lists_failures(api, alice, bob, carol):
    result = ok(
        api.post(
            "/c2c/messages/batch",
            {
                "From_Account": "alice",
                "To_Account": ["bob", "carol", "nobody", "bob"],
                "MsgRandom": 5,
                "MsgBody": text_body("all"),
            },
        )
    )
    assert [s["Message"]["to"] for s in result["Sent"]] == ["bob", "carol"]
    assert result["ErrorList"] == [{"To_Account": "nobody", "ErrorCode": 20003, "ErrorInfo": "user 'nobody' does not exist"}]
    again = ok(
        api.post(
            "/c2c/messages/batch",
            {"From_Account": "alice", "To_Account": ["bob", "carol"], "MsgRandom": 5, "MsgBody": text_body("all")},
        )
    )
    assert [s["MsgKey"] for s in again["Sent"]] == [s["MsgKey"] for s in result["Sent"]]
    assert Message.objects.filter(sender=alice).count() == 2


def test_recalling_any_c2c_message_at_any_age(api, alice, bob, settings):
    settings.CHAT = {**settings.CHAT, "REVOKE_WINDOW": 0}
    message = send_text(alice, "bob", "oops")
    result = ok(api.post("/c2c/messages/recall", {"From_Account": "alice", "To_Account": "bob", "MsgKey": message.msg_id}))
    assert result["Message"]["isRevoked"] is True and result["Message"]["revoker"] == "administrator"
    assert Message.objects.get(pk=message.pk).is_revoked
    refused(api.post("/c2c/messages/recall", {"From_Account": "alice", "To_Account": "bob", "MsgKey": "nope"}), 404, 10030)


def test_recalling_any_group_message(api, alice, bob):
    make_group(alice, "Public", "g1", members=["bob"])
    message = send_text(alice, "g1", "owner's words", conversation_type="GROUP")
    result = ok(api.post("/groups/messages/recall", {"GroupId": "g1", "MsgKey": message.msg_id}))
    assert result["Message"]["isRevoked"] is True
    assert Message.objects.get(pk=message.pk).revoker.username == "administrator"
    refused(api.post("/groups/messages/recall", {"GroupId": "nope", "MsgKey": message.msg_id}), 404, 10010)
    entry = AuditLogEntry.objects.get()
    assert (entry.actor_name, entry.action, entry.target_id, entry.details["via"]) == (
        "administrator",
        "recall_message",
        message.msg_id,
        "api",
    )


def test_c2c_history_as_one_user_sees_it(api, alice, bob):
    sent = [send_text(alice if i % 2 else bob, "bob" if i % 2 else "alice", f"m{i}") for i in range(5)]
    page = ok(api.get("/c2c/messages", Operator_Account="alice", Peer_Account="bob", Count=3))
    assert [m["payload"]["text"] for m in page["MsgList"]] == ["m2", "m3", "m4"]
    assert page["Complete"] is False and page["NextReqMessageID"] == sent[2].msg_id
    older = ok(api.get("/c2c/messages", Operator_Account="alice", Peer_Account="bob", NextReqMessageID=page["NextReqMessageID"]))
    assert [m["payload"]["text"] for m in older["MsgList"]] == ["m0", "m1"] and older["Complete"] is True
    refused(api.get("/c2c/messages", Operator_Account="alice", Peer_Account="bob", Count=0), 400, 10004)


def test_group_history_newest_first_by_sequence(api, alice, bob):
    make_group(alice, "Private", "g1", members=["bob"])  # seq 1: the creation tip
    for i in range(4):
        send_text(bob, "g1", f"m{i}", conversation_type="GROUP")
    page = ok(api.get("/groups/messages", GroupId="g1", Count=3))
    assert [m["sequence"] for m in page["MsgList"]] == [5, 4, 3]
    assert page["NextReqMsgSeq"] == 2 and page["Complete"] is False
    rest = ok(api.get("/groups/messages", GroupId="g1", ReqMsgSeq=2))
    assert [m["sequence"] for m in rest["MsgList"]] == [2, 1] and rest["Complete"] is True
    assert rest["MsgList"][1]["type"] == "TIMGroupTipElem"
    refused(api.get("/groups/messages", GroupId="nope"), 404, 10010)


# --- groups --------------------------------------------------------------------------------------


def test_creating_a_group_and_managing_its_members(api, alice, bob, carol, dave):
    group = ok(
        api.post(
            "/groups", {"Owner_Account": "alice", "Type": "Public", "Name": "Team", "GroupId": "team", "MemberList": ["bob"]}
        )
    )
    assert group == {
        "GroupId": "team",
        "Type": "Public",
        "Name": "Team",
        "Owner_Account": "alice",
        "MemberNum": 2,
        "MuteAllMember": False,
    }
    added = ok(api.post("/groups/members/add", {"GroupId": "team", "MemberList": ["carol", "dave", "bob", "nobody"]}))
    assert added == {"Added": ["carol", "dave"], "Existing": ["bob"], "FailAccounts": ["nobody"]}
    role = ok(api.post("/groups/members/role", {"GroupId": "team", "Member_Account": "bob", "Role": "Admin"}))
    assert role == {"GroupId": "team", "Member_Account": "bob", "Role": "Admin", "MutedUntil": 0}
    muted = ok(api.post("/groups/members/mute", {"GroupId": "team", "Member_Account": "carol", "MuteTime": 60}))
    assert muted["MutedUntil"] >= int((timezone.now() + timedelta(seconds=59)).timestamp())
    assert ok(api.post("/groups/mute_all", {"GroupId": "team", "MuteAllMember": True}))["MuteAllMember"] is True
    assert ok(api.post("/groups/members/remove", {"GroupId": "team", "MemberList": ["dave", "nobody"]})) == {"Removed": ["dave"]}

    stored = Group.objects.get(group_id="team")
    assert (stored.member_count, stored.mute_all) == (3, True)
    roles = dict(GroupMember.objects.filter(group=stored).values_list("user__username", "role"))
    assert roles == {"alice": "Owner", "bob": "Admin", "carol": "Member"}
    tips = Message.objects.filter(thread=stored.thread, type="TIMGroupTipElem").order_by("seq")
    assert [t.payload["operationType"] for t in tips] == [1, 1, 4, 7, 6, 3]
    assert all(t.payload["operatorID"] == "administrator" for t in tips[1:])
    refused(api.post("/groups/members/remove", {"GroupId": "team", "MemberList": ["alice"]}), 403, 10007)
    refused(api.post("/groups", {"Owner_Account": "alice", "Type": "Public", "Name": "Again", "GroupId": "team"}), 409, 10021)


def test_a_ban_and_an_unban(api, alice, system):
    assert ok(api.post("/users/ban", {"UserID": "alice"})) == {"UserID": "alice", "Banned": True, "Changed": True}
    assert ok(api.post("/users/ban", {"UserID": "alice"}))["Changed"] is False
    assert not User.objects.get(pk=alice.pk).is_active
    assert ok(api.post("/users/unban", {"UserID": "alice"})) == {"UserID": "alice", "Banned": False, "Changed": True}
    assert User.objects.get(pk=alice.pk).is_active
    refused(api.post("/users/ban", {"UserID": "administrator"}), 400, 10004)
    refused(api.post("/users/ban", {"UserID": "nobody"}), 404, 70107)
    # A staff account is the administrators' to ban, in the admin, not the API's.
    actions.create_user("staffer", is_staff=True)
    refused(api.post("/users/ban", {"UserID": "staffer"}), 403, 10007)
    assert User.objects.get(username="staffer").is_active
    # The audit log has each change (not the ban that changed nothing), as the token's account.
    entries = list(AuditLogEntry.objects.order_by("pk").values_list("actor_name", "action", "target_id", "details"))
    assert [entry[:3] for entry in entries] == [("administrator", "ban_user", "alice"), ("administrator", "unban_user", "alice")]
    assert all(details["via"] == "api" and details["api_token"] for *_, details in entries)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", 10011),
        (
            '{"To_Account": "bob", "MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "\\ud800"}}]}',
            10011,
        ),
        ("[" * 10_000 + "]" * 10_000, 10011),
        (
            '{"To_Account": "bob", "MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "a\\u0000b"}}]}',
            10004,
        ),
        ('{"To_Account": "bob", "MsgRandom": 1, "MsgBody": [], "Extra": 1}', 10004),
        ('{"To_Account": "bob", "MsgRandom": -1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]}', 10004),
        (
            '{"To_Account": "bob", "MsgRandom": 99999999999999999999999, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]}',
            10004,
        ),
        ('{"To_Account": "bob", "MsgRandom": 1, "MsgBody": [{"MsgType": "TIMImageElem", "MsgContent": {}}]}', 10004),
        ('{"To_Account": "bob", "MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "  "}}]}', 10004),
        ('{"To_Account": "b o b", "MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]}', 10004),
        ("null", 10004),
    ],
)
def test_bad_input_is_a_400_with_its_code_and_stores_nothing(api, raw, code):
    refused(api.post("/c2c/messages", raw=raw), 400, code)
    assert not Message.objects.exists()


def test_a_body_over_12_kb_is_80002(api, alice, bob):
    refused(api.post("/c2c/messages", {"To_Account": "bob", "MsgRandom": 1, "MsgBody": text_body("x" * 13_000)}), 400, 80002)


def test_a_request_body_over_djangos_limit_is_413(api, alice, bob):
    refused(api.post("/c2c/messages", {"To_Account": "bob", "MsgRandom": 1, "MsgBody": text_body("x" * 3_000_000)}), 413, 80002)


def test_an_unknown_user_or_group_is_404(api, alice):
    refused(api.post("/c2c/messages", {"To_Account": "nobody", "MsgRandom": 1, "MsgBody": text_body("x")}), 404, 20003)
    refused(api.post("/groups/messages", {"GroupId": "nope", "Random": 1, "MsgBody": text_body("x")}), 404, 10010)
    refused(api.post("/groups/members/mute", {"GroupId": "nope", "Member_Account": "alice", "MuteTime": 1}), 404, 10010)


def test_an_unknown_api_path_is_a_json_404(api):
    refused(api.get("/nothing/here"), 404, 10003)


# --- query counts --------------------------------------------------------------------------------


def warm(api):
    """The token's last-used time is written on its first call; later calls only read it."""
    ok(api.get("/users/unread", UserID="alice"))


def test_query_counts_of_a_c2c_send(api, alice, bob, django_assert_num_queries):
    warm(api)
    send_text(alice, "bob")  # the thread exists
    body = {"From_Account": "alice", "To_Account": "bob", "MsgBody": text_body("x")}
    # token, sender, peer (with the pair's thread ID and the resend check); savepoint, the numbered
    # INSERT and the conversations UPDATE (NUMBERED_WRITE statements), release
    with django_assert_num_queries(5 + NUMBERED_WRITE):
        ok(api.post("/c2c/messages", {**body, "MsgRandom": 1}))
    with django_assert_num_queries(5 + NUMBERED_WRITE):
        ok(api.post("/c2c/messages", {**body, "MsgRandom": 2}))
    with django_assert_num_queries(4):  # a retried call: the peer says "resent"; the stored message; nothing written
        ok(api.post("/c2c/messages", {**body, "MsgRandom": 2}))


def test_query_counts_of_a_group_send(api, alice, bob, django_assert_num_queries):
    warm(api)
    make_group(alice, "Public", "g1", members=["bob"])
    body = {"GroupId": "g1", "MsgBody": text_body("x")}
    # token, group, membership of the identifier (none), resend check; savepoint, the numbered
    # INSERT and conversations UPDATE, release
    with django_assert_num_queries(6 + NUMBERED_WRITE):
        ok(api.post("/groups/messages", {**body, "Random": 1}))
    with django_assert_num_queries(9 + NUMBERED_WRITE):  # a named sender: its account, the group and its membership checked first
        ok(api.post("/groups/messages", {**body, "Random": 2, "From_Account": "bob"}))


@pytest.mark.parametrize("size", [3, 30])
def test_query_counts_of_the_reads_do_not_grow_with_the_data(api, alice, bob, size, django_assert_num_queries):
    warm(api)
    make_group(alice, "Private", "g1", members=["bob"])
    for i in range(size):
        send_text(alice, "bob", f"c{i}")
        send_text(bob, "g1", f"g{i}", conversation_type="GROUP")
    with django_assert_num_queries(4):  # token, account, conversation, page
        ok(api.get("/c2c/messages", Operator_Account="alice", Peer_Account="bob"))
    with django_assert_num_queries(4):  # token, group, page, name cards
        ok(api.get("/groups/messages", GroupId="g1"))
    with django_assert_num_queries(4):  # token, account, total, per conversation
        ok(api.get("/users/unread", UserID="bob"))


# --- effects in open tabs ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_an_api_message_reaches_the_receivers_open_tab_and_a_recall_follows(alice, bob):
    system = await database_sync_to_async(actions.create_user)("administrator", nick="System")
    secret = (await database_sync_to_async(new_token)(system)).secret
    api = Api(secret)
    tab = await Tab.open(bob)
    sent = await database_sync_to_async(ok)(
        await database_sync_to_async(api.post)(
            "/c2c/messages", {"From_Account": "alice", "To_Account": "bob", "MsgRandom": 9, "MsgBody": text_body("hello bob")}
        )
    )
    [received] = await tab.wait_event("MESSAGE_RECEIVED")
    assert (received["ID"], received["from"], received["payload"], received["flow"]) == (
        sent["MsgKey"],
        "alice",
        {"text": "hello bob"},
        "in",
    )
    await database_sync_to_async(api.post)(
        "/c2c/messages/recall", {"From_Account": "alice", "To_Account": "bob", "MsgKey": sent["MsgKey"]}
    )
    [revoked] = await tab.wait_event("MESSAGE_REVOKED")
    assert revoked["ID"] == sent["MsgKey"] and revoked["isRevoked"] is True
    await tab.close()


@pytest.mark.django_db(transaction=True)
async def test_a_ban_through_the_api_closes_the_users_sockets(alice):
    system = await database_sync_to_async(actions.create_user)("administrator")
    api = Api((await database_sync_to_async(new_token)(system)).secret)
    tab = await Tab.open(alice)
    response = await database_sync_to_async(api.post)("/users/ban", {"UserID": "alice"})
    assert response.status_code == 200
    assert await tab.wait_event("KICKED_OUT") == {"type": "banned"}
    assert await tab.communicator.receive_output(timeout=3) == {"type": "websocket.close", "code": 4003}


@pytest.mark.django_db(transaction=True)
async def test_group_sends_and_changes_through_the_api_reach_the_members_tabs(alice, bob):
    system = await database_sync_to_async(actions.create_user)("administrator", nick="System")
    api = Api((await database_sync_to_async(new_token)(system)).secret)
    await database_sync_to_async(make_group)(alice, "Public", "g1", ["bob"])
    tab = await Tab.open(bob)
    post = database_sync_to_async(api.post)
    sent = ok(await post("/groups/messages", {"GroupId": "g1", "Random": 3, "MsgBody": text_body("to all")}))
    [received] = await tab.wait_event("MESSAGE_RECEIVED")
    assert (received["ID"], received["from"], received["conversationID"]) == (sent["MsgKey"], "administrator", "GROUPg1")
    ok(await post("/groups/members/mute", {"GroupId": "g1", "Member_Account": "bob", "MuteTime": 60}))
    [tip] = await tab.wait_event("MESSAGE_RECEIVED")
    assert tip["type"] == "TIMGroupTipElem" and tip["payload"]["memberList"][0]["muteTime"] == 60
    await tab.expect_error(
        10017, "sendMessage", message={"to": "g1", "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "x"}}
    )
    await tab.close()
