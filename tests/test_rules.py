"""messaging/rules.py: the SDK's rules in one place, and what of them reaches the browser."""

import contextlib
import json
from pathlib import Path

import pytest

from messaging import conf, rules
from tests.chat_helpers import fast_passwords  # noqa: F401
from tests.ws import Tab

GROUP_TIPS = json.loads((Path(__file__).parent / "fixtures" / "group_tips.json").read_text())["cases"]


@pytest.mark.parametrize("case", GROUP_TIPS, ids=lambda c: c["key"] or "none")
def test_group_tip_sentences_are_the_shared_fixtures(case):
    """static/chat/rules.js is tested against the same file (tests/js)."""
    assert rules.tip_key(case["payload"]) == case["key"]
    assert rules.group_tip_text(case["payload"]) == case["text"]


def test_every_template_has_a_fixture_case():
    assert {c["key"] for c in GROUP_TIPS} - {""} == set(rules.TIP_TEMPLATES)


@pytest.mark.parametrize(
    "at_user_list, viewer, sender, expected",
    [
        (["bob"], "bob", "alice", rules.AT_ME),
        ([rules.AT_ALL], "bob", "alice", rules.AT_ALL_TYPE),
        ([rules.AT_ALL, "bob"], "bob", "alice", rules.AT_ALL_AT_ME),
        ([rules.AT_ALL, "bob"], "alice", "alice", 0),
        (["carol"], "bob", "alice", 0),
        ([], "bob", "alice", 0),
    ],
)
def test_at_type(at_user_list, viewer, sender, expected):
    assert rules.at_type(at_user_list, viewer, sender) == expected


@pytest.mark.parametrize(
    "conversation_id, kind, target",
    [("C2Cbob", rules.C2C, "bob"), ("GROUP@TGS#1", rules.GROUP, "@TGS#1"), ("@TIM#SYSTEM", rules.SYSTEM_CONVERSATION_ID, "")],
)
def test_conversation_ids_round_trip(conversation_id, kind, target):
    parsed = rules.parse_conversation_id(conversation_id)
    assert (parsed.kind, parsed.target) == (kind, target)
    if kind != rules.SYSTEM_CONVERSATION_ID:
        assert rules.conversation_id_of(kind, target) == conversation_id


@pytest.mark.parametrize("bad", ["", "C2C", "GROUP", "c2cbob", "bob", None, 5])
def test_malformed_conversation_ids_parse_to_none(bad):
    assert rules.parse_conversation_id(bad) is None


def test_a_viewer_sees_a_c2c_message_under_the_other_partys_id():
    assert rules.viewer_conversation_id(rules.C2C, "bob", "alice", "alice") == "C2Cbob"
    assert rules.viewer_conversation_id(rules.C2C, "bob", "alice", "bob") == "C2Calice"


def test_body_bytes_count_json_escapes_as_the_browser_does():
    # JSON.stringify({text: "a\nb"}) is {"text":"a\\nb"}: 14 bytes; "é" is 2 bytes of UTF-8.
    assert rules.body_bytes({"text": "a\nb"}) == len('{"text":"a\\nb"}')
    assert rules.body_bytes({"text": "é"}, "xy") == len('{"text":""}') + 2 + 2
    newlines = "\n" * 7000
    assert len(newlines.encode()) < conf.get("MAX_BODY_BYTES") < rules.body_bytes({"text": newlines})


@pytest.mark.django_db(transaction=True)
async def test_hello_carries_the_rules_the_browser_uses(alice):
    tab = await Tab.open(alice)
    with contextlib.suppress(Exception):
        await tab.close()
    sent = tab.hello["rules"]
    assert sent == json.loads(json.dumps(rules.client_rules()))
    assert sent["limits"]["maxBodyBytes"] == conf.get("MAX_BODY_BYTES") == 12 * 1024
    assert sent["limits"]["messagePageSize"] == conf.get("MESSAGE_PAGE_SIZE")
    assert sent["groupTips"]["templates"]["1.2"] == rules.TIP_TEMPLATES["1.2"]
    assert sent["atAll"] == rules.AT_ALL
