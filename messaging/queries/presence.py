"""Presence reads: getUserStatus, getGroupOnlineMemberCount, and the lookups behind
subscribeUserStatus. Fixed cost whatever the number of users: two SQL queries and one
Redis round trip (a pipeline) for getUserStatus (tests/test_presence_protocol.py pins both).

Any user may read or follow any user's ``statusType`` and ``customStatus``, as the
vendor allows. ``lastSeen`` (our extension) is shown only to the user's *contacts*:
people who have a C2C conversation with them or share a group with them.
"""

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, Subquery

from messaging import presence, rules
from messaging.access import access_group, access_membership
from messaging.errors import ChatError, ErrorCode
from messaging.models import Block, Conversation, GroupMember, User


def resolve_users(user_ids) -> dict:
    """{userID: pk} of the active users among ``user_ids``. One query."""
    return dict(User.objects.filter(username__in=list(user_ids), is_active=True).values_list("username", "pk"))


def contacts_among(user: User, pks) -> set:
    """The pks among ``pks`` that ``user`` has a C2C conversation with or shares a group
    with, and ``user`` itself; not anyone in a block either way. One query."""
    pks = [pk for pk in pks if pk != user.pk]
    found = {user.pk}
    if not pks:
        return found

    def blocked(other):
        return Exists(
            Block.objects.filter(
                Q(owner_id=user.pk, blocked_id=OuterRef(other)) | Q(owner_id=OuterRef(other), blocked_id=user.pk)
            )
        )

    peers = Conversation.objects.filter(user=user, peer_id__in=pks).exclude(blocked("peer_id")).values_list("peer_id", flat=True)
    my_groups = GroupMember.objects.filter(user=user).values("group_id")
    co_members = (
        GroupMember.objects.filter(user_id__in=pks, group_id__in=Subquery(my_groups))
        .exclude(blocked("user_id"))
        .values_list("user_id", flat=True)
    )
    found.update(peers.union(co_members))
    return found


def check_count(user_ids, limit):
    """10005 (too many accounts in the request) over ``limit`` userIDs."""
    if len(user_ids) > limit:
        raise ChatError(ErrorCode.TOO_MANY_ACCOUNTS, f"userIDList holds at most {limit} userIDs")


def failure(user_id, code, message):
    return {"userID": user_id, "code": int(code), "message": message}


def get_user_status(user: User, user_ids) -> dict:
    """The SDK's ``{successUserList: [{userID, statusType, customStatus, lastSeen?}],
    failureUserList: [{userID, code, message}]}``, in the order asked (duplicates once)."""
    check_count(user_ids, rules.MAX_STATUS_USER_IDS)
    user_ids = list(dict.fromkeys(user_ids)) or [user.username]
    found = resolve_users(user_ids)
    contacts = contacts_among(user, found.values())
    asked = [u for u in user_ids if u in found]
    statuses = presence.statuses([found[u] for u in asked])
    return {
        "successUserList": [
            presence.status_item(u, status, last_seen=found[u] in contacts) for u, status in zip(asked, statuses, strict=True)
        ],
        "failureUserList": [
            failure(u, ErrorCode.ACCOUNT_DOES_NOT_EXIST, f"user {u!r} does not exist") for u in user_ids if u not in found
        ],
    }


@dataclass
class SubscriptionChange:
    """What subscribeUserStatus / unsubscribeUserStatus ask of the socket (the consumer
    applies it: channel-layer groups are the socket's): users to follow as
    ``(userID, pk, shows lastSeen)``, userIDs to stop following (None: all), the reply."""

    reply: dict
    follow: list = field(default_factory=list)
    unfollow: list | tuple | None = ()


def subscription(user: User, user_ids) -> SubscriptionChange:
    """Check a subscribeUserStatus list: known users are followed, the others (and the
    user themself: the vendor does not subscribe to yourself; your own changes reach
    your tabs anyway) come back in ``failureUserList``. Two queries."""
    check_count(user_ids, rules.MAX_SUBSCRIBE_USER_IDS)
    user_ids = list(dict.fromkeys(user_ids))
    if not user_ids:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "userIDList must name at least one user")
    found = resolve_users(user_ids)
    contacts = contacts_among(user, found.values())
    failures = []
    follow = []
    for user_id in user_ids:
        if user_id == user.username:
            failures.append(failure(user_id, ErrorCode.INVALID_PARAMETERS, "you cannot subscribe to yourself"))
        elif user_id not in found:
            failures.append(failure(user_id, ErrorCode.ACCOUNT_DOES_NOT_EXIST, f"user {user_id!r} does not exist"))
        else:
            follow.append((user_id, found[user_id], found[user_id] in contacts))
    return SubscriptionChange(reply={"failureUserList": failures}, follow=follow[-rules.MAX_SUBSCRIPTIONS :])


def unsubscription(user: User, user_ids) -> SubscriptionChange:
    check_count(user_ids, rules.MAX_SUBSCRIBE_USER_IDS)
    return SubscriptionChange(reply={"failureUserList": []}, unfollow=list(user_ids) or None)


def get_group_online_member_count(user: User, group_id) -> dict:
    """``{memberCount}``: how many members of the group are online now. Any group the
    asker belongs to (the vendor answers for AVChatRoom only); 10010 for no such group,
    10007 for a non-member, as the other group reads. Three queries and one Redis call."""
    group = access_group(group_id)
    access_membership(user, group)
    pks = list(GroupMember.objects.filter(group=group).values_list("user_id", flat=True))
    return {"memberCount": presence.store().online_count(pks, presence.clock())}
