"""Every refusal of the server API as ``{"ActionStatus": "FAIL", "ErrorCode", "ErrorInfo"}``
with the SDK's / server API's code (``messaging.errors``) and an HTTP status that says
the same (docs/API.md §Errors). Bad input is a 4xx, never a 500."""

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError

from messaging.errors import ChatError, ErrorCode

NOT_FOUND = {
    ErrorCode.GROUP_NOT_FOUND,
    ErrorCode.INVALID_USER_ID,
    ErrorCode.ACCOUNT_NOT_FOUND,
    ErrorCode.ACCOUNT_DOES_NOT_EXIST,
    ErrorCode.MESSAGE_NOT_FOUND,
    ErrorCode.USER_NOT_IN_GROUP,
    ErrorCode.CONVERSATION_NOT_FOUND,
}
FORBIDDEN = {
    ErrorCode.PERMISSION_DENIED,
    ErrorCode.MUTED_IN_GROUP,
    ErrorCode.MUTED,
    ErrorCode.NOT_FRIENDS,
    ErrorCode.IN_PEER_BLACKLIST,
    ErrorCode.WORK_GROUP_NOT_DISMISSABLE,
}
CONFLICT = {ErrorCode.GROUP_ID_IN_USE, ErrorCode.ALREADY_MEMBER, ErrorCode.GROUP_FULL}
TOO_MANY = {ErrorCode.GROUP_SEND_RATE_EXCEEDED, ErrorCode.FREQUENCY_LIMIT}
# Documented on every operation (the OpenAPI schema lists them; schemathesis holds us to it).
ERROR_STATUSES = frozenset({400, 401, 403, 404, 409, 413, 429})
# 70003: the vendor's "UserSig invalid", its refusal of a credential (TIM.md §8.3).
BAD_CREDENTIAL = 70003


def http_status(code: int) -> int:
    if code in NOT_FOUND:
        return 404
    if code in FORBIDDEN:
        return 403
    if code in CONFLICT:
        return 409
    if code in TOO_MANY:
        return 429
    return 400


def body(code: int, info: str) -> dict:
    return {"ActionStatus": "FAIL", "ErrorCode": int(code), "ErrorInfo": info}


def install(api):
    """Replace django-ninja's default error answers with the API's."""

    def respond(request, code, info, status):
        return api.create_response(request, body(code, info), status=status)

    @api.exception_handler(ChatError)
    def chat_error(request, error: ChatError):
        return respond(request, error.code, error.message, http_status(error.code))

    @api.exception_handler(ValidationError)
    def invalid(request, error: ValidationError):
        first = error.errors[0] if error.errors else {}
        where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
        return respond(request, ErrorCode.INVALID_PARAMETERS, f"{where}: {first.get('msg', 'invalid')}", 400)

    @api.exception_handler(HttpError)
    def http_error(request, error: HttpError):
        if isinstance(error, AuthenticationError):
            return respond(request, BAD_CREDENTIAL, "a valid API token is required (Authorization: Bearer ...)", 401)
        if isinstance(error, AuthorizationError):
            return respond(request, ErrorCode.PERMISSION_DENIED, error.message, 403)
        if isinstance(error, Throttled):
            return respond(request, ErrorCode.FREQUENCY_LIMIT, "too many requests with this token", 429)
        if error.status_code == 400:  # django-ninja's "Cannot parse request body"
            return respond(request, ErrorCode.JSON_PARSE_ERROR, "the body is not valid JSON", 400)
        return respond(request, ErrorCode.INVALID_PARAMETERS, error.message, error.status_code)

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, error):
        # Over DATA_UPLOAD_MAX_MEMORY_SIZE: refused by Django when django-ninja reads the body.
        return respond(request, ErrorCode.BODY_TOO_LONG, "the request body is too large", 413)

    @api.exception_handler(Http404)
    def not_found(request, error):
        return respond(request, ErrorCode.BAD_API_NAME, "no such API", 404)
