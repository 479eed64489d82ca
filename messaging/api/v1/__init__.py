"""The server REST API, version 1 (docs/API.md)."""

from messaging.api.v1.routes import api

__all__ = ["api"]
