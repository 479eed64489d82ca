"""setSelfStatus: the user's custom status text (presence, not a chat model: it lives in
the presence store, messaging/presence.py). The change reaches the user's subscribers and
the user's own tabs as USER_STATUS_UPDATED."""

from messaging import events, presence, rules
from messaging.errors import ChatError, ErrorCode


def set_self_status(user, custom_status: str) -> dict:
    """Store the text (``""`` clears it) and announce it; returns the SDK's
    ``{userID, statusType, customStatus}``. 10004 over 100 bytes."""
    if len(custom_status.encode("utf-8", "surrogatepass")) > rules.MAX_CUSTOM_STATUS_BYTES:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"customStatus is at most {rules.MAX_CUSTOM_STATUS_BYTES} bytes (UTF-8)")
    store = presence.store()
    store.set_custom_status(user.pk, custom_status)
    [status] = store.statuses([user.pk], presence.clock())
    item = presence.status_item(user.username, status)
    events.dispatch_on_commit(*presence.status_message(user.pk, item, to_self=True))
    return {"userID": user.username, "statusType": status.status_type, "customStatus": status.custom_status}
