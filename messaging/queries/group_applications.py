"""getGroupApplicationList: the join applications waiting for the user's answer.

The web SDK answers an application from the notice message it got (handleGroupApplication
takes ``message``); the native SDKs list them (V2TIMGroupManager getGroupApplicationList).
This is that list, with the native SDK's field names, for the page's "Requests": every
pending application to a group the user owns or administers, oldest first (at most
``LIMIT``), each with the notice of it in the user's system conversation (``message``,
what handleGroupApplication takes; ``null`` for an admin appointed after it came).

Two queries whatever the number: the applications (with applicant and group), and the
user's join-application notices since the oldest of them.
"""

from messaging import rules, serialize
from messaging.actions.system_notices import JOIN_APPLICATION, system_thread_key
from messaging.models import GroupApplication, GroupMember, Message, Thread, User

LIMIT = 100
NOTICE_SCAN = 1000  # the newest notices searched for the applications' messages


def get_group_application_list(user: User) -> dict:
    applications = list(
        GroupApplication.objects.filter(
            status=GroupApplication.Status.PENDING,
            group__dismissed_at__isnull=True,
            group__members__user=user,
            group__members__role__in=(GroupMember.Role.OWNER, GroupMember.Role.ADMIN),
        )
        .select_related("applicant", "group")
        .order_by("created_at", "pk")[:LIMIT]
    )
    notices = {}
    if applications:
        rows = (
            Message.objects.filter(
                thread__key=system_thread_key(user.pk),
                type=rules.GROUP_SYSTEM_NOTICE,
                created_at__gte=min(a.created_at for a in applications),
            ).order_by("-seq")
        )[:NOTICE_SCAN]
        for notice in rows:
            payload = notice.payload or {}
            if payload.get("operationType") != JOIN_APPLICATION:
                continue
            key = (payload.get("operatorID"), (payload.get("groupProfile") or {}).get("groupID"))
            notices.setdefault(key, []).append(notice)
    thread = Thread(kind=Thread.Kind.SYSTEM)
    result = []
    for application in applications:
        candidates = notices.get((application.applicant.username, application.group.group_id), [])
        # The newest notice made after the application is its own (older ones announced earlier applications).
        notice = next((n for n in candidates if n.created_at >= application.created_at), None)
        message = None
        if notice is not None:
            base = serialize.message_base(notice, thread, sender=None, to=user.username)
            message = serialize.for_viewer(base, user.username)
        result.append(
            {
                "groupID": application.group.group_id,
                "groupName": application.group.name,
                "fromUser": application.applicant.username,
                "fromUserNickName": application.applicant.nick,
                "fromUserFaceUrl": application.applicant.avatar,
                "toUser": "",
                "addTime": serialize.epoch(application.created_at),
                "requestMsg": application.apply_message,
                "handledMsg": "",
                "type": 0,  # a join application (1 would be an invitation)
                "handleStatus": 0,  # not handled
                "handleResult": 0,
                "message": message,
            }
        )
    return {"applicationList": result, "unreadCount": len(result)}
