"""The only code that changes chat state. Transports call these; nothing else writes."""

from messaging.actions.conversations import delete_conversation, pin_conversation
from messaging.actions.groups import add_members, create_group, delete_members, join_group, quit_group
from messaging.actions.message_send import send_message
from messaging.actions.read_state import mark_read
from messaging.actions.users import set_user_active

__all__ = [
    "add_members",
    "create_group",
    "delete_conversation",
    "delete_members",
    "join_group",
    "mark_read",
    "pin_conversation",
    "quit_group",
    "send_message",
    "set_user_active",
]
