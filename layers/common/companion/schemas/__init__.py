"""What each route answers, for the functions' OpenAPI schemas (and schemathesis, which checks
every response against them). Documentation only: routes name these in their `Operation`
(companion.web), so a body is never filtered or reshaped by them; API.md lets fields be
added, so every model allows more than it lists. One module per function's share, so each
imports only its own."""

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


# What each error status means, for the schemas and the Actions document; a route may say
# more about one of its own (`Operation.error_notes` in companion.web).
ERROR_DESCRIPTIONS = {
    400: "The body is not a JSON object (code bad_request).",
    401: (
        "The access token is missing, expired or invalid, or the account no longer exists "
        "(code unauthorized): the student must sign in again."
    ),
    403: (
        "The chapter, section or quiz is in the premium plan and the student does not have "
        "it (code premium_required): relay detail and mention upgrading."
    ),
    404: "No such chapter, section, quiz or attempt, or no chapter there (code not_found).",
    409: "That e-mail address is already registered (code email_taken).",
    413: "The request body is larger than 64 KiB (code payload_too_large).",
    422: (
        "A field is invalid: detail is a list naming each field and what is wrong, or a "
        "sentence with a code."
    ),
    429: "Too many failed logins or registrations (code rate_limited): wait Retry-After seconds.",
    503: "The service is briefly unavailable (code unavailable): try again shortly.",
}
