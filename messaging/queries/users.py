"""getUserProfile: one query."""

from messaging import serialize
from messaging.errors import ChatError, ErrorCode
from messaging.models import User

MAX_PROFILES = 100


def get_user_profiles(user_ids) -> list:
    """Profiles of the existing, active users among ``user_ids``, in the order asked."""
    if not isinstance(user_ids, list) or not all(isinstance(u, str) for u in user_ids) or len(user_ids) > MAX_PROFILES:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "userIDList must be a list of at most 100 user IDs")
    found = {u.username: u for u in User.objects.filter(username__in=user_ids, is_active=True)}
    return [serialize.user_profile(found[u]) for u in dict.fromkeys(user_ids) if u in found]
