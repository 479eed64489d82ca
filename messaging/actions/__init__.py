"""The only code that changes chat state. Transports call these; nothing else writes."""

from messaging.actions.api_tokens import create_api_token, record_api_token_use, revoke_api_token
from messaging.actions.conversation_groups import (
    add_conversations_to_group,
    create_conversation_group,
    delete_conversation_group,
    delete_conversations_from_group,
    rename_conversation_group,
)
from messaging.actions.conversation_settings import mark_conversation, set_conversation_draft, set_message_remind_type
from messaging.actions.conversations import delete_conversation, pin_conversation
from messaging.actions.friends import (
    accept_friend_application,
    add_friend,
    add_to_blacklist,
    delete_friend,
    delete_friend_application,
    refuse_friend_application,
    remove_from_blacklist,
    set_allow_type,
    set_friend_application_read,
    update_friend,
)
from messaging.actions.group_admin import (
    change_group_owner,
    dismiss_group,
    mute_member,
    set_member_custom_fields,
    set_member_name_card,
    set_member_role,
    set_mute_all,
    update_group_profile,
)
from messaging.actions.group_applications import handle_group_application
from messaging.actions.groups import add_members, create_group, delete_members, join_group, post_custom_notice, quit_group
from messaging.actions.message_delete import clear_history, delete_messages
from messaging.actions.message_moderation import delete_message_for_everyone, recall_message_as_moderator
from messaging.actions.message_modify import modify_message
from messaging.actions.message_revoke import revoke_message
from messaging.actions.message_send import send_message
from messaging.actions.moderation import record_audit, update_chat_settings
from messaging.actions.presence import set_self_status
from messaging.actions.reactions import add_message_reaction, remove_message_reaction
from messaging.actions.read_receipts import send_message_read_receipt
from messaging.actions.read_state import mark_read, set_all_message_read
from messaging.actions.reports import report_message, resolve_report
from messaging.actions.retention import purge_history
from messaging.actions.users import (
    create_user,
    delete_account,
    end_session,
    import_account,
    import_accounts,
    password_changed,
    reset_password,
    set_user_active,
    update_user_profile,
)

__all__ = [
    "add_conversations_to_group",
    "create_conversation_group",
    "delete_conversation_group",
    "delete_conversations_from_group",
    "mark_conversation",
    "rename_conversation_group",
    "set_conversation_draft",
    "set_message_remind_type",
    "add_message_reaction",
    "remove_message_reaction",
    "accept_friend_application",
    "add_friend",
    "add_to_blacklist",
    "delete_friend",
    "delete_friend_application",
    "refuse_friend_application",
    "report_message",
    "resolve_report",
    "remove_from_blacklist",
    "set_allow_type",
    "set_friend_application_read",
    "update_friend",
    "add_members",
    "clear_history",
    "delete_messages",
    "modify_message",
    "set_all_message_read",
    "change_group_owner",
    "create_api_token",
    "create_group",
    "create_user",
    "delete_account",
    "delete_conversation",
    "delete_members",
    "delete_message_for_everyone",
    "dismiss_group",
    "handle_group_application",
    "import_account",
    "import_accounts",
    "join_group",
    "mark_read",
    "mute_member",
    "set_member_custom_fields",
    "set_member_name_card",
    "pin_conversation",
    "purge_history",
    "record_audit",
    "post_custom_notice",
    "quit_group",
    "record_api_token_use",
    "revoke_api_token",
    "recall_message_as_moderator",
    "reset_password",
    "revoke_message",
    "send_message",
    "send_message_read_receipt",
    "set_member_role",
    "set_mute_all",
    "end_session",
    "password_changed",
    "set_self_status",
    "set_user_active",
    "update_chat_settings",
    "update_group_profile",
    "update_user_profile",
]
