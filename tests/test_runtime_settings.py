"""Run-time settings (ChatSettings, messaging/runtime.py), banned words and the audit log.

A moderator changes a setting in the admin; the action logs it and every process applies
it (this one at once, others within RUNTIME_SETTINGS_TTL). Banned words refuse a text
with 80001 or mask it, as the setting says.
"""

import pytest
from django.contrib import admin as django_admin
from django.test import Client

from messaging import actions, runtime
from messaging.banned_words import BannedWords
from messaging.errors import ChatError, ErrorCode
from messaging.models import AuditLogEntry, ChatSettings
from tests.chat_helpers import assert_refused, fast_passwords, make_group, send_group_text, send_text  # noqa: F401
from tests.conftest import make_user

# transaction=True: a change applies in this process when it commits (on_commit).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client(boss):
    client = Client()
    client.force_login(boss)
    return client


def settings_form(**values):
    fields = (
        "revoke_window edit_window group_send_rate friendship_check banned_words banned_words_action max_image_bytes "
        "max_audio_bytes max_video_bytes max_file_bytes user_storage_quota retention_days open_signup"
    ).split()
    form = {name: "" for name in fields}
    form["friendship_check"] = form["open_signup"] = "unknown"
    form.update({name: str(value) for name, value in values.items()})
    return form


# --- settings --------------------------------------------------------------------------------


def test_an_empty_setting_is_the_deployments_default(settings):
    settings.CHAT = {"REVOKE_WINDOW": 77}
    runtime.forget()
    assert runtime.get("REVOKE_WINDOW") == 77
    assert runtime.get("BANNED_WORDS_ACTION") == "refuse"
    assert not runtime.banned_words()


def test_the_admin_changes_a_setting_through_the_action_and_logs_it(admin_client, boss):
    url = "/admin/messaging/chatsettings/"
    page = admin_client.get(url, follow=True)
    assert page.status_code == 200 and b"revoke_window" in page.content

    response = admin_client.post(
        "/admin/messaging/chatsettings/1/change/", settings_form(revoke_window=600, reason="longer window")
    )

    assert response.status_code == 302, response.content[:2000]
    assert runtime.get("REVOKE_WINDOW") == 600
    entry = AuditLogEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_type, entry.reason) == (boss, "update_settings", "settings", "longer window")
    assert entry.details == {"revoke_window": [None, 600]}
    # Another process reads the row when its copy expires.
    runtime.forget()
    assert runtime.get("REVOKE_WINDOW") == 600


def test_a_setting_back_to_empty_is_the_default_again(boss):
    actions.update_chat_settings(boss, {"revoke_window": 5})
    assert runtime.get("REVOKE_WINDOW") == 5
    actions.update_chat_settings(boss, {"revoke_window": None})
    assert runtime.get("REVOKE_WINDOW") == 120
    assert AuditLogEntry.objects.count() == 2


def test_bad_settings_are_refused_and_nothing_is_saved(boss):
    with pytest.raises(ChatError) as info:
        actions.update_chat_settings(boss, {"no_such_setting": 1})
    assert info.value.code == ErrorCode.INVALID_PARAMETERS
    with pytest.raises(ChatError):
        actions.update_chat_settings(boss, {"banned_words_action": "explode"})
    with pytest.raises(ChatError):
        actions.update_chat_settings(boss, {"banned_words": "x" * 101})
    assert not ChatSettings.objects.exists() and not AuditLogEntry.objects.exists()


def test_friendship_check_set_at_run_time_refuses_strangers(boss, alice, bob):
    send_text(alice, "bob", "before")
    actions.update_chat_settings(boss, {"friendship_check": True})
    assert_refused(ErrorCode.NOT_FRIENDS, send_text, alice, "bob", "after")


def test_the_group_rate_set_at_run_time_sheds_messages(boss, alice, frozen_rate_clock):
    make_group(alice, group_type="Public")
    actions.update_chat_settings(boss, {"group_send_rate": 2})
    send_group_text(alice, "g1", "1")
    send_group_text(alice, "g1", "2")
    assert_refused(ErrorCode.GROUP_SEND_RATE_EXCEEDED, send_group_text, alice, "g1", "3")


def test_the_upload_limit_set_at_run_time_applies(boss, alice):
    actions.update_chat_settings(boss, {"max_file_bytes": 1000})
    assert_refused(ErrorCode.FILE_TOO_LARGE, actions.uploads.create_upload, alice, kind="file", name="a.txt", size=1001)
    actions.uploads.create_upload(alice, kind="file", name="a.txt", size=1000)


def test_the_revoke_window_set_at_run_time_applies(boss, alice, bob):
    sent = send_text(alice, "bob", "oops")
    actions.update_chat_settings(boss, {"revoke_window": 0})
    assert_refused(ErrorCode.C2C_REVOKE_WINDOW_PASSED, actions.revoke_message, alice, "C2Cbob", sent.msg_id)


def test_the_edit_window_set_at_run_time_applies(boss, alice, bob, admin_client):
    sent = send_text(alice, "bob", "helo")
    assert runtime.get("EDIT_WINDOW") == 24 * 3600
    admin_client.post("/admin/messaging/chatsettings/1/change/", settings_form(edit_window=0, reason="no edits"))
    assert runtime.get("EDIT_WINDOW") == 0
    edit = {"version": 0, "payload": {"text": "hello"}}
    assert_refused(ErrorCode.MODIFY_NOT_SUPPORTED, actions.modify_message, alice, "C2Cbob", sent.msg_id, **edit)
    actions.update_chat_settings(boss, {"edit_window": None})
    assert actions.modify_message(alice, "C2Cbob", sent.msg_id, **edit).message.version == 1


def test_the_audit_log_is_read_only_in_the_admin(boss, admin_client):
    actions.update_chat_settings(boss, {"revoke_window": 5}, reason="r")
    model_admin = django_admin.site._registry[AuditLogEntry]
    request = type("R", (), {"user": boss})()
    entry = AuditLogEntry.objects.get()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    listing = admin_client.get("/admin/messaging/auditlogentry/?action=update_settings")
    assert listing.status_code == 200 and b"update_settings" in listing.content


# --- banned words ------------------------------------------------------------------------------


def test_matching_ignores_case_and_width_and_finds_cjk_inside_text():
    words = BannedWords(["badword", "坏蛋", "ｶﾀｶﾅ", "spam ring"])
    assert words.contains("this is a BADWORD.")
    assert words.contains("ｂａｄｗｏｒｄ")  # full-width Latin
    assert words.contains("你是坏蛋吗")  # Chinese without spaces
    assert words.contains("カタカナです")  # full-width katakana against a half-width word
    assert words.contains("a SPAM RING here")
    assert not words.contains("badwords are fine")  # Latin words match whole words only
    assert not words.contains("notbadword")
    assert words.mask("Badword and 坏蛋!") == "******* and **!"
    assert words.mask("ｂａｄｗｏｒｄ ok") == "******* ok"


def test_a_banned_word_refuses_the_message_with_80001(boss, alice, bob):
    actions.update_chat_settings(boss, {"banned_words": "forbidden\n禁止词"})
    assert_refused(ErrorCode.SENSITIVE_WORDS, send_text, alice, "bob", "this is FORBIDDEN")
    assert_refused(ErrorCode.SENSITIVE_WORDS, send_text, alice, "bob", "这是禁止词啊")
    make_group(alice, group_type="Public", members=["bob"])
    assert_refused(ErrorCode.SENSITIVE_WORDS, send_group_text, alice, "g1", "forbidden")
    assert send_text(alice, "bob", "all fine").payload == {"text": "all fine"}


def test_mask_mode_stores_the_text_with_the_words_hidden(boss, alice, bob):
    actions.update_chat_settings(boss, {"banned_words": "forbidden\n禁止词", "banned_words_action": "mask"})
    sent = actions.send_message(
        alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": "a Forbidden 禁止词 thing"}
    )
    assert sent.message.payload == {"text": "a ********* *** thing"}
    assert sent.data["payload"] == {"text": "a ********* *** thing"}


def test_excluded_from_content_moderation_skips_the_check(boss, alice, bob):
    actions.update_chat_settings(boss, {"banned_words": "forbidden"})
    sent = send_text(alice, "bob", "forbidden", message_control_info={"excludedFromContentModeration": True})
    assert sent.payload == {"text": "forbidden"}


def test_online_only_messages_are_checked_too(boss, alice, bob):
    actions.update_chat_settings(boss, {"banned_words": "forbidden"})
    with pytest.raises(ChatError) as info:
        send_text(alice, "bob", "forbidden", online_user_only=True)
    assert info.value.code == ErrorCode.SENSITIVE_WORDS


@pytest.mark.django_db(transaction=True)
async def test_the_socket_answers_80001(open_tab, alice, bob):
    from channels.db import database_sync_to_async

    boss = await database_sync_to_async(make_user)("boss2")
    await database_sync_to_async(actions.update_chat_settings)(boss, {"banned_words": "forbidden"})
    tab = await open_tab(alice)
    error = await tab.expect_error(
        80001,
        "sendMessage",
        message={"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "so forbidden"}},
    )
    assert "not allowed" in error.message


async def test_a_new_socket_reads_the_settings_row_off_the_event_loop(open_tab, alice):
    """A process whose copy expired loads the row when a socket opens: in the database
    thread (the hello frame carries the revoke window and upload limits), not in the
    event loop, where Django refuses a query."""
    from channels.db import database_sync_to_async

    boss = await database_sync_to_async(make_user)("boss3")
    await database_sync_to_async(actions.update_chat_settings)(boss, {"revoke_window": 42, "max_image_bytes": 1234})
    runtime.forget()
    tab = await open_tab(alice)
    assert tab.hello["rules"]["revoke"]["window"] == 42
    assert tab.hello["rules"]["limits"]["upload"]["image"] == 1234
