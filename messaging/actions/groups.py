"""Groups: create, join, quit, add and remove members.

Every membership change, in one transaction: the GroupMember rows, the members'
conversation rows (a member has one while a member; an ex-member has none and
reads nothing), ``member_count``, and a group tip (TIMGroupTipElem with the SDK's
operationType) posted into the group's history. GROUP_LIST_UPDATED goes to the
users whose group list changed.

Role rules (shared/spec/TIM.md 6.2): Work groups have no admins; any member may
invite, only the owner may remove, the owner may quit (the group then has no
owner). Public and Meeting groups: owner and admins invite and remove (admins
remove ordinary members only), the owner may not quit. Public groups are created
with join option FreeAccess unless told otherwise; NeedPermission groups take join
applications (actions/group_applications.py). Invited and removed users get a group
system notice (7, 4) in their system conversation (actions/system_notices.py).
"""

import re
import secrets

from django.db import IntegrityError, transaction

from messaging import conf, rules, serialize
from messaging.access import access_group, access_membership
from messaging.actions import system_notices
from messaging.actions.message_send import new_message_id, post_message
from messaging.actions.moderation import record_audit
from messaging.actions.users import check_avatar_url
from messaging.errors import ChatError, ErrorCode
from messaging.events import publish_on_commit
from messaging.models import Conversation, Group, GroupMember, Thread, User

CREATABLE_TYPES = (Group.Type.WORK, Group.Type.PUBLIC, Group.Type.MEETING)
GROUP_ID_RE = re.compile(r"^[\x21-\x7e]{1,47}$")
Role = GroupMember.Role
# The tips of membership changes: they carry the group's new memberCount.
MEMBERSHIP_TIPS = (rules.TIP_MEMBER_JOIN, rules.TIP_MEMBER_QUIT, rules.TIP_MEMBER_KICKED_OUT)


def create_group(
    owner: User,
    *,
    group_type,
    name,
    group_id=None,
    member_user_ids=(),
    introduction="",
    notification="",
    avatar="",
    join_option=None,
    origin=None,
) -> Group:
    """A new group with ``owner`` and the members named. ``join_option``: Work groups are
    always DisableApply; Public and Meeting groups FreeAccess (the default) or
    DisableApply, and Public groups NeedPermission (``check_join_option``)."""
    if group_type not in CREATABLE_TYPES:
        raise ChatError(ErrorCode.BAD_GROUP_TYPE, f"group type must be one of {', '.join(CREATABLE_TYPES)}")
    if isinstance(name, str):
        name = rules.without_bidi_controls(name)
    if not isinstance(name, str) or not name.strip() or len(name.encode()) > 30:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "group name is required and at most 30 bytes")
    for field, value, limit in (
        ("introduction", introduction, 240),
        ("notification", notification, 300),
        ("avatar", avatar, 100),
    ):
        if not isinstance(value, str) or len(value.encode()) > limit:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, f"{field} must be a string of at most {limit} bytes")
    check_avatar_url(avatar)
    if group_id:
        if not isinstance(group_id, str) or not GROUP_ID_RE.match(group_id) or group_id.startswith("@TGS#"):
            raise ChatError(ErrorCode.BAD_GROUP_ID, "groupID must be printable ASCII, under 48 bytes, not starting with @TGS#")
    else:
        group_id = "@TGS#" + secrets.token_hex(5).upper()
    members = _resolve_users(member_user_ids)
    unknown = set(member_user_ids) - {u.username for u in members}
    if unknown:
        raise ChatError(ErrorCode.ACCOUNT_NOT_FOUND, f"no such user: {', '.join(sorted(unknown))}")
    members = [u for u in members if u.pk != owner.pk]
    if group_type == Group.Type.WORK:
        if join_option not in (None, Group.JoinOption.DISABLE_APPLY):
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "a Work group is joined by invitation only (DisableApply)")
        join_option = Group.JoinOption.DISABLE_APPLY
    elif join_option is None:
        join_option = Group.JoinOption.FREE_ACCESS
    else:
        check_join_option(group_type, join_option)
    try:
        with transaction.atomic():
            return _create_group(
                owner, group_type, name, group_id, members, introduction, notification, avatar, join_option, origin
            )
    except IntegrityError:
        raise ChatError(ErrorCode.GROUP_ID_IN_USE, f"group ID {group_id!r} is already in use") from None


def _create_group(owner, group_type, name, group_id, members, introduction, notification, avatar, join_option, origin):
    """The rows of a new group, its members and the first tip. Call inside a transaction."""
    if Group.objects.filter(group_id=group_id).exists():
        raise ChatError(ErrorCode.GROUP_ID_IN_USE, f"group ID {group_id!r} is already in use")
    thread = Thread.objects.create(kind=Thread.Kind.GROUP, key=f"group:{group_id}")
    group = Group.objects.create(
        group_id=group_id,
        name=name.strip(),
        type=group_type,
        owner=owner,
        introduction=introduction,
        notification=notification,
        avatar=avatar,
        join_option=join_option,
        thread=thread,
    )
    _add(group, [owner], role=Role.OWNER)
    _add(group, members, role=Role.MEMBER)
    if members:
        _tip(group, owner, rules.TIP_MEMBER_JOIN, members, join_type=2, new_members=[owner, *members])
    else:
        _tip(group, owner, rules.TIP_MEMBER_JOIN, [owner], join_type=1)
    _publish_group_list([owner, *members])
    _notify([owner], system_notices.GROUP_CREATED, owner, group)
    if members:
        _notify(members, system_notices.INVITED, owner, group)
    return group


def check_join_option(group_type, join_option):
    """10004 unless ``join_option`` fits the group type: a Public group is FreeAccess,
    NeedPermission or DisableApply; a Meeting group joins without approval (TIM.md 6.1),
    so FreeAccess or DisableApply. (Work groups are always DisableApply: the callers'.)"""
    allowed = [Group.JoinOption.FREE_ACCESS, Group.JoinOption.DISABLE_APPLY]
    if group_type == Group.Type.PUBLIC:
        allowed.insert(1, Group.JoinOption.NEED_PERMISSION)
    if join_option not in allowed:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"joinOption must be {' or '.join(allowed)} in this group")


def join_group(user: User, group_id, *, apply_message="", origin=None):
    """Join a Public or Meeting group. Returns (status, group): ``JoinedSuccess``,
    ``AlreadyInGroup``, or ``WaitAdminApproval`` when the group's joinOption is
    NeedPermission (a join application, actions/group_applications.py). DisableApply:
    10007 (TIM.md §8.2 names no code of its own for it)."""
    # Imported here: group_applications builds on this module's helpers.
    from messaging.actions.group_applications import MAX_APPLY_MESSAGE_BYTES, apply_to_join

    if not isinstance(apply_message, str) or len(apply_message.encode()) > MAX_APPLY_MESSAGE_BYTES:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"applyMessage must be at most {MAX_APPLY_MESSAGE_BYTES} bytes")
    group = access_group(group_id)
    if group.type == Group.Type.WORK:
        raise ChatError(ErrorCode.CANNOT_JOIN_WORK_GROUP, "a Work group can only be joined by invitation")
    if group.join_option == Group.JoinOption.DISABLE_APPLY:
        raise ChatError(ErrorCode.PERMISSION_DENIED, "this group does not accept join requests")
    with transaction.atomic():
        group = _lock(group)
        if GroupMember.objects.filter(group=group, user=user).exists():
            return "AlreadyInGroup", group
        if group.join_option == Group.JoinOption.NEED_PERMISSION:
            apply_to_join(user, group, apply_message)
            return "WaitAdminApproval", group
        _add(group, [user], role=Role.MEMBER)
        _tip(group, user, rules.TIP_MEMBER_JOIN, [user], join_type=1, origin=origin)
        _publish_group_list([user])
    return "JoinedSuccess", group


def quit_group(user: User, group_id, *, origin=None) -> Group:
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        member = access_membership(user, group)
        if member.role == Role.OWNER and group.type != Group.Type.WORK:
            raise ChatError(ErrorCode.OWNER_MAY_NOT_QUIT, "the owner may not quit; transfer ownership or dismiss the group")
        _remove(group, [user])
        if member.role == Role.OWNER:
            Group.objects.filter(pk=group.pk).update(owner=None)
            group.owner = None
        _tip(group, user, rules.TIP_MEMBER_QUIT, [user], origin=origin)
        _publish_group_list([user])
        _publish_removed_conversation(group, [user])
        _notify([user], system_notices.QUIT, user, group)
    return group


MAX_CUSTOM_NOTICE_BYTES = 1024


def post_custom_notice(operator: User, group_id, text, *, by_admin=False) -> Group:
    """A custom group system notice (operationType 255, the REST API's
    send_group_system_notification) to every member's system conversation, with ``text``
    as its ``userDefinedField``: the owner or an admin of the group, or the app admin
    (``by_admin``). 10004 for an empty text or one over 1 KB."""
    if not isinstance(text, str) or not text.strip() or len(text.encode()) > MAX_CUSTOM_NOTICE_BYTES:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"the notice is 1 to {MAX_CUSTOM_NOTICE_BYTES} bytes of text")
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        if not by_admin and access_membership(operator, group).role == Role.MEMBER:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only the owner or an admin may send the group a notice")
        members = list(User.objects.filter(group_memberships__group=group).only("pk", "username"))
        payload = system_notices.notice_payload(system_notices.CUSTOM, operator, group, user_defined=text)
        system_notices.post_notices(members, payload)
    return group


def add_members(operator: User, group_id, user_ids, *, by_admin=False, origin=None) -> dict:
    """Invite users. Unknown users are listed as failures, members as existing.
    ``by_admin``: the app admin (the server API), with the owner's rights, member or not."""
    if not isinstance(user_ids, list) or not user_ids or not all(isinstance(u, str) for u in user_ids):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "userIDList must be a non-empty list of user IDs")
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        role = _operator_role(operator, group, by_admin)
        if group.type != Group.Type.WORK and role == Role.MEMBER:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only the owner or an admin may add members to this group")
        users = _resolve_users(user_ids)
        existing = set(GroupMember.objects.filter(group=group, user__in=users).values_list("user__username", flat=True))
        added = [u for u in users if u.username not in existing]
        if added:
            _add(group, added, role=Role.MEMBER)
            _tip(group, operator, rules.TIP_MEMBER_JOIN, added, join_type=2, origin=origin)
            _publish_group_list(added)
            _notify(added, system_notices.INVITED, operator, group)
    found = {u.username for u in users}
    return {
        "successUserIDList": [u.username for u in added],
        "failureUserIDList": [u for u in dict.fromkeys(user_ids) if u not in found],
        "existedUserIDList": sorted(existing),
        "group": group,
    }


def delete_members(operator: User, group_id, user_ids, *, reason="", by_admin=False, origin=None) -> dict:
    """Remove members. All or nothing: one target the operator may not remove refuses the call.
    ``by_admin``: the app admin (the Django admin, the server API), with the owner's rights,
    member or not; audited with ``reason``."""
    if not isinstance(user_ids, list) or not user_ids or not all(isinstance(u, str) for u in user_ids):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "userIDList must be a non-empty list of user IDs")
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        role = _operator_role(operator, group, by_admin)
        if role == Role.MEMBER or (group.type == Group.Type.WORK and role != Role.OWNER):
            raise ChatError(ErrorCode.PERMISSION_DENIED, "you may not remove members from this group")
        targets = list(GroupMember.objects.filter(group=group, user__username__in=user_ids).select_related("user"))
        for target in targets:
            if not _may_remove(group.type, role, target.role) or target.user_id == operator.pk:
                raise ChatError(ErrorCode.PERMISSION_DENIED, f"you may not remove {target.user.username} from this group")
        removed = [t.user for t in targets]
        if removed:
            _remove(group, removed)
            _tip(group, operator, rules.TIP_MEMBER_KICKED_OUT, removed, origin=origin)
            _publish_group_list(removed)
            _publish_removed_conversation(group, removed)
            _notify(removed, system_notices.KICKED_OUT, operator, group)
            _audit_app_admin(by_admin, operator, "delete_members", group, {"userIDList": [u.username for u in removed]}, reason)
    return {"userIDList": [u.username for u in removed], "group": group}


def _audit_app_admin(by_admin, operator: User, action, group: Group, details, reason=""):
    """The app admin's (the Django admin's) group changes go to the audit log, in the
    change's transaction; a member's own changes are the group's tips, not moderation."""
    if by_admin:
        record_audit(operator, action, "group", group.group_id, reason=reason, details=details)


def _operator_role(operator: User, group: Group, by_admin: bool):
    """The operator's role in ``group``; the app admin counts as the owner. 10007 for a non-member."""
    if by_admin:
        return Role.OWNER
    return access_membership(operator, group).role


def _may_remove(group_type, operator_role, target_role):
    """Nobody removes the owner (the app admin neither: transfer the group first)."""
    if group_type == Group.Type.WORK:
        return operator_role == Role.OWNER and target_role != Role.OWNER
    if operator_role == Role.OWNER:
        return target_role != Role.OWNER
    if operator_role == Role.ADMIN:
        return target_role == Role.MEMBER
    return False


def _resolve_users(user_ids):
    ids = [u for u in dict.fromkeys(user_ids) if isinstance(u, str)]
    return list(User.objects.filter(username__in=ids, is_active=True).order_by("pk"))


def _lock(group: Group) -> Group:
    """The group row, locked: membership changes of one group are serialised. 10010
    when it was dismissed meanwhile."""
    locked = Group.objects.select_for_update().select_related("thread").get(pk=group.pk)
    if locked.dismissed_at is not None:
        raise ChatError(ErrorCode.GROUP_NOT_FOUND, f"group {group.group_id!r} was dismissed")
    return locked


def _add(group: Group, users, *, role):
    if not users:
        return
    if group.member_count + len(users) > conf.get("MAX_GROUP_MEMBERS"):
        raise ChatError(ErrorCode.GROUP_FULL, "the group is full")
    # Meeting groups show history from before the join; Work and Public do not.
    min_seq = 1 if group.type == Group.Type.MEETING else group.thread.last_seq + 1
    GroupMember.objects.bulk_create([GroupMember(group=group, user=u, role=role) for u in users])
    Conversation.objects.filter(user__in=users, thread=group.thread).delete()
    Conversation.objects.bulk_create(
        [
            Conversation(user=u, thread=group.thread, group=group, conversation_id=group.conversation_id, min_seq=min_seq)
            for u in users
        ]
    )
    group.member_count += len(users)
    Group.objects.filter(pk=group.pk).update(member_count=group.member_count)


def _remove(group: Group, users):
    GroupMember.objects.filter(group=group, user__in=users).delete()
    Conversation.objects.filter(thread=group.thread, user__in=users).delete()
    group.member_count -= len(users)
    Group.objects.filter(pk=group.pk).update(member_count=group.member_count)


def _tip(
    group: Group,
    operator: User,
    operation_type,
    users,
    *,
    join_type=0,
    new_members=None,
    member_list=None,
    extra=None,
    origin=None,
):
    """Post a group tip and return it. It reaches every tab of every member, the
    operator's own tab included (``origin`` is not passed on): no tab created it locally.

    ``member_list`` replaces the default ``memberList`` (the users' profiles), e.g. with
    ``muteTime`` added; ``extra`` adds payload fields (``newGroupProfile``). A join,
    quit or removal tip carries ``memberCount`` (the native SDKs' V2TimGroupTipsElem
    field), the count after the change."""
    payload = {
        "operationType": operation_type,
        "operatorID": operator.username,
        "operatorInfo": serialize.user_profile(operator),
        "userIDList": [u.username for u in users],
        "groupJoinType": join_type,
        "memberList": member_list if member_list is not None else [serialize.user_profile(u) for u in users],
        **(extra or {}),
    }
    if operation_type in MEMBERSHIP_TIPS:
        # The group's new member count: every member's tab gets the tip, so every
        # member's group list follows the count without a refetch.
        payload["memberCount"] = group.member_count
    # Members added by this change follow the thread's channel group only once their
    # sockets refresh: the tip goes to them directly too.
    direct_to = [u.pk for u in (new_members or users)] if operation_type == rules.TIP_MEMBER_JOIN else ()
    return _post_to_group(group, operator, rules.GROUP_TIP, payload, direct_to=direct_to)


def _post_to_group(group: Group, operator: User, msg_type, payload, *, direct_to=()):
    """Post a server-made message (a tip or a notice) into the group's history; it is
    never unread."""
    return post_message(
        group.thread,
        operator,
        to=group.group_id,
        msg_type=msg_type,
        payload=payload,
        msg_id=new_message_id(operator.pk),
        counts_unread=False,
        direct_to=direct_to,
    )


def _notify(users, operation_type, operator: User, group: Group):
    """The same group system notice to each of ``users``' system conversations (one bulk
    write, actions/system_notices.py)."""
    system_notices.post_notices(users, system_notices.notice_payload(operation_type, operator, group))


def _publish_group_list(users):
    """The consumers of these users refetch their group list and push GROUP_LIST_UPDATED."""
    publish_on_commit("GROUP_LIST_UPDATED", None, [u.pk for u in users], meta={"refresh": "groups"})


def _publish_removed_conversation(group, users):
    for user in users:
        publish_on_commit(
            "CONVERSATION_LIST_UPDATED",
            [{"conversationID": group.conversation_id, "deleted": True}],
            [user.pk],
            meta={"unread": {str(user.pk): [group.conversation_id, 0]}},
        )
