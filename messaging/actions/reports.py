"""Users report messages; moderators resolve the reports (issue 9, "Reports").

``report_message`` (the ``reportMessage`` op, docs/PROTOCOL.md §5.45) files a report of a
message the reporter can see, as ``access_message`` decides: the same 2503 / 20003 /
10010 / 10007 / 10030 as reading it. Rules:

- not your own message, nor a group tip or a system notice (10004);
- one open report per (reporter, message): reporting it again while the first is open
  replaces its reason and words (the reply says ``isUpdate``) and costs nothing;
- at most ``MAX_REPORTS_PER_HOUR`` new reports per reporter in any hour (10006, the SDK's
  frequency code). The reporter's user row is locked while counting, so two sockets of
  one user cannot both take the last place.

Nobody is told of a report (no event): moderators find it in the admin's queue.

``resolve_report`` is the moderator's decision, from the admin: it takes the moderation
step (recall the message, delete it for everyone, ban its sender, or nothing for a
dismissal) and closes, in the same transaction, every open report of that message with
the action taken, the moderator and the time, and writes one audit entry. If the step is
refused (a dismissed group, a message with no sender), nothing is written.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from messaging import conf, rules
from messaging.access import access_message
from messaging.actions.moderation import record_audit
from messaging.actions.users import set_user_active
from messaging.errors import ChatError, ErrorCode
from messaging.models import MessageReport, User
from messaging.models.moderation import MAX_REPORT_DESCRIPTION

NOT_REPORTABLE = frozenset({rules.GROUP_TIP, rules.GROUP_SYSTEM_NOTICE})
RATE_WINDOW = timedelta(hours=1)
Action = MessageReport.Action


@dataclass(frozen=True)
class FiledReport:
    report: MessageReport
    is_update: bool  # an open report of the same message by the same user was updated


def report_message(reporter: User, conversation_id, message_id, reason, description="") -> FiledReport:
    """File (or update) ``reporter``'s report of a message they can see (module rules)."""
    if reason not in MessageReport.Reason.values:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"reason must be one of {', '.join(MessageReport.Reason.values)}")
    description = (description or "").strip()
    if len(description) > MAX_REPORT_DESCRIPTION:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"description is longer than {MAX_REPORT_DESCRIPTION} characters")
    message = access_message(reporter, conversation_id, message_id)
    if message.type in NOT_REPORTABLE or message.sender_id is None:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "group tips and notices cannot be reported")
    if message.sender_id == reporter.pk:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "you cannot report your own message")
    now = timezone.now()
    with transaction.atomic():
        # One reporter's reports are counted and written one at a time.
        User.objects.select_for_update().filter(pk=reporter.pk).values_list("pk", flat=True).first()
        mine = MessageReport.objects.filter(reporter=reporter)
        report = mine.filter(message=message, status=MessageReport.Status.OPEN).first()
        if report is not None:
            report.reason, report.description, report.updated_at = reason, description, now
            report.save(update_fields=["reason", "description", "updated_at"])
            return FiledReport(report, is_update=True)
        limit = conf.get("MAX_REPORTS_PER_HOUR")
        if mine.filter(created_at__gt=now - RATE_WINDOW).count() >= limit:
            raise ChatError(ErrorCode.FREQUENCY_LIMIT, f"at most {limit} reports an hour: try again later")
        report = MessageReport.objects.create(
            reporter=reporter, message=message, reason=reason, description=description, created_at=now, updated_at=now
        )
    return FiledReport(report, is_update=False)


def resolve_report(moderator: User, report: MessageReport, action_taken, note="") -> MessageReport:
    """Take the moderation step ``action_taken`` (``MessageReport.Action``: recalled, deleted,
    banned or dismissed) on the reported message as ``moderator`` (the app admin), and
    close every open report of that message with it. 10004 when the report is no longer
    open or the step is unknown; the step's own refusals otherwise (nothing written)."""
    if action_taken not in STEPS:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"unknown resolution {action_taken!r}")
    note = (note or "").strip()
    with transaction.atomic():
        report = (
            MessageReport.objects.select_for_update(of=("self",))
            .select_related("message__thread__group", "message__sender")
            .filter(pk=report.pk)
            .first()
        )
        if report is None or report.status != MessageReport.Status.OPEN:
            raise ChatError(ErrorCode.INVALID_PARAMETERS, "this report is already closed")
        message = report.message
        STEPS[action_taken](moderator, message, note)
        now = timezone.now()
        status = MessageReport.Status.DISMISSED if action_taken == Action.DISMISSED else MessageReport.Status.RESOLVED
        closed = MessageReport.objects.filter(message=message, status=MessageReport.Status.OPEN)
        report_ids = sorted(closed.values_list("pk", flat=True))
        closed.update(status=status, resolved_by=moderator, resolved_at=now, action_taken=action_taken, note=note)
        record_audit(
            moderator,
            "resolve_report",
            "message_report",
            report.pk,
            reason=note,
            details={
                "action_taken": action_taken,
                "reports": report_ids,
                "message": message.msg_id,
                "thread": message.thread.key,
                "sender": message.sender.username if message.sender else None,
            },
        )
        report.status, report.resolved_by, report.resolved_at = status, moderator, now
        report.action_taken, report.note = action_taken, note
    return report


def _recall(moderator, message, note):
    """Recalled in the moderator's name, C2C or group, at any age
    (``recall_message_as_moderator``, audited): every open tab gets MESSAGE_REVOKED."""
    from messaging.actions.message_moderation import recall_message_as_moderator

    recall_message_as_moderator(moderator, message, reason=note)


def _delete_for_everyone(moderator, message, note):
    """The message's content and files gone for everyone (``delete_message_for_everyone``,
    audited)."""
    from messaging.actions.message_moderation import delete_message_for_everyone

    delete_message_for_everyone(moderator, message, reason=note)


def _ban_sender(moderator, message, note):
    if message.sender is None:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "this message has no sender to ban")
    set_user_active(message.sender, False, moderator=moderator, reason=note)


def _dismiss(moderator, message, note):
    """Nothing to do to the message: the reports are closed as dismissed."""


# action_taken -> the moderation step it names.
STEPS = {
    Action.RECALLED: _recall,
    Action.DELETED: _delete_for_everyone,
    Action.BANNED: _ban_sender,
    Action.DISMISSED: _dismiss,
}
