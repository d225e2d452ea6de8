"""The HTTP API at /api/v1: authentication, error shapes, and every area's router.

Errors are ``application/problem+json`` (RFC 9457) with a ``code`` and, for
invalid input, ``errors``: a list of ``{path, message}`` where ``path`` names
the field in the request's own camelCase terms.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from pydantic.alias_generators import to_camel

from tidings.audience import api as audience_api
from tidings.audience import api_imports as imports_api
from tidings.audience import api_segments as segments_api
from tidings.audience import api_suppressions as suppressions_api
from tidings.campaigns import api as campaigns_api
from tidings.campaigns.idempotency import KEY_PATTERN, Answer, idempotent
from tidings.content import api as content_api
from tidings.core import selectors, services
from tidings.core.api import keys as api_keys_router
from tidings.core.api import router as project_router
from tidings.core.errors import AuthenticationFailed, FieldError, NotFound, TidingsError
from tidings.core.models import ApiKey
from tidings.drafts import api as drafts_api
from tidings.hooks import api as hooks_api
from tidings.sending import api as sending_api
from tidings.sending import api_domains
from tidings.tracking import api as tracking_api

logger = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
API_PREFIX = "/api/"
API_V1 = "/api/v1/"
# The WSGI environ key under which `tidings` commands run in-process (tidings.cli_remote.in_process)
# pass the project they act for. A dotted name: HTTP headers arrive as HTTP_*, so no request can set it.
IN_PROCESS_PROJECT = "tidings.in_process_project"


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer tdk_…``; ``request.auth`` becomes the ApiKey (with its project)."""

    openapi_description = "An API key from Settings → API keys (or `tidings apikey create`)."

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        project = request.META.get(IN_PROCESS_PROJECT)
        if project is not None:
            # The command line, which holds the database anyway: an unsaved key, never touched or stored.
            return ApiKey(project=project, name="command line", prefix="cli")
        known = getattr(request, "tidings_api_key", None)
        if known is not None:
            return known  # found (and its use recorded) by idempotency_middleware from this header
        key = selectors.api_key_get_active(raw=token.strip())
        if key is not None:
            services.api_key_touch(api_key=key)
        return key


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error (RFC 9457). `errors` lists the invalid fields of a 422.",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "example": "Invalid input"},
        "status": {"type": "integer", "example": 422},
        "code": {"type": "string", "example": "validation_error"},
        "detail": {"type": "string", "example": "name: must not be empty"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {
                    "path": {"type": "string", "example": "name"},
                    "message": {"type": "string", "example": "must not be empty"},
                },
            },
        },
    },
}
# The errors any authenticated operation can answer with, besides its own.
COMMON_ERRORS = {
    "400": "The body is not valid JSON, or the request is malformed.",
    "401": "No key, an unknown key or a revoked key.",
    "404": "No such object in this key's project.",
    "422": "Invalid input; `errors` names each field.",
}


class TidingsApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem_ref = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in COMMON_ERRORS.items():
                    responses.setdefault(status, {"description": description, "content": problem_ref})
        for operations in schema.get("paths", {}).values():
            post = operations.get("post")
            if post is not None:
                post.setdefault("parameters", []).append(IDEMPOTENCY_HEADER)
                post["responses"].setdefault(
                    "409",
                    {
                        "description": "The Idempotency-Key was used with another body, or the "
                        "first request with it is still being worked on.",
                        "content": problem_ref,
                    },
                )
        return schema


api = TidingsApi(
    title="Tidings API",
    version="1",
    description="Contacts, content, campaigns and sending for one Tidings project per API key.",
    auth=ApiKeyAuth(),
    urls_namespace="api",
    docs_url="/docs",
)


def problem(
    request: HttpRequest, status: int, code: str, title: str, detail: str, **extra: Any
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    body.update(extra)
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM
    return response


def _errors(errors: list[FieldError]) -> list[dict[str, str]]:
    return [{"path": e.path, "message": e.message} for e in errors]


@api.exception_handler(TidingsError)
def tidings_error(request: HttpRequest, exc: TidingsError) -> HttpResponse:
    extra: dict[str, Any] = {}
    if hasattr(exc, "errors"):
        extra["errors"] = _errors(exc.errors)
    response = problem(request, exc.status, exc.code, exc.title, exc.detail, **extra)
    if getattr(exc, "retry_after", None):
        response["Retry-After"] = str(exc.retry_after)
    return response


# Where pydantic's location starts with the parameter's kind and name
# (("body", "payload", "firstName")), the client only knows "firstName".
_LOCATION_KINDS = {"body", "query", "path", "header", "cookie", "form", "file"}


def _path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATION_KINDS:
        kind = parts.pop(0)
        if kind == "body" and parts:
            parts.pop(0)  # the view's parameter name (payload); the client never saw it
    return ".".join(to_camel(p) if isinstance(p, str) else str(p) for p in parts)


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [FieldError(_path(e.get("loc", ())), _message(e)) for e in exc.errors]
    detail = "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in errors)
    return problem(request, 422, "validation_error", "Invalid input", detail, errors=_errors(errors))


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    error = AuthenticationFailed("send a valid API key as 'Authorization: Bearer <key>'")
    response = tidings_error(request, error)
    response["WWW-Authenticate"] = 'Bearer realm="tidings"'
    return response


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return tidings_error(request, NotFound(str(exc) or None))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        detail = "the request body is not valid JSON" if "parse" in str(exc) else str(exc)
        return problem(request, 400, "bad_request", "Bad request", detail)
    return problem(request, exc.status_code, "http_error", HTTPStatus(exc.status_code).phrase, str(exc))


@api.exception_handler(RequestDataTooBig)
def body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return problem(request, 413, "payload_too_large", "Payload too large", f"the body exceeds {limit} bytes")


@api.exception_handler(SuspiciousOperation)
def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    return problem(request, 400, "bad_request", "Bad request", "the request was refused as malformed")


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled API error on %s %s", request.method, request.path)
    return problem(
        request,
        500,
        "server_error",
        "Server error",
        "an unexpected error occurred; it has been logged",
    )


def problem_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    """Under /api/ every error is problem+json, also those raised before a view runs
    (an unknown path, a method the path does not take)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith(("application/json", PROBLEM))
        ):
            status = response.status_code
            phrase = HTTPStatus(status).phrase
            detail = {
                400: "the request was refused as malformed",
                404: f"no API endpoint at {request.path}",
                405: f"{request.method} is not allowed here; allowed: {response.get('Allow', 'none')}",
            }.get(status, phrase)
            code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
            replaced = problem(request, status, code, phrase, detail)
            if "Allow" in response:
                replaced["Allow"] = response["Allow"]
            return replaced
        return response

    return middleware


IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID). The same key and body within 24 hours get the first "
    "answer again, without doing the work twice; the same key with another body is a 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
}


class _Unstored(Exception):
    """The view answered with an error (or not with JSON): no answer is stored, and the key is free
    for the request to be sent again."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _fingerprint_body(request: HttpRequest) -> bytes:
    """What identifies the request's content: its body, or for an upload its fields and files."""
    if not request.content_type.startswith("multipart/"):
        return request.body
    digest = hashlib.sha256()
    try:
        fields, uploads = request.POST, request.FILES
    except MultiPartParserError as exc:
        raise TidingsError(f"the multipart body cannot be read: {exc}") from exc
    for name, value in sorted(fields.lists()):
        digest.update(json.dumps([name, value]).encode())
    for name, files in sorted(uploads.lists()):
        for upload in files:
            digest.update(json.dumps([name, upload.name, upload.size]).encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.digest()


def idempotency_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[..., HttpResponse]:
    """``Idempotency-Key`` on every POST of the API (``tidings.campaigns.idempotency``): a repeat gets
    the stored answer with ``Idempotent-Replayed: true``. Error answers (and answers that are not
    JSON) are not stored: the request may be fixed and sent again."""

    def middleware(request: HttpRequest) -> HttpResponse:
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method != "POST" or not request.path.startswith(API_V1):
            return get_response(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        api_key = selectors.api_key_get_active(raw=token.strip()) if scheme.lower() == "bearer" else None
        if api_key is None:
            return get_response(request)  # the view answers 401
        services.api_key_touch(api_key=api_key)
        request.tidings_api_key = api_key  # type: ignore[attr-defined]
        worked: list[HttpResponse] = []

        def work() -> tuple[int, Any]:
            response = get_response(request)
            if response.status_code >= 400 or not response.get("Content-Type", "").startswith(
                "application/json"
            ):
                raise _Unstored(response)
            worked.append(response)
            return response.status_code, json.loads(response.content) if response.content else None

        def replay(answer: Answer) -> HttpResponse:
            if answer.response is None:  # 204 No Content
                replayed = HttpResponse(status=answer.status)
            else:
                replayed = api.create_response(request, answer.response, status=answer.status)
            replayed["Idempotent-Replayed"] = "true"
            return replayed

        try:
            answer = idempotent(
                project=api_key.project,
                endpoint=request.path[:100],
                key=key,
                body=_fingerprint_body(request),
                work=work,
            )
        except _Unstored as refused:
            return refused.response
        except TidingsError as exc:
            return tidings_error(request, exc)
        except RequestDataTooBig as exc:
            return body_too_large(request, exc)
        return replay(answer) if answer.replayed else worked[-1]

    return middleware


api.add_router("/", project_router)
api.add_router("/", tracking_api.marketing)
api.add_router("/api-keys", api_keys_router)
api.add_router("/contacts", audience_api.contacts)
api.add_router("/tags", audience_api.tags)
api.add_router("/topics", audience_api.topics)
api.add_router("/segments", segments_api.router)
api.add_router("/imports", imports_api.router)
api.add_router("/designs", content_api.router)
api.add_router("/personas", drafts_api.personas)
api.add_router("/drafts", drafts_api.drafts)
api.add_router("/connections", sending_api.router)
api.add_router("/domains", api_domains.router)
api.add_router("/campaigns", campaigns_api.campaigns)
api.add_router("/sending", campaigns_api.sending)
api.add_router("/suppressions", suppressions_api.router)
api.add_router("/alerts", tracking_api.alerts)
api.add_router("/webhooks", hooks_api.router)
