"""Join applications: joinGroup on a NeedPermission group, handleGroupApplication.

A user who joins a Public or Meeting group whose joinOption is NeedPermission makes a
GroupApplication instead (joinGroup answers ``WaitAdminApproval``); the owner and the
admins get a group system notice (operationType 1, ``handleMessage`` = the applicant's
``applyMessage``) in their system conversation. Applying again while one is pending
adds nothing (no row, no notice).

An owner or admin answers with handleGroupApplication, naming the notice message they
received: Agree adds the applicant as the join path does (the member row and
conversation, ``memberCount``, the join tip with ``groupJoinType`` 1 "applied", the
group list of the new member), Reject adds nothing; either way the application is
closed (status, handler, time) and the applicant gets a notice (2 accepted, 3 refused,
``handleMessage`` = the handler's words). Everything under the group's row lock, in one
transaction: two admins answering at once, one wins and the other gets 10024.

Errors: 10030 no such notice in your system conversation, 10004 a notice that is not a
join application, 10010 the group is gone, 10007 not the owner or an admin (a
non-member too), 10024 already handled, 10014 the group is full (nothing changes:
the application stays pending).
"""

from django.db import transaction
from django.utils import timezone

from messaging import rules
from messaging.access import access_group, access_membership, access_message
from messaging.actions import system_notices
from messaging.actions.groups import _add, _lock, _publish_group_list, _tip
from messaging.errors import ChatError, ErrorCode
from messaging.models import Group, GroupApplication, GroupMember, User

Role = GroupMember.Role
Status = GroupApplication.Status
AGREE, REJECT = "Agree", "Reject"
MAX_APPLY_MESSAGE_BYTES = 300  # our limit on applyMessage / handleMessage (the vendor names none)


def apply_to_join(user: User, group: Group, apply_message: str) -> GroupApplication:
    """The pending application of ``user`` to the locked ``group``, made (with its
    notices to the owner and admins) when there is none. Call inside join_group's
    transaction, the group row locked."""
    pending = GroupApplication.objects.filter(group=group, applicant=user, status=Status.PENDING).first()
    if pending is not None:
        return pending
    application = GroupApplication.objects.create(group=group, applicant=user, apply_message=apply_message)
    managers = User.objects.filter(group_memberships__group=group, group_memberships__role__in=(Role.OWNER, Role.ADMIN)).only(
        "pk", "username"
    )
    payload = system_notices.notice_payload(system_notices.JOIN_APPLICATION, user, group, handle_message=apply_message)
    system_notices.post_notices(managers, payload)
    return application


def handle_group_application(operator: User, notice_id, handle_action, *, handle_message="", origin=None) -> Group:
    """Agree to or reject the join application that the notice ``notice_id`` (a message of
    the operator's system conversation) announced. Returns the group. See the module."""
    if handle_action not in (AGREE, REJECT):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, 'handleAction must be "Agree" or "Reject"')
    if not isinstance(handle_message, str) or len(handle_message.encode()) > MAX_APPLY_MESSAGE_BYTES:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"handleMessage must be at most {MAX_APPLY_MESSAGE_BYTES} bytes")
    notice = access_message(operator, rules.SYSTEM_CONVERSATION_ID, notice_id)
    payload = notice.payload if notice.type == rules.GROUP_SYSTEM_NOTICE else {}
    if payload.get("operationType") != system_notices.JOIN_APPLICATION:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "this message is not a join application")
    group = access_group((payload.get("groupProfile") or {}).get("groupID"))
    with transaction.atomic():
        group = _lock(group)
        if access_membership(operator, group).role == Role.MEMBER:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "only the group owner or an admin may handle join applications")
        # The application this notice announced: the applicant's latest one made before it
        # (a notice of an application that was handled, and applied for again since, is
        # handled already).
        application = (
            GroupApplication.objects.select_related("applicant")
            .filter(group=group, applicant__username=payload.get("operatorID"), created_at__lte=notice.created_at)
            .order_by("-pk")
            .first()
        )
        if application is None or application.status != Status.PENDING:
            raise ChatError(ErrorCode.APPLICATION_HANDLED, "this application was already handled")
        applicant = application.applicant
        if handle_action == AGREE and not applicant.is_active:
            raise ChatError(ErrorCode.INVALID_USER_ID, f"{applicant.username}'s account is closed: refuse the application")
        if handle_action == AGREE and group.join_option != Group.JoinOption.NEED_PERMISSION:
            raise ChatError(ErrorCode.PERMISSION_DENIED, "the group no longer takes join applications: refuse it")
        if handle_action == AGREE and not GroupMember.objects.filter(group=group, user=applicant).exists():
            _add(group, [applicant], role=Role.MEMBER)
            _tip(group, operator, rules.TIP_MEMBER_JOIN, [applicant], join_type=1, origin=origin)
            _publish_group_list([applicant])
        GroupApplication.objects.filter(pk=application.pk).update(
            status=Status.ACCEPTED if handle_action == AGREE else Status.REFUSED,
            handler=operator,
            handle_message=handle_message,
            handled_at=timezone.now(),
        )
        outcome = system_notices.APPLICATION_ACCEPTED if handle_action == AGREE else system_notices.APPLICATION_REFUSED
        system_notices.post_notices(
            [applicant],
            system_notices.notice_payload(
                outcome, operator, group, handle_message=handle_message, to_stranger=handle_action != AGREE
            ),
        )
    return group
