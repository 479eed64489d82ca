from messaging.models.api_tokens import ApiToken
from messaging.models.applications import GroupApplication
from messaging.models.conversations import Conversation, ConversationGroup
from messaging.models.friends import Block, Friend, FriendApplication
from messaging.models.groups import Group, GroupMember
from messaging.models.messages import (
    GroupAtMention,
    Message,
    MessageDeletion,
    MessageEdit,
    MessageReaction,
    MessageReceiver,
)
from messaging.models.moderation import AuditLogEntry, ChatSettings, MessageReport
from messaging.models.threads import Thread
from messaging.models.uploads import Upload
from messaging.models.users import User

__all__ = [
    "AuditLogEntry",
    "ChatSettings",
    "ApiToken",
    "Block",
    "Conversation",
    "ConversationGroup",
    "Friend",
    "FriendApplication",
    "Group",
    "GroupApplication",
    "GroupAtMention",
    "MessageDeletion",
    "GroupMember",
    "Message",
    "MessageEdit",
    "MessageReaction",
    "MessageReceiver",
    "MessageReport",
    "Thread",
    "Upload",
    "User",
]
