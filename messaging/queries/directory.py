"""Finding people and groups: searchCloudUsers (the people directory) and
getPublicGroupList (the groups one may join). Fixed query counts.

The people search matches each keyword as a case-insensitive **prefix** of the userID
or of the nick (the vendor matches the userID exactly and the nick anywhere; a prefix
is what a typeahead needs, and what an index answers: migration 0012 adds
``UPPER(username) text_pattern_ops`` and ``UPPER(nick) text_pattern_ops`` on
PostgreSQL, so ``UPPER(col) LIKE 'CAR%'`` is two index range scans,
tests/integration/test_directory_pg.py). Banned (inactive) users are never found.
Results are in case-insensitive userID order; the cursor is the last userID of the
page (keyset pagination). ``totalCount`` is exact up to ``MAX_TOTAL_COUNT``.
"""

from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Upper

from messaging import serialize
from messaging.errors import ChatError, ErrorCode
from messaging.models import Group, GroupMember, User
from messaging.queries.groups import remind_type_subquery

SEARCH_PAGE_DEFAULT = 20
SEARCH_PAGE_MAX = 100
MAX_KEYWORDS = 5
# totalCount is exact up to this many matches, and this number beyond (the vendor returns
# at most 100 results a search; counting every "a…" of 100,000 users is not worth it).
MAX_TOTAL_COUNT = 1000
GROUP_PAGE_DEFAULT = 20
GROUP_PAGE_MAX = 100
# The group types a stranger may find and join (Work groups are invitation only).
PUBLIC_TYPES = (Group.Type.PUBLIC, Group.Type.MEETING)


def search_users(
    viewer: User,
    keywords,
    *,
    match="or",
    gender=None,
    min_birthday=None,
    max_birthday=None,
    cursor="",
    count=SEARCH_PAGE_DEFAULT,
) -> dict:
    """``{"totalCount", "searchResultList", "cursor"}``: the SDK's searchCloudUsers reply.
    Two queries (the count, the page)."""
    keywords = [k.strip() for k in keywords if k.strip()]
    if not keywords:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "keywordList needs a keyword that is not blank")
    if min_birthday is not None and max_birthday is not None and max_birthday < min_birthday:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "maxBirthday must not be before miniBirthday")
    each = [Q(username__istartswith=k) | Q(nick__istartswith=k) for k in keywords]
    condition = each[0]
    for q in each[1:]:
        condition = (condition & q) if match == "and" else (condition | q)
    found = User.objects.filter(condition, is_active=True)
    if gender:
        found = found.filter(gender=gender)
    if min_birthday is not None:
        found = found.filter(birthday__gte=min_birthday)
    if max_birthday is not None:
        found = found.filter(birthday__lte=max_birthday)
    total = found[:MAX_TOTAL_COUNT].count()
    # Ordered by UPPER(userID), which no index provides (the prefix indexes are
    # text_pattern_ops): so PostgreSQL gathers the matches with the two prefix indexes
    # and sorts them, rather than walking the whole userID index filtering every row.
    found = found.annotate(upper_id=Upper("username"))
    if cursor:
        found = found.filter(Q(upper_id__gt=cursor.upper()) | Q(upper_id=cursor.upper(), username__gt=cursor))
    rows = list(found.order_by("upper_id", "username")[: count + 1])
    more = len(rows) > count
    rows = rows[:count]
    return {
        "totalCount": total,
        "searchResultList": [serialize.directory_profile(u) for u in rows],
        "cursor": rows[-1].username if more else "",
    }


def get_public_group_list(viewer: User, *, cursor="", count=GROUP_PAGE_DEFAULT) -> dict:
    """``{"groupList", "cursor"}``: Public and Meeting groups that are not dismissed, in
    groupID order, each with ``selfInfo`` when the viewer is a member (so the UI shows
    "Open" instead of "Join"), as a stranger sees it otherwise
    (``serialize.stranger_group_profile``). One query."""
    role = GroupMember.objects.filter(group=OuterRef("pk"), user=viewer).values("role")[:1]
    groups = (
        Group.objects.filter(type__in=PUBLIC_TYPES, dismissed_at__isnull=True)
        .select_related("owner", "thread")
        .annotate(viewer_role=Subquery(role), viewer_remind_type=remind_type_subquery(viewer, "pk"))
    )
    if cursor:
        groups = groups.filter(group_id__gt=cursor)
    rows = list(groups.order_by("group_id")[: count + 1])
    more = len(rows) > count
    rows = rows[:count]
    return {
        "groupList": [
            serialize.group_profile(g, self_role=g.viewer_role, remind_type=g.viewer_remind_type)
            if g.viewer_role
            else serialize.stranger_group_profile(g)
            for g in rows
        ],
        "cursor": rows[-1].group_id if more else "",
    }
