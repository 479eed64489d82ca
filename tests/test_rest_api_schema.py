"""schemathesis against /api/v1/openapi.json (docs/API.md): generated calls, valid and not,
with a valid token; no answer is a 5xx and every answer matches the schema (its status is
documented, its body has the documented shape)."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from messaging import actions
from tests.chat_helpers import fast_passwords, make_group, send_text  # noqa: F401

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def token(users, settings):
    """A token with every scope, and accounts, a group and messages for the calls to find."""
    settings.CHAT = {**settings.CHAT, "API_RATE": "100000/s"}
    system = actions.create_user("administrator")
    make_group(users["alice"], "Public", "g1", members=["bob", "carol"])
    send_text(users["alice"], "bob")
    return actions.create_api_token("fuzz", scopes=["users", "messages", "groups", "moderation"], identifier=system).secret


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_call_answers_5xx_or_outside_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
