"""The senders' group name cards (``Message.nameCard``) for a page of group messages.

A message shows its sender's current card in the group, as the member list does: a
card is looked up when a page is read, not copied onto each message at send time
(a copy would keep a stale card in the history and need a column per message). The
cost is one query per page, whatever its size, and none for a page without group
messages; a live send takes the card from the membership its check already read.
"""

from messaging.models import GroupMember


def name_cards(pairs) -> dict:
    """``{(thread_id, sender_id): nameCard}`` for the non-empty cards of the given
    (group thread, sender) pairs; one query, none when there are no pairs."""
    pairs = set(pairs)
    if not pairs:
        return {}
    rows = (
        GroupMember.objects.filter(
            group__thread_id__in={thread for thread, _ in pairs}, user_id__in={sender for _, sender in pairs}
        )
        .exclude(name_card="")
        .values_list("group__thread_id", "user_id", "name_card")
    )
    return {(thread, user): card for thread, user, card in rows if (thread, user) in pairs}
