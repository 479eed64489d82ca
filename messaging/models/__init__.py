from messaging.models.conversations import Conversation
from messaging.models.groups import Group, GroupMember
from messaging.models.messages import Message
from messaging.models.threads import Thread
from messaging.models.users import User

__all__ = ["Conversation", "Group", "GroupMember", "Message", "Thread", "User"]
