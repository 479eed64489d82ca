"""The people directory (searchCloudUsers) and the public group list (getPublicGroupList),
docs/PROTOCOL.md §5.41–5.42: prefix search by userID and nick, case-insensitive, banned
users never found, pagination, and query counts pinned at two data sizes. The plan on
PostgreSQL (the prefix indexes) is tests/integration/test_directory_pg.py's."""

import pytest
from channels.db import database_sync_to_async

from messaging import actions
from messaging.queries.directory import get_public_group_list, search_users
from tests.chat_helpers import fast_passwords, make_group  # noqa: F401
from tests.conftest import make_user


def ids(result):
    return [p["userID"] for p in result["searchResultList"]]


@pytest.fixture
def people(db):
    made = {}
    for username, nick in [
        ("alice", "Alice"),
        ("carol", "Carol"),
        ("Carl", "Carl"),
        ("zed", "Carmen"),
        ("bob", "Bob"),
        ("cara_banned", "Cara"),
        ("dan", "Dan Carter"),
    ]:
        made[username] = actions.create_user(username, password="pw", nick=nick)
    actions.set_user_active(made["cara_banned"], False)
    return made


def test_a_prefix_finds_user_ids_and_nicks_case_insensitively_and_never_banned_users(people):
    viewer = people["alice"]
    assert ids(search_users(viewer, ["car"])) == ["Carl", "carol", "zed"]  # zed by the nick "Carmen"
    assert ids(search_users(viewer, ["CAR"])) == ["Carl", "carol", "zed"]
    assert ids(search_users(viewer, ["carm"])) == ["zed"]
    assert ids(search_users(viewer, ["Ze"])) == ["zed"]
    assert ids(search_users(viewer, ["arol"])) == []  # a prefix, not a substring
    assert ids(search_users(viewer, ["cara"])) == []  # banned
    assert search_users(viewer, ["car"])["totalCount"] == 3


def test_a_search_result_is_the_vendors_brief_profile(people):
    actions.update_user_profile(people["carol"], self_signature="hi", gender="Gender_Type_Female", location="Oslo")
    (carol,) = [p for p in search_users(people["alice"], ["carol"])["searchResultList"]]
    assert carol == {
        "userID": "carol",
        "nick": "Carol",
        "avatar": "",
        "gender": "Gender_Type_Female",
        "birthday": 0,
        "selfSignature": "hi",
    }


def test_keywords_match_with_or_and_and_and_the_filters_apply(people):
    viewer = people["alice"]
    assert ids(search_users(viewer, ["bob", "dan"])) == ["bob", "dan"]
    assert ids(search_users(viewer, ["dan", "car"], match="and")) == []  # "Dan Carter": "car" is not a prefix of it
    assert ids(search_users(viewer, ["dan", "da"], match="and")) == ["dan"]
    actions.update_user_profile(people["carol"], gender="Gender_Type_Female", birthday=19990412)
    assert ids(search_users(viewer, ["car"], gender="Gender_Type_Female")) == ["carol"]
    assert ids(search_users(viewer, ["car"], min_birthday=19990101, max_birthday=19991231)) == ["carol"]


def test_pages_follow_the_cursor_to_the_end(db):
    viewer = make_user("viewer")
    for i in range(7):
        make_user(f"pat{i}")
    make_user("Pam")
    seen, cursor = [], ""
    while True:
        page = search_users(viewer, ["pa"], cursor=cursor, count=3)
        seen += ids(page)
        assert page["totalCount"] == 8
        cursor = page["cursor"]
        if not cursor:
            break
    assert seen == ["Pam", "pat0", "pat1", "pat2", "pat3", "pat4", "pat5", "pat6"]


@pytest.mark.parametrize("n", [3, 60])
def test_a_search_is_two_queries_whatever_the_number_of_users(db, django_assert_num_queries, n):
    viewer = make_user("viewer")
    for i in range(n):
        make_user(f"sam{i:03}")
    with django_assert_num_queries(2):
        page = search_users(viewer, ["SAM"], count=20)
    assert len(page["searchResultList"]) == min(n, 20)
    with django_assert_num_queries(2):
        search_users(viewer, ["sam"], cursor=page["cursor"] or "sam000", count=20)


# --- getPublicGroupList ----------------------------------------------------------------------------


def test_public_and_meeting_groups_are_listed_work_and_dismissed_ones_are_not(db):
    alice, bob = make_user("alice"), make_user("bob")
    make_group(alice, group_type="Public", group_id="pub", members=["bob"])
    make_group(alice, group_type="ChatRoom", group_id="meet")
    make_group(alice, group_type="Private", group_id="work", members=["bob"])
    make_group(alice, group_type="Public", group_id="gone")
    actions.dismiss_group(alice, "gone")
    listed = get_public_group_list(bob)["groupList"]
    assert [g["groupID"] for g in listed] == ["meet", "pub"]
    by_id = {g["groupID"]: g for g in listed}
    assert by_id["pub"]["selfInfo"]["role"] == "Member"  # bob may open it
    assert "selfInfo" not in by_id["meet"]  # ... and join this one


@pytest.mark.parametrize("n", [2, 30])
def test_the_public_group_list_is_one_query_and_pages(db, django_assert_num_queries, n):
    alice = make_user("alice")
    for i in range(n):
        make_group(alice, group_type="Public", group_id=f"g{i:03}")
    with django_assert_num_queries(1):
        page = get_public_group_list(alice, count=20)
    assert len(page["groupList"]) == min(n, 20)
    rest = get_public_group_list(alice, cursor=page["cursor"], count=20)["groupList"] if page["cursor"] else []
    assert [g["groupID"] for g in page["groupList"] + rest] == [f"g{i:03}" for i in range(n)]


# --- over the socket ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_search_and_browse_over_the_socket(open_tab, alice, bob, carol):
    def arrange():
        make_group(bob, group_type="Public", group_id="open")

    await database_sync_to_async(arrange)()
    a = await open_tab(alice)
    found = await a.request("searchCloudUsers", keywordList=["CA"])
    assert (found["totalCount"], ids(found), found["cursor"]) == (1, ["carol"], "")
    groups = await a.request("getPublicGroupList")
    assert [g["groupID"] for g in groups["groupList"]] == ["open"]
    assert (await a.request("joinGroup", groupID="open"))["status"] == "JoinedSuccess"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "args",
    [
        {},
        {"keywordList": []},
        {"keywordList": ["   "]},
        {"keywordList": ["a"] * 6},
        {"keywordList": ["a" * 65]},
        {"keywordList": ["a"], "count": 0},
        {"keywordList": ["a"], "count": 101},
        {"keywordList": ["a"], "keywordListMatchType": "xor"},
        {"keywordList": ["a"], "miniBirthday": 20000101, "maxBirthday": 19990101},
        {"keywordList": ["a"], "limit": 5},
    ],
)
async def test_bad_searches_are_10004(open_tab, alice, args):
    a = await open_tab(alice)
    await a.expect_error(10004, "searchCloudUsers", **args)


@pytest.mark.django_db(transaction=True)
async def test_a_bad_group_list_page_is_10004(open_tab, alice):
    a = await open_tab(alice)
    await a.expect_error(10004, "getPublicGroupList", count=0)
    await a.expect_error(10004, "getPublicGroupList", count=101)
