"""ASGI entry point: HTTP goes to Django (static files included, chatsite/staticfiles.py),
``/ws/chat/`` to the chat consumer.

The WebSocket stack checks the Origin against ALLOWED_HOSTS and authenticates
with the Django session cookie (chatsite/socket_auth.py).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from chatsite.socket_auth import SessionAuthMiddleware  # noqa: E402
from messaging.routing import websocket_urlpatterns  # noqa: E402

# Static files are served by WhiteNoise, a middleware (chatsite/staticfiles.py), from
# STATIC_ROOT as `collectstatic` filled it; not by Django's development handler.
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(SessionAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
