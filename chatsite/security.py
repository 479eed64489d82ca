"""Login throttling (django-axes): the lockout's length grows with the failures.

Five wrong passwords in a row for one user ID from one address lock that pair out
for a minute; each further attempt while locked doubles the wait (2, 4, 8 ... up to
60 minutes), and a success resets the count. Only the pair is locked: the same user
from another address, and other users from the same address, still sign in, so
nobody can lock a colleague out by guessing at their ID. The counts are rows in the
database (axes' AccessAttempt): every Daphne process sees the same ones.
"""

from datetime import timedelta

from messaging.ratelimit import request_address

LOGIN_FAILURE_LIMIT = 5
MAX_COOLOFF_MINUTES = 60


def login_cooloff(request) -> timedelta:
    """The lockout's length for this request's user ID and address (axes' AXES_COOLOFF_TIME)."""
    from axes.models import AccessAttempt

    failures = 0
    if request is not None:
        username = request.POST.get("username", "") if request.method == "POST" else ""
        failures = (
            AccessAttempt.objects.filter(username=username, ip_address=getattr(request, "axes_ip_address", None))
            .values_list("failures_since_start", flat=True)
            .first()
            or 0
        )
    return timedelta(minutes=min(MAX_COOLOFF_MINUTES, 2 ** max(0, failures - LOGIN_FAILURE_LIMIT)))


def client_ip(request):
    """The address axes counts failures by: the client's, behind CHAT_PROXY_COUNT proxies
    too (the same address as the chat's rate limits, messaging/ratelimit.py)."""
    return request_address(request)


def lockout_response(request, original_response=None, credentials=None):
    """The lockout page (429) in the site's look, saying how long to wait."""
    from django.shortcuts import render

    minutes = max(1, round(login_cooloff(request).total_seconds() / 60))
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
