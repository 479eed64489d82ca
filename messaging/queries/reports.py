"""Reads for the moderators' queue of reports (the admin): a reported message in its context.

The moderator sees every message of the thread (targeted group messages and recalled
ones included, their kept content too): the admin is the app admin, not a viewer.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, prefetch_related_objects

from messaging.models import Message, Upload

CONTEXT_AROUND = 5


@dataclass(frozen=True)
class MessageContext:
    before: list  # the messages just before, oldest first
    message: Message
    after: list  # the messages just after, oldest first

    @property
    def messages(self):
        return [*self.before, self.message, *self.after]


def message_context(message: Message, around=CONTEXT_AROUND) -> MessageContext:
    """``message`` with the ``around`` messages before and after it in its own thread, each with
    its sender and attachments. Four queries whatever the thread's size: the messages
    before, after, the reported one (fresh, with its sender), and every attachment."""
    thread_messages = Message.objects.filter(thread_id=message.thread_id).select_related("sender", "revoker")
    attachments = Prefetch("attachments", queryset=Upload.objects.order_by("pk"))
    before = list(thread_messages.filter(seq__lt=message.seq).order_by("-seq")[:around])
    after = list(thread_messages.filter(seq__gt=message.seq).order_by("seq")[:around])
    center = thread_messages.get(pk=message.pk)
    everything = [*reversed(before), center, *after]
    prefetch_related_objects(everything, attachments)
    return MessageContext(everything[: len(before)], center, everything[len(before) + 1 :])
