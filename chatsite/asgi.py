"""ASGI entry point: HTTP goes to Django, ``/ws/chat/`` to the chat consumer.

The WebSocket stack checks the Origin against ALLOWED_HOSTS and authenticates
with the Django session cookie.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from messaging.routing import websocket_urlpatterns  # noqa: E402

http_app = django_asgi_app
if os.environ.get("CHAT_SERVE_STATIC", "1") == "1":
    # `make run` serves /static/ itself; a deployment behind a web server turns this off.
    http_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
