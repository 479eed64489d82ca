"""getMyProfile and getUserProfile: one query each."""

from messaging import serialize
from messaging.errors import ChatError, ErrorCode
from messaging.models import User

MAX_PROFILES = 100


def get_my_profile(user: User) -> dict:
    """The user's own Profile, read again (a socket's user object holds only what it sends with)."""
    return serialize.profile(User.objects.get(pk=user.pk))


def get_user_profiles(user_ids) -> list:
    """Profiles of the existing, active users among ``user_ids``, in the order asked; an
    unknown or banned ID is left out. More than 100 IDs: 10004 (the vendor pulls at most
    100 profiles a call)."""
    if not isinstance(user_ids, list) or not all(isinstance(u, str) for u in user_ids) or len(user_ids) > MAX_PROFILES:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"userIDList must be a list of at most {MAX_PROFILES} user IDs")
    found = {u.username: u for u in User.objects.filter(username__in=user_ids, is_active=True)}
    return [serialize.profile(found[u]) for u in dict.fromkeys(user_ids) if u in found]
