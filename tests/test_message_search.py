"""searchCloudMessages (docs/PROTOCOL.md §5.50): substrings in any script (Chinese,
Japanese, Korean without word breaks; Latin case-insensitively), AND/OR, sender, time
range and type filters, cursor paging across conversations and within one, and access:
nothing from a conversation the user cannot read, before they joined or cleared it,
targeted at others, recalled, or deleted for them. Query counts pinned at two sizes.
The plan on PostgreSQL (the bigram index) is tests/integration/test_message_search_pg.py's."""

from datetime import timedelta
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from messaging import actions
from messaging.errors import ErrorCode
from messaging.queries.message_search import search_cloud_messages
from tests.chat_helpers import make_group, send_group_text, send_text


class Ref:
    def __init__(self, message_id, conversation_id):
        self.ID, self.conversationID = message_id, conversation_id


def search(user, *keywords, **kwargs):
    return search_cloud_messages(user, list(keywords), **kwargs)


def found_ids(result):
    """conversationID → matched message IDs (within one conversation) or the count."""
    return {r["conversationID"]: [m["ID"] for m in r["messageList"]] for r in result["searchResultList"]}


def texts_in(user, conversation_id, *keywords, **kwargs):
    result = search(user, *keywords, conversation_id=conversation_id, **kwargs)
    return [
        m["payload"].get("text", m["payload"].get("description")) for r in result["searchResultList"] for m in r["messageList"]
    ]


# --- matching ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cjk_substrings_and_latin_words_are_found(alice, bob):
    for text in (
        "我说你好世界",
        "今天天气真好",
        "明日は会議があります",
        "안녕하세요 반갑습니다",
        "The Meeting is at noon",
        "100% sure_thing",
    ):
        send_text(alice, "bob", text)
    assert texts_in(bob, "C2Calice", "你好") == ["我说你好世界"]
    assert texts_in(bob, "C2Calice", "好") == ["今天天气真好", "我说你好世界"]  # one character, newest first
    assert texts_in(bob, "C2Calice", "会議") == ["明日は会議があります"]
    assert texts_in(bob, "C2Calice", "반갑") == ["안녕하세요 반갑습니다"]
    assert texts_in(bob, "C2Calice", "meeting") == ["The Meeting is at noon"]
    assert texts_in(bob, "C2Calice", "MEET") == ["The Meeting is at noon"]
    assert texts_in(bob, "C2Calice", "is at") == ["The Meeting is at noon"]
    assert texts_in(bob, "C2Calice", "t") == ["100% sure_thing", "The Meeting is at noon"]
    assert texts_in(bob, "C2Calice", "%") == ["100% sure_thing"], "LIKE's wildcards are literal"
    assert texts_in(bob, "C2Calice", "n_o") == [], "an underscore is not a wildcard (it would match noon)"
    assert texts_in(bob, "C2Calice", "你们") == []
    assert texts_in(bob, "C2Calice", "世界你好") == []


@pytest.mark.django_db
def test_and_or_sender_types_and_time(alice, bob, carol):
    make_group(alice, group_id="g1", members=["bob", "carol"])
    three_days_ago = timezone.now() - timedelta(days=3)
    with mock.patch("django.utils.timezone.now", return_value=three_days_ago):
        send_group_text(alice, "g1", "lunch at noon")
    send_group_text(bob, "g1", "coffee at noon")
    send_group_text(carol, "g1", "lunch and coffee")
    actions.send_message(
        alice, conversation_type="GROUP", to="g1", msg_type="TIMCustomElem", payload={"data": "x", "description": "lunch menu"}
    )
    assert texts_in(bob, "GROUPg1", "lunch", "coffee") == ["lunch menu", "lunch and coffee", "coffee at noon", "lunch at noon"]
    assert texts_in(bob, "GROUPg1", "lunch", "coffee", match="and") == ["lunch and coffee"]
    assert texts_in(bob, "GROUPg1", "noon", senders=["bob", "carol"]) == ["coffee at noon"]
    custom = search(bob, "lunch", conversation_id="GROUPg1", types=["TIMCustomElem"])
    assert [m["payload"]["description"] for m in custom["searchResultList"][0]["messageList"]] == ["lunch menu"]
    # No keyword: a sender or a type is enough (the vendor's rule).
    assert texts_in(bob, "GROUPg1", senders=["carol"]) == ["lunch and coffee"]
    # Time: timePosition (seconds, 0 = now) back timePeriod seconds.
    assert texts_in(bob, "GROUPg1", "noon", time_period=86400) == ["coffee at noon"]
    two_days_ago = int((timezone.now() - timedelta(days=2)).timestamp())
    assert texts_in(bob, "GROUPg1", "noon", time_position=two_days_ago) == ["lunch at noon"]
    assert texts_in(bob, "GROUPg1", "noon", time_position=two_days_ago, time_period=3600) == []


@pytest.mark.django_db
def test_across_conversations_one_result_each_newest_first_paged(alice, bob, carol, dave):
    make_group(alice, group_id="g1", members=["bob"])
    one = send_text(alice, "bob", "deploy today")
    send_text(carol, "bob", "deploy tomorrow")
    send_text(carol, "bob", "deploy done")
    send_group_text(alice, "g1", "deploy the group")
    send_text(dave, "alice", "deploy for alice only")
    result = search(bob, "deploy")
    assert result["totalCount"] == 3
    assert [(r["conversationID"], r["messageCount"]) for r in result["searchResultList"]] == [
        ("GROUPg1", 1),
        ("C2Ccarol", 2),
        ("C2Calice", 1),
    ]
    by_conv = found_ids(result)
    assert by_conv["C2Ccarol"] == [], "more than one match: the conversation is searched to list them"
    assert by_conv["C2Calice"] == [one.msg_id]
    single = result["searchResultList"][2]["messageList"][0]
    assert (single["conversationID"], single["flow"], single["from"]) == ("C2Calice", "in", "alice")
    # Paging: two conversations, then the last one.
    first = search(bob, "deploy", count=2)
    assert [r["conversationID"] for r in first["searchResultList"]] == ["GROUPg1", "C2Ccarol"]
    assert first["cursor"] and first["totalCount"] == 3
    rest = search(bob, "deploy", count=2, cursor=first["cursor"])
    assert ([r["conversationID"] for r in rest["searchResultList"]], rest["cursor"]) == (["C2Calice"], "")


@pytest.mark.django_db
def test_within_a_conversation_pages_with_the_cursor(alice, bob):
    sent = [send_text(alice, "bob", f"report {i}").msg_id for i in range(5)]
    page = search(bob, "report", conversation_id="C2Calice", count=2)
    assert (page["totalCount"], page["searchResultList"][0]["messageCount"]) == (5, 5)
    seen = [m["ID"] for m in page["searchResultList"][0]["messageList"]]
    while page["cursor"]:
        page = search(bob, "report", conversation_id="C2Calice", count=2, cursor=page["cursor"])
        seen += [m["ID"] for m in page["searchResultList"][0]["messageList"]]
    assert seen == sent[::-1]


# --- access --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_nothing_the_user_may_not_read(alice, bob, carol, dave):
    make_group(alice, group_id="g1", members=["bob"])
    send_group_text(alice, "g1", "secret before carol joined")
    actions.add_members(alice, "g1", ["carol"])
    send_group_text(alice, "g1", "secret after carol joined")
    send_group_text(alice, "g1", "secret for bob only", receiver_list=["bob"])
    send_text(alice, "bob", "secret between alice and bob")
    recalled = send_text(alice, "carol", "secret recalled")
    actions.revoke_message(alice, "C2Ccarol", recalled.msg_id)
    mine = send_text(alice, "carol", "secret deleted for carol")
    actions.delete_messages(carol, [Ref(mine.msg_id, "C2Calice")])
    kept = send_text(alice, "carol", "secret kept")

    def all_texts(user):
        result = search(user, "secret")
        texts = []
        for r in result["searchResultList"]:
            texts += texts_in(user, r["conversationID"], "secret")
        return result["totalCount"], sorted(texts)

    assert all_texts(carol) == (2, ["secret after carol joined", "secret kept"])
    assert all_texts(dave) == (0, [])
    assert sorted(texts_in(bob, "GROUPg1", "secret")) == [
        "secret after carol joined",
        "secret before carol joined",
        "secret for bob only",
    ]
    assert texts_in(alice, "C2Ccarol", "secret") == ["secret kept", "secret deleted for carol"], "deleted for carol only"
    # Clearing the history, and leaving the group.
    actions.clear_history(carol, "C2Calice")
    assert texts_in(carol, "C2Calice", "secret") == []
    send_text(alice, "carol", "secret after clearing")
    assert texts_in(carol, "C2Calice", "secret") == ["secret after clearing"]
    actions.quit_group(carol, "g1")
    assert search(carol, "secret")["totalCount"] == 1
    with pytest.raises(Exception) as refused:
        search(carol, "secret", conversation_id="GROUPg1")
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert kept.msg_id  # noqa: S101


@pytest.mark.django_db
def test_bad_arguments(alice, bob):
    send_text(alice, "bob", "hi")
    for call, code in [
        (lambda: search(alice), ErrorCode.INVALID_PARAMETERS),
        (lambda: search(alice, "   "), ErrorCode.INVALID_PARAMETERS),
        (lambda: search(alice, "hi", cursor="abc"), ErrorCode.INVALID_PARAMETERS),
        (lambda: search(alice, "hi", conversation_id="XYZ"), ErrorCode.INVALID_CONVERSATION_ID),
        (lambda: search(alice, "hi", conversation_id="GROUPnope"), ErrorCode.GROUP_NOT_FOUND),
    ]:
        with pytest.raises(Exception) as refused:
            call()
        assert refused.value.code == code
    assert search(alice, "hi", conversation_id="C2Ccarol") == {"totalCount": 0, "searchResultList": [], "cursor": ""}


@pytest.mark.parametrize("n", [2, 12])
def test_query_counts_are_fixed(db, django_assert_num_queries, alice, bob, carol, n):
    make_group(alice, group_id="g1", members=["bob", "carol"])
    make_group(alice, group_id="g2", members=["bob"])
    send_group_text(alice, "g2", "plan solo")  # a single group match: its sender's name card is read
    for i in range(n):
        send_group_text(carol if i % 2 else alice, "g1", f"plan {i}")
        send_text(alice, "bob", f"plan {i}")
        actions.create_user(f"u{i}", password="x")
        send_text(bob, f"u{i}", "plan alone")
    with django_assert_num_queries(4):  # counts, singles, conversations, name cards
        result = search(bob, "plan", count=100)
    assert result["totalCount"] == n + 3
    with django_assert_num_queries(4):  # conversation, count, page, name cards
        result = search(bob, "plan", conversation_id="GROUPg1")
    assert result["totalCount"] == n


# --- over the socket -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_search_over_the_socket(open_tab, alice, bob, carol):
    def arrange():
        send_text(alice, "bob", "我说你好世界")
        send_text(carol, "alice", "你好 carol")

    await database_sync_to_async(arrange)()
    b = await open_tab(bob)
    found = await b.request("searchCloudMessages", keywordList=["你好"])
    assert (found["totalCount"], found["searchResultList"][0]["conversationID"]) == (1, "C2Calice")
    assert found["searchResultList"][0]["messageList"][0]["payload"]["text"] == "我说你好世界"
    within = await b.request("searchCloudMessages", keywordList=["你好"], conversationID="C2Calice")
    assert within["searchResultList"][0]["messageCount"] == 1
    await b.expect_error(10004, "searchCloudMessages")
    await b.expect_error(10004, "searchCloudMessages", keywordList=["a"] * 6)
    await b.expect_error(10004, "searchCloudMessages", keywordList=["a"], messageTypeList=["TIMGroupTipElem"])
    await b.expect_error(10004, "searchCloudMessages", keywordList=["a"], cursor="x")
    await b.expect_error(10004, "searchCloudMessages", keywordList=["a"], keywordListMatchType="xor")
    await b.expect_error(2503, "searchCloudMessages", keywordList=["a"], conversationID="nope")
