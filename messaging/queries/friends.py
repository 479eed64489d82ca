"""Reads of the relationship chain, each a fixed number of queries whatever the list's
size: getFriendList and getFriendProfile (one), getFriendApplicationList (one),
getBlacklist (one), checkFriend (two)."""

from django.db.models import Q

from messaging import rules, serialize
from messaging.errors import ErrorCode
from messaging.models import Block, Friend, FriendApplication, User


def get_friend_list(user_pk) -> list:
    """The user's friend list: Friend objects with the remark and the friend's profile. One query."""
    rows = Friend.objects.filter(owner_id=user_pk, friend__is_active=True).select_related("friend").order_by("pk")
    return [serialize.friend(row) for row in rows]


def get_friend_profile(user_pk, user_ids) -> dict:
    """``{friendList, failureUserIDList}``: the listed users that are in the user's friend
    list, and for the others ``{userID, code: 30001, message}``. One query."""
    rows = Friend.objects.filter(owner_id=user_pk, friend__username__in=user_ids, friend__is_active=True)
    found = {row.friend.username: row for row in rows.select_related("friend")}
    wanted = list(dict.fromkeys(user_ids))
    return {
        "friendList": [serialize.friend(found[u]) for u in wanted if u in found],
        "failureUserIDList": [
            {"userID": u, "code": int(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS), "message": f"{u} is not your friend"}
            for u in wanted
            if u not in found
        ],
    }


def get_friend_application_list(user_pk) -> dict:
    """``{friendApplicationList, unreadCount}``: the requests sent to the user and by the
    user, newest first; ``unreadCount`` counts the received ones not yet marked read.
    One query."""
    return get_friend_application_lists([user_pk])[user_pk]


def get_friend_application_lists(user_pks) -> dict:
    """user pk -> that user's ``get_friend_application_list``, for several users in one
    query (an action that changed many users' requests tells each of them)."""
    pks = set(user_pks)
    rows = list(
        FriendApplication.objects.filter(Q(applicant_id__in=pks) | Q(target_id__in=pks))
        .select_related("applicant", "target")
        .order_by("-created_at", "-pk")
    )
    lists = {}
    for pk in pks:
        mine = [row for row in rows if pk in (row.applicant_id, row.target_id)]
        lists[pk] = {
            "friendApplicationList": [serialize.friend_application(row, pk) for row in mine],
            "unreadCount": sum(1 for row in mine if row.target_id == pk and not row.is_read),
        }
    return lists


def get_blacklist(user_pk) -> list:
    """The userIDs the user has blocked, in the order they were blocked. One query."""
    return list(Block.objects.filter(owner_id=user_pk).order_by("pk").values_list("blocked__username", flat=True))


def check_friend(user_pk, user_ids, check_type) -> dict:
    """The SDK's checkFriend: ``{successUserIDList: [{userID, code: 0, relation}],
    failureUserIDList: [{userID, code, message}]}``. A single check says only whether the
    user has them (``AWithB`` or ``NoRelation``); a both-way check also whether they have
    the user. Two queries."""
    wanted = list(dict.fromkeys(user_ids))
    users = dict(User.objects.filter(username__in=wanted, is_active=True).values_list("username", "pk"))
    edges = set(
        Friend.objects.filter(
            Q(owner_id=user_pk, friend_id__in=users.values()) | Q(owner_id__in=users.values(), friend_id=user_pk)
        ).values_list("owner_id", "friend_id")
    )
    success, failure = [], []
    for user_id in wanted:
        pk = users.get(user_id)
        if pk is None:
            failure.append({"userID": user_id, "code": int(ErrorCode.FRIENDSHIP_ACCOUNT_NOT_FOUND), "message": "no such user"})
            continue
        mine, theirs = (user_pk, pk) in edges, (pk, user_pk) in edges
        if check_type == rules.SNS_CHECK_TYPE_SINGLE:
            theirs = False
        relation = {
            (True, True): rules.SNS_TYPE_BOTH_WAY,
            (True, False): rules.SNS_TYPE_A_WITH_B,
            (False, True): rules.SNS_TYPE_B_WITH_A,
            (False, False): rules.SNS_TYPE_NO_RELATION,
        }[(mine, theirs)]
        success.append({"userID": user_id, "code": 0, "relation": relation})
    return {"successUserIDList": success, "failureUserIDList": failure}
