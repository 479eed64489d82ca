"""Group administration: the group's profile, mute-all, member roles and mutes.

Each action runs in one transaction under the group's row lock (the lock that
orders every membership change of the group), posts its group tip (TIMGroupTipElem)
into the group's history, and publishes its events after commit. A call that
changes nothing writes nothing and posts no tip.

Who may do what (shared/spec/TIM.md 6.2):

- the profile (name, introduction, notification, avatar): any member of a Work
  group; the owner and admins of Public and Meeting groups;
- mute all: the owner and admins (Work groups have no admins: the owner);
- joinOption: the owner and admins of Public and Meeting groups (a Work group is
  always DisableApply);
- ownership (``change_group_owner``): the owner only;
- dismissal (``dismiss_group``): the owner; a Work group only the app admin;
- roles: the owner only, not in Work groups (they have no admins); at most
  ``MAX_GROUP_ADMINS`` admins;
- member mutes: the owner and admins, not in Work groups; admins mute ordinary
  members only; nobody mutes the owner.
- name cards: every member their own; the owner anyone's, an admin an ordinary
  member's (the vendor's setGroupMemberNameCard: "the owner or an admin may set
  another member's name card", with the admin bound as for mutes).

``by_admin=True`` is the app admin (the Django admin passes it): owner rights in
every group, member or not. The WebSocket never passes it.

Errors: 10010 no such group, 2602 bad groupID, 10007 not a member or not allowed,
2623 the target is not a member, 10004 bad arguments or the admin limit.
"""

import re
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from messaging import rules, serialize
from messaging.access import access_group
from messaging.actions import system_notices
from messaging.actions.groups import (
    _audit_app_admin,
    _lock,
    _notify,
    _operator_role,
    _post_to_group,
    _publish_group_list,
    _tip,
    check_join_option,
)
from messaging.actions.users import check_avatar_url
from messaging.errors import ChatError, ErrorCode
from messaging.models import Group, GroupMember, Message, User

Role = GroupMember.Role
UNSET = object()
# Tencent Cloud Chat allows 10 admins per group (its group-role documentation;
# TIM.md 6.2 names the role without the number).
MAX_GROUP_ADMINS = 10
MAX_MUTE_SECONDS = 2**32 - 1  # the SDK's muteTime is a uint32 of seconds
# Model field -> the SDK's group profile field, with its limit in UTF-8 bytes (TIM.md 6.3).
PROFILE_FIELDS = {
    "name": ("name", 30),
    "introduction": ("introduction", 240),
    "notification": ("notification", 300),
    "avatar": ("avatar", 100),
}
# The fields only the owner and admins change (in every group type).
MANAGED_FIELDS = {"join_option": "joinOption", "mute_all": "muteAllMembers"}
# joinOption values a Public or Meeting group may take (NeedPermission: Public only, groups.check_join_option).
JOIN_OPTIONS = (Group.JoinOption.FREE_ACCESS, Group.JoinOption.NEED_PERMISSION, Group.JoinOption.DISABLE_APPLY)


def update_group_profile(
    operator: User,
    group_id,
    *,
    name=UNSET,
    introduction=UNSET,
    notification=UNSET,
    avatar=UNSET,
    join_option=UNSET,
    mute_all=UNSET,
    custom_fields=UNSET,
    by_admin=False,
) -> Group:
    """Change the group's name, introduction, notification, avatar, joinOption,
    mute-all and/or custom fields, in one tip.

    ``custom_fields`` is the SDK's ``groupCustomField``, ``[{"key", "value"}]``: each
    key is set, ``""`` removes it, keys not given stay. Posts tip 6 whose
    ``newGroupProfile`` holds the changed fields only (``groupCustomField``: the
    changed keys), and refreshes every member's group list (the profile is in it)."""
    given = {
        "name": name,
        "introduction": introduction,
        "notification": notification,
        "avatar": avatar,
        "join_option": join_option,
        "mute_all": mute_all,
    }
    wanted = {field: value for field, value in given.items() if value is not UNSET}
    if not wanted and custom_fields is UNSET:
        raise ChatError(
            ErrorCode.INVALID_PARAMETERS,
            "nothing to change: give name, introduction, notification, avatar, joinOption, muteAllMembers or groupCustomField",
        )
    if custom_fields is not UNSET:
        custom_fields = custom_field_items(custom_fields, rules.MAX_GROUP_CUSTOM_VALUE_BYTES, "groupCustomField")
    for field, value in wanted.items():
        if field in PROFILE_FIELDS:
            limit = PROFILE_FIELDS[field][1]
            if not isinstance(value, str) or len(value.encode()) > limit:
                raise ChatError(ErrorCode.INVALID_PARAMETERS, f"{field} must be a string of at most {limit} bytes")
    if "avatar" in wanted:
        check_avatar_url(wanted["avatar"])
    if "mute_all" in wanted and not isinstance(wanted["mute_all"], bool):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "muteAllMembers must be true or false")
    if "join_option" in wanted and wanted["join_option"] not in JOIN_OPTIONS:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "joinOption must be FreeAccess, NeedPermission or DisableApply")
    if "name" in wanted:
        wanted["name"] = rules.without_bidi_controls(wanted["name"])
        if not wanted["name"].strip():
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "the group name may not be empty")
        wanted["name"] = wanted["name"].strip()
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        role = _operator_role(operator, group, by_admin)
        if "join_option" in wanted and group.type == Group.Type.WORK:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "a Work group is joined by invitation only (DisableApply)")
        if "join_option" in wanted:
            check_join_option(group.type, wanted["join_option"])
        if role == Role.MEMBER and "mute_all" in wanted:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only the owner or an admin may mute all members")
        if role == Role.MEMBER and group.type != Group.Type.WORK:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only the owner or an admin may change this group's profile")
        changes = {field: value for field, value in wanted.items() if getattr(group, field) != value}
        names = {**{field: sdk for field, (sdk, _) in PROFILE_FIELDS.items()}, **MANAGED_FIELDS}
        new_profile = {names[field]: value for field, value in changes.items()}
        if custom_fields is not UNSET:
            merged, changed = merge_custom_fields(group.custom_fields, custom_fields, rules.MAX_GROUP_CUSTOM_FIELDS, "group")
            if changed:
                changes["custom_fields"] = merged
                new_profile["groupCustomField"] = changed
        if changes:
            _change_profile(group, operator, changes, new_profile)
            _audit_app_admin(by_admin, operator, "update_group_profile", group, new_profile)
    return group


def custom_field_items(items, value_limit, name) -> list[tuple[str, str]]:
    """The SDK's ``[{"key", "value"}]`` as ``[(key, value)]``, checked (TIM.md 6.3): 10004."""
    if not isinstance(items, list) or not items:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"{name} must be a non-empty list of {{key, value}}")
    pairs = []
    for item in items:
        key, value = (item.get("key"), item.get("value")) if isinstance(item, dict) else (None, None)
        if not isinstance(key, str) or not re.fullmatch(rules.CUSTOM_FIELD_KEY_PATTERN, key):
            raise ChatError(ErrorCode.INVALID_PARAMETERS, f"{name}: a key is 1 to 16 characters of A-Z, a-z, 0-9 and _")
        if not isinstance(value, str) or len(value.encode()) > value_limit:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, f"{name}: {key!r} must be a string of at most {value_limit} bytes")
        pairs.append((key, value))
    if len({key for key, _ in pairs}) != len(pairs):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"{name}: a key is given twice")
    return pairs


def merge_custom_fields(current: dict, pairs, max_keys, what) -> tuple[dict, list]:
    """``current`` with ``pairs`` applied (``""`` removes a key), and the SDK list of
    the keys that changed. 10004 when the result would hold more than ``max_keys``."""
    merged = dict(current)
    changed = []
    for key, value in pairs:
        if merged.get(key, "") == value:
            continue
        if value:
            merged[key] = value
        else:
            merged.pop(key, None)
        changed.append({"key": key, "value": value})
    if len(merged) > max_keys:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"a {what} has at most {max_keys} custom fields")
    return merged, changed


def set_mute_all(operator: User, group_id, mute, *, by_admin=False) -> Group:
    """Mute (``mute=True``) or unmute every ordinary member: tip 6 with
    ``newGroupProfile: {"muteAllMembers": mute}``. Owner and admins."""
    return update_group_profile(operator, group_id, mute_all=mute, by_admin=by_admin)


def set_member_role(operator: User, group_id, user_id, role, *, by_admin=False) -> GroupMember:
    """Make a member an admin (``role="Admin"``, tip 4) or an ordinary member again
    (``role="Member"``, tip 5), and tell them in their system conversation (notice 9 or
    10). The owner only; not in Work groups."""
    if role not in (Role.ADMIN, Role.MEMBER):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, 'role must be "Admin" or "Member"')
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        operator_role = _operator_role(operator, group, by_admin)
        if group.type == Group.Type.WORK:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "a Work group has no admins")
        if operator_role != Role.OWNER:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only the group owner may appoint or cancel admins")
        target = _target(group, user_id)
        if target.role == Role.OWNER:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "the owner's role cannot be changed")
        if target.role == role:
            return target
        if role == Role.ADMIN and GroupMember.objects.filter(group=group, role=Role.ADMIN).count() >= MAX_GROUP_ADMINS:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, f"a group has at most {MAX_GROUP_ADMINS} admins")
        GroupMember.objects.filter(pk=target.pk).update(role=role)
        target.role = role
        tip = rules.TIP_MEMBER_SET_ADMIN if role == Role.ADMIN else rules.TIP_MEMBER_CANCELED_ADMIN
        _tip(group, operator, tip, [target.user])
        # Only the target's own group list changed (selfInfo.role).
        _publish_group_list([target.user])
        notice = system_notices.SET_ADMIN if role == Role.ADMIN else system_notices.CANCELED_ADMIN
        _notify([target.user], notice, operator, group)
        _audit_app_admin(by_admin, operator, "set_member_role", group, {"userID": target.user.username, "role": role})
    return target


def mute_member(operator: User, group_id, user_id, seconds, *, by_admin=False) -> GroupMember:
    """Mute a member for ``seconds`` (0 unmutes): tip 7 whose ``memberList`` is
    ``[{"userID", "nick", "avatar", "muteTime": seconds}]``. A muted member's group
    sends fail with 10017 until then. Owner and admins (admins mute ordinary
    members only); not in Work groups."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_MUTE_SECONDS:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"muteTime must be a number of seconds from 0 to {MAX_MUTE_SECONDS}")
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        operator_role = _operator_role(operator, group, by_admin)
        if group.type == Group.Type.WORK:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "members of a Work group cannot be muted")
        if operator_role == Role.MEMBER:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only the owner or an admin may mute members")
        target = _target(group, user_id)
        if target.role == Role.OWNER or (operator_role == Role.ADMIN and target.role != Role.MEMBER):
            raise ChatError(ErrorCode.PERMISSION_DENIED, f"you may not mute {target.user.username} in this group")
        now = timezone.now()
        if seconds == 0 and not (target.muted_until and target.muted_until > now):
            return target  # not muted: nothing to undo
        target.muted_until = now + timedelta(seconds=seconds) if seconds else None
        GroupMember.objects.filter(pk=target.pk).update(muted_until=target.muted_until)
        member = {**serialize.user_profile(target.user), "muteTime": seconds}
        _tip(group, operator, rules.TIP_MEMBER_PROFILE_UPDATED, [target.user], member_list=[member])
        _audit_app_admin(by_admin, operator, "mute_member", group, {"userID": target.user.username, "muteTime": seconds})
    return target


def set_member_name_card(operator: User, group_id, user_id, name_card, *, by_admin=False) -> GroupMember:
    """Set a member's group name card (``user_id`` None: the operator's own): tip 7
    whose ``memberList`` is ``[{"userID", "nick", "avatar", "nameCard"}]``. At most
    ``rules.MAX_NAME_CARD_BYTES`` bytes (TIM.md 6.3); "" clears it."""
    if not isinstance(name_card, str) or len(name_card.encode()) > rules.MAX_NAME_CARD_BYTES:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"nameCard must be a string of at most {rules.MAX_NAME_CARD_BYTES} bytes")
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        target = _member_info_target(operator, group, user_id, by_admin, "name card")
        if target.name_card == name_card:
            return target
        target.name_card = name_card
        GroupMember.objects.filter(pk=target.pk).update(name_card=name_card)
        member = {**serialize.user_profile(target.user), "nameCard": name_card}
        _tip(group, operator, rules.TIP_MEMBER_PROFILE_UPDATED, [target.user], member_list=[member])
    return target


def _member_info_target(operator, group, user_id, by_admin, what) -> GroupMember:
    """The member whose group info (``what``: name card, custom fields) the operator
    sets, in the locked group: their own (``user_id`` None or theirs); the owner
    anyone's, an admin an ordinary member's. 10007 otherwise, 2623 not a member."""
    operator_role = _operator_role(operator, group, by_admin)
    target = _target(group, operator.username if user_id is None else user_id)
    if target.user_id != operator.pk and not (
        operator_role == Role.OWNER or (operator_role == Role.ADMIN and target.role == Role.MEMBER)
    ):
        raise ChatError(ErrorCode.PERMISSION_DENIED, f"you may not set {target.user.username}'s {what} in this group")
    return target


def set_member_custom_fields(operator: User, group_id, user_id, custom_fields, *, by_admin=False) -> GroupMember:
    """Set a member's ``memberCustomField`` (``user_id`` None: the operator's own), with
    the name card's rights: every member their own; the owner anyone's, an admin an
    ordinary member's. ``[{"key", "value"}]``; ``""`` removes a key; at most
    ``rules.MAX_MEMBER_CUSTOM_FIELDS`` keys. Tip 7 whose ``memberList`` is
    ``[{"userID", "nick", "avatar", "memberCustomField"}]`` (the changed keys)."""
    pairs = custom_field_items(custom_fields, rules.MAX_MEMBER_CUSTOM_VALUE_BYTES, "memberCustomField")
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        target = _member_info_target(operator, group, user_id, by_admin, "custom fields")
        merged, changed = merge_custom_fields(target.custom_fields, pairs, rules.MAX_MEMBER_CUSTOM_FIELDS, "member")
        if not changed:
            return target
        target.custom_fields = merged
        GroupMember.objects.filter(pk=target.pk).update(custom_fields=merged)
        member = {**serialize.user_profile(target.user), "memberCustomField": changed}
        _tip(group, operator, rules.TIP_MEMBER_PROFILE_UPDATED, [target.user], member_list=[member])
    return target


def change_group_owner(operator: User, group_id, new_owner_id, *, by_admin=False) -> Group:
    """Make the member ``new_owner_id`` the owner; the old owner becomes an ordinary
    member. Tip 6 with ``newGroupProfile: {"ownerID": ...}``; every member's group list
    is refreshed (``ownerID`` and the two roles changed). The owner only (a Work group
    whose owner quit: the app admin)."""
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        if _operator_role(operator, group, by_admin) != Role.OWNER:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only the group owner may transfer the group")
        target = _target(group, new_owner_id)
        if target.role == Role.OWNER:
            raise ChatError(ErrorCode.CANNOT_TRANSFER_TO_SELF, f"{target.user.username} already owns this group")
        GroupMember.objects.filter(group=group, role=Role.OWNER).update(role=Role.MEMBER)
        GroupMember.objects.filter(pk=target.pk).update(role=Role.OWNER)
        _change_profile(group, operator, {"owner": target.user}, {"ownerID": target.user.username}, [target.user])
        _audit_app_admin(by_admin, operator, "change_group_owner", group, {"ownerID": target.user.username})
    return group


def dismiss_group(operator: User, group_id, *, by_admin=False) -> Group:
    """Dismiss the group: the owner (a Work group: the app admin only, TIM.md 6.1).

    A group system notice (``TIMGroupSystemNoticeElem``, operationType 5, with the
    group's profile) goes into its history and into every other member's system
    conversation, then the memberships end and every member's group list is refreshed. The members keep the conversation and its
    history; the group itself is gone for every op (10010), sends included."""
    group = access_group(group_id)
    with transaction.atomic():
        group = _lock(group)
        role = _operator_role(operator, group, by_admin)
        if group.type == Group.Type.WORK and not by_admin:
            raise ChatError(ErrorCode.WORK_GROUP_NOT_DISMISSABLE, "only the app admin may dismiss a Work group")
        if role != Role.OWNER:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only the group owner may dismiss the group")
        members = list(User.objects.filter(group_memberships__group=group).only("pk", "username"))
        notice = {
            "operationType": rules.NOTICE_GROUP_DISMISSED,
            "operatorID": operator.username,
            "groupProfile": serialize.group_profile(group),
            "userDefinedField": "",
            "handleMessage": "",
        }
        _post_to_group(group, operator, rules.GROUP_SYSTEM_NOTICE, notice)
        # And in every other member's system conversation (the operator knows).
        _notify([m for m in members if m.pk != operator.pk], system_notices.GROUP_DISMISSED, operator, group)
        GroupMember.objects.filter(group=group).delete()
        group.dismissed_at, group.member_count = timezone.now(), 0
        Group.objects.filter(pk=group.pk).update(dismissed_at=group.dismissed_at, member_count=0)
        _publish_group_list(members)
        _audit_app_admin(by_admin, operator, "dismiss_group", group, {"memberCount": len(members)})
    return group


def _target(group: Group, user_id) -> GroupMember:
    """The member ``user_id`` of ``group`` (user selected), or 2623."""
    if not isinstance(user_id, str) or not user_id:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "userID is required")
    target = GroupMember.objects.filter(group=group, user__username=user_id).select_related("user").first()
    if target is None:
        raise ChatError(ErrorCode.USER_NOT_IN_GROUP, f"{user_id} is not a member of group {group.group_id!r}")
    return target


def _change_profile(group: Group, operator: User, changes: dict, new_profile: dict, users=()) -> Message:
    """Write ``changes`` (model fields) to the locked group, post tip 6 with
    ``newGroupProfile`` (and ``users``' profiles in ``memberList``: a new owner's nick
    names them in the tip's sentence) and refresh every member's group list."""
    Group.objects.filter(pk=group.pk).update(**changes)
    for field, value in changes.items():
        setattr(group, field, value)
    tip = _tip(group, operator, rules.TIP_GROUP_PROFILE_UPDATED, users, extra={"newGroupProfile": new_profile})
    _publish_group_list(User.objects.filter(group_memberships__group=group).only("pk"))
    return tip
