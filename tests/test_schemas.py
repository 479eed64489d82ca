"""Typed op schemas (messaging/schemas.py): what the consumer refuses before any op runs,
with which code, and docs/PROTOCOL.md's argument tables generated from the same structs."""

import contextlib
import json

import msgspec
import pytest
from channels.db import database_sync_to_async

from messaging import consumers, protocol_doc, schemas
from messaging.errors import ChatError
from messaging.models import Message
from tests.chat_helpers import db_snapshot, fast_passwords, make_group  # noqa: F401
from tests.ws import Tab

TEXT = {"type": "TIMTextElem", "payload": {"text": "hi"}}


def message(**fields):
    return {"conversationType": "C2C", "to": "bob", **TEXT, **fields}


def refusal(op, args):
    """(code, message) of decoding ``args`` for ``op``."""
    with pytest.raises(ChatError) as info:
        schemas.decode_args(op, msgspec.Raw(json.dumps(args).encode()))
    return info.value.code, info.value.message


# --- decoding, without a socket ----------------------------------------------------------


def test_every_op_has_a_schema_and_a_handler():
    assert consumers.HANDLERS.keys() == schemas.OPS.keys()


@pytest.mark.parametrize(
    "fields, code, says",
    [
        ({"priority": "Urgent"}, 10004, "message.priority"),
        ({"priority": None}, 10004, "message.priority"),  # no silent "Normal"
        ({"priority": ""}, 10004, "message.priority"),
        ({"to": 5}, 10004, "message.to"),
        ({"random": -1}, 10004, "message.random"),
        ({"random": 2**53}, 10004, "message.random"),
        ({"random": True}, 10004, "message.random"),
        ({"clientTime": 1.5}, 10004, "message.clientTime"),
        ({"ID": ""}, 10004, "message.ID"),
        ({"ID": "x" * 65}, 10004, "message.ID"),
        ({"cloudCustomData": {"a": 1}}, 10004, "message.cloudCustomData"),
        ({"atUserList": "bob"}, 10004, "message.atUserList"),
        ({"conversationType": 1}, 2106, "message.conversationType"),
        ({"forward": {"ID": "m1"}}, 2503, "conversationID"),
        ({"colour": "red"}, 10004, "unknown field `colour`"),
    ],
)
def test_a_bad_message_field_is_refused_with_its_code_and_path(fields, code, says):
    got_code, text = refusal("sendMessage", {"message": message(**fields)})
    assert (got_code, says in text) == (code, True), text


@pytest.mark.parametrize(
    "op, args, code",
    [
        ("getMessageList", {}, 2503),
        ("getMessageList", {"conversationID": 7}, 2503),
        ("getMessageList", {"conversationID": "C2Cbob", "count": 0}, 10004),
        ("getMessageList", {"conversationID": "C2Cbob", "count": "5"}, 10004),
        ("setMessageRead", {"conversationID": ""}, 2503),
        ("pinConversation", {"conversationID": "C2Cbob", "isPinned": 1}, 10004),
        ("joinGroup", {"groupID": ""}, 2602),
        ("joinGroup", {"groupID": None}, 2602),
        ("createGroup", {"type": "Public"}, 10004),
        ("createGroup", {"name": "x", "type": 3}, 2600),
        ("createGroup", {"name": "x", "joinOption": "Anyone"}, 10004),
        ("createGroup", {"name": "x", "memberList": [{"userID": "bob", "role": "Admin"}]}, 10004),
        ("addGroupMember", {"groupID": "g1", "userIDList": []}, 10004),
        ("getGroupMemberList", {"groupID": "g1", "offset": 2**63}, 10004),
        ("getUserProfile", {"userIDList": ["u"] * 101}, 10004),
        ("getMyProfile", {"extra": 1}, 10004),
        ("downloadMergerMessage", {"message": {"ID": "x"}}, 2503),
    ],
)
def test_each_ops_arguments_are_checked_before_it_runs(op, args, code):
    assert refusal(op, args)[0] == code


@pytest.mark.parametrize(
    "message_fields, options",
    [
        ({}, {"onlineUserOnly": True}),
        ({}, {"messageControlInfo": {"excludedFromUnreadCount": True}}),
        ({"receiverList": ["bob"]}, {}),
        ({"needReadReceipt": True}, {}),
    ],
)
def test_every_send_option_of_the_sdk_decodes(message_fields, options):
    raw = json.dumps({"message": message(**message_fields), "options": options}).encode()
    args = msgspec.to_builtins(schemas.decode_args("sendMessage", msgspec.Raw(raw)))
    assert {k: args["message"][k] for k in message_fields} == message_fields
    for name, value in options.items():
        got = args["options"][name]
        assert {k: got[k] for k in value} == value if isinstance(value, dict) else got == value


def test_a_receiver_list_over_50_is_refused_by_the_schema():
    assert refusal("sendMessage", {"message": message(receiverList=[f"u{i}" for i in range(51)])})[0] == 10004


def test_defaults_are_the_declared_ones():
    args = schemas.decode_args("sendMessage", msgspec.Raw(json.dumps({"message": message()}).encode()))
    assert (args.message.priority, args.message.random, args.message.ID, args.options.onlineUserOnly) == (
        "Normal",
        0,
        None,
        False,
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"id":"\\ud800","op":"getMyProfile"}',  # a lone surrogate: not valid JSON text
        '{"id":1,"op":"getMyProfile","args":' + "[" * 2000 + "]" * 2000 + "}",  # deeper than the decoder goes
        "[1,2]",
        "nope",
    ],
)
def test_undecodable_frames_are_10011(text):
    with pytest.raises(ChatError) as info:
        schemas.decode_frame(text)
    assert info.value.code == 10011


# --- the document ---------------------------------------------------------------------------


def test_protocol_argument_tables_are_the_schemas():
    text = protocol_doc.DOCUMENT.read_text()
    assert protocol_doc.render_document(text) == text, "run: python manage.py protocol_tables --write"


def test_a_changed_schema_changes_the_documented_table(monkeypatch):
    text = protocol_doc.DOCUMENT.read_text()

    class Wider(schemas.GetMessageList):
        direction: schemas.described(int, "newer or older") = 0

    monkeypatch.setitem(schemas.OPS, "getMessageList", Wider)
    rendered = protocol_doc.render_document(text)
    assert rendered != text and "| `direction` | int | `0` | newer or older |" in rendered


def test_an_op_without_a_documented_table_is_an_error():
    text = protocol_doc.DOCUMENT.read_text().replace("<!-- args:joinGroup -->", "").replace("<!-- /args:joinGroup -->", "")
    with pytest.raises(ValueError, match="joinGroup"):
        protocol_doc.render_document(text)


# --- over the socket ------------------------------------------------------------------------


@pytest.fixture
async def tab(alice, bob):
    opened = await Tab.open(alice)
    yield opened
    with contextlib.suppress(Exception):
        await opened.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "fields, options, code",
    [
        ({"priority": "Bogus"}, {}, 10004),
        ({"priority": None}, {}, 10004),
        ({"to": ["bob"]}, {}, 10004),
        ({}, {"onlineUserOnly": True, "messageControlInfo": {}}, 10004),
        ({"receiverList": ["bob"]}, {}, 10004),
        ({}, {"noSuchOption": 1}, 10004),
    ],
)
async def test_a_refused_send_stores_nothing_and_the_socket_goes_on(tab, fields, options, code):
    before = await database_sync_to_async(db_snapshot)()
    error = await tab.expect_error(code, "sendMessage", message=message(**fields), options=options)
    assert error.message
    assert await database_sync_to_async(db_snapshot)() == before
    sent = await tab.send_text("bob", "still here")
    assert sent["payload"] == {"text": "still here"}
    assert await database_sync_to_async(Message.objects.count)() == 1


@pytest.mark.django_db(transaction=True)
async def test_offline_push_info_is_checked_and_stored_with_the_message(tab):
    """The seed's example ``sendMessage(message, {offlinePushInfo: {disablePush: true}})`` works."""
    await tab.expect_error(10004, "sendMessage", message=message(), options={"offlinePushInfo": {"disablePush": "yes"}})
    push = {"disablePush": True, "title": "Alice", "androidOPPOChannelID": "chat"}
    sent = await tab.request("sendMessage", message=message(), options={"offlinePushInfo": push})
    stored = await database_sync_to_async(Message.objects.get)(msg_id=sent["message"]["ID"])
    assert stored.offline_push_info == {
        "disablePush": True,
        "disableVoipPush": False,
        "title": "Alice",
        "description": "",
        "extension": "",
        "ignoreIOSBadge": False,
        "androidOPPOChannelID": "chat",
    }


@pytest.mark.django_db(transaction=True)
async def test_a_lone_surrogate_and_deep_nesting_get_10011_replies(tab):
    for text in (
        '{"id":"\\udc00","op":"getMyProfile","args":{}}',
        '{"id":2,"op":"getMyProfile","args":' + "[" * 3000 + "]" * 3000 + "}",
    ):
        reply = await tab.raw(text)
        assert (reply["ok"], reply["code"], reply["id"]) == (False, 10011, None)
    assert (await tab.request("getMyProfile"))["userID"] == "alice"
