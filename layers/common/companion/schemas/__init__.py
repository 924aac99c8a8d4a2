"""What each route answers, for the functions' OpenAPI schemas (and schemathesis, which checks
every response against them). Documentation only: routes declare these through `responses=`,
so a body is never filtered or reshaped by them; API.md lets fields be added, so every model
allows more than it lists. One module per function's share, so each imports only its own."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ExtensibleModel(BaseModel):
    """A documented body that may carry fields it does not list (API.md allows additions)."""

    model_config = ConfigDict(extra="allow")


class ErrorBody(ExtensibleModel):
    detail: str | list[dict[str, Any]] = Field(
        description="A sentence to relay to the student (a list of field problems for some 422s)."
    )
    code: str | None = Field(
        default=None,
        description=(
            "bad_request, unauthorized, invalid_credentials, premium_required, not_found, "
            "email_taken, payload_too_large, invalid_input, idempotency_key_reused, "
            "rate_limited, unavailable or internal."
        ),
    )


_ERROR_TEXT = {
    400: "The body is not JSON or not a JSON object (code bad_request).",
    401: "No valid access token, or its student no longer exists: log in again.",
    403: "A premium chapter, section or quiz and the student is on the free plan "
    "(code premium_required).",
    404: "No such chapter, section, quiz or attempt (code not_found).",
    409: "The e-mail is already registered (code email_taken).",
    413: "The body is over 64 KiB (code payload_too_large).",
    422: "A field is invalid: FastAPI's list of problems, or a sentence with code "
    "invalid_input / idempotency_key_reused.",
    429: "Too many failed logins for this e-mail: wait Retry-After seconds (code rate_limited).",
    503: "The database or content store is unreachable; try again shortly (code unavailable).",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the error statuses a route can answer (503 always)."""
    return {
        status: {"model": ErrorBody, "description": _ERROR_TEXT[status]}
        for status in sorted({*statuses, 503})
    }


def ok(model: type[BaseModel], description: str, status: int = 200) -> dict[int, dict[str, Any]]:
    return {status: {"model": model, "description": description}}
