"""getConversationGroupList: the names of the user's conversation groups, oldest first.
One query."""

from messaging.models import ConversationGroup, User


def get_conversation_group_list(user: User) -> list:
    return list(ConversationGroup.objects.filter(user=user).order_by("created_at", "pk").values_list("name", flat=True))
