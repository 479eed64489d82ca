"""getGroupList, getGroupProfile, getGroupMemberList, getGroupMemberProfile, searchGroupByID: fixed query counts."""

from django.db.models import Exists, OuterRef, Subquery

from messaging import rules, serialize
from messaging.access import access_group, access_membership
from messaging.compiled import CompiledQuery
from messaging.errors import ChatError, ErrorCode
from messaging.models import Conversation, Group, GroupMember, User

MEMBER_PAGE_LIMIT = 100


def remind_type_subquery(user: User | int, group_ref: str):
    """The user's (a User or its pk) ``messageRemindType`` for the group ``group_ref`` names (their
    conversation's, setMessageRemindType), for ``selfInfo``: one subquery, no query more."""
    return Subquery(Conversation.objects.filter(user=user, group=OuterRef(group_ref)).values("remind_type")[:1])


# Compiled once (messaging/compiled.py): every reconnecting client reads it in its sync.
GROUP_LIST_ROWS = CompiledQuery(
    lambda user_id: (
        GroupMember.objects.filter(user_id=user_id)
        .select_related("group__owner", "group__thread")
        .annotate(remind_type=remind_type_subquery(user_id, "group"))
        .order_by("group__name", "group_id")
    ),
    int,
)


def get_group_list(user: User) -> list:
    memberships = GROUP_LIST_ROWS.list(user.pk)
    return [serialize.group_profile(m.group, self_role=m.role, remind_type=m.remind_type) for m in memberships]


def get_group_thread_ids(user: User) -> list:
    """The threads of the user's groups: the channel-layer groups their sockets follow."""
    return GROUP_THREAD_IDS.list(user.pk)


# Compiled once (messaging/compiled.py): every socket reads it when it opens.
GROUP_THREAD_IDS = CompiledQuery(
    lambda user_id: Conversation.objects.filter(user_id=user_id, group__isnull=False).values_list("thread_id", flat=True),
    int,
)


def get_group_profile(user: User, group_id) -> dict:
    """Any user may see the profile of a group that can be joined or searched (to join a
    Public one): to a non-member without the members' fields
    (``serialize.stranger_group_profile``); ``selfInfo`` for members. A Work group is its
    members' only: to anyone else it is 10010, as if it did not exist (as
    ``search_group_by_id``). Two queries."""
    group = access_group(group_id)
    role, remind_type = (
        GroupMember.objects.filter(group=group, user=user)
        .annotate(remind_type=remind_type_subquery(user, "group"))
        .values_list("role", "remind_type")
        .first()
    ) or (None, None)
    if role is None and group.type == Group.Type.WORK:
        raise ChatError(ErrorCode.GROUP_NOT_FOUND, f"group {group_id!r} does not exist")
    if role is None:
        return serialize.stranger_group_profile(group)
    return serialize.group_profile(group, self_role=role, remind_type=remind_type)


def get_group_member_list(user: User, group_id, *, count=100, offset=0) -> dict:
    """Members only. Owner first, then admins, then by join time."""
    if not isinstance(count, int) or not isinstance(offset, int) or count < 1 or offset < 0:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "count and offset must be non-negative integers")
    group = access_group(group_id)
    access_membership(user, group)
    count = min(count, MEMBER_PAGE_LIMIT)
    rows = list(
        GroupMember.objects.filter(group=group)
        .select_related("user")
        .order_by(_role_order(), "joined_at", "pk")[offset : offset + count + 1]
    )
    more = len(rows) > count
    return {
        "memberList": [serialize.member(m, m.user) for m in rows[:count]],
        "offset": offset + count if more else 0,
    }


def get_group_member_profile(user: User, group_id, user_ids) -> dict:
    """Members only: the named members' GroupMember objects, in the order asked; an ID
    that is not a member is left out (as the vendor does). Three queries."""
    if len(user_ids) > rules.MAX_MEMBER_PROFILE_IDS:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"userIDList holds at most {rules.MAX_MEMBER_PROFILE_IDS} userIDs")
    group = access_group(group_id)
    access_membership(user, group)
    rows = {
        m.user.username: m for m in GroupMember.objects.filter(group=group, user__username__in=user_ids).select_related("user")
    }
    return {"memberList": [serialize.member(rows[u], rows[u].user) for u in dict.fromkeys(user_ids) if u in rows]}


def search_group_by_id(user: User, group_id) -> dict:
    """The group's profile as a stranger may see it, to join it (no ``selfInfo``). A Work
    group cannot be searched (TIM.md 6.1): to a non-member it is 10010, as if it did not
    exist, so a search reveals neither its existence nor its details. A non-member sees a
    Public or Meeting group without the members' fields (``serialize.stranger_group_profile``).
    One query (the caller's membership rides on it)."""
    membership = GroupMember.objects.filter(group=OuterRef("pk"), user=user)
    group = (
        Group.objects.select_related("owner", "thread")
        .annotate(viewer_is_member=Exists(membership))
        .filter(group_id=group_id, dismissed_at__isnull=True)
        .first()
    )
    if group is None or (group.type == Group.Type.WORK and not group.viewer_is_member):
        raise ChatError(ErrorCode.GROUP_NOT_FOUND, f"group {group_id!r} does not exist")
    return serialize.group_profile(group) if group.viewer_is_member else serialize.stranger_group_profile(group)


def _role_order():
    from django.db.models import Case, IntegerField, Value, When

    return Case(
        When(role=GroupMember.Role.OWNER, then=Value(0)),
        When(role=GroupMember.Role.ADMIN, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


__all__ = [
    "Group",
    "get_group_list",
    "get_group_member_list",
    "get_group_member_profile",
    "get_group_profile",
    "search_group_by_id",
]
