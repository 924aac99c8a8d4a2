"""Errors a student can be shown: each has a status, a machine-readable code and a sentence."""

from __future__ import annotations


class ApiError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class Unauthorized(ApiError):
    status_code = 401
    code = "unauthorized"

    def __init__(
        self, detail: str = "Please log in again: your session is missing or has expired."
    ) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class AccountGone(Unauthorized):
    """The token is valid but its student was deleted (also while the request ran)."""

    def __init__(self) -> None:
        super().__init__("This account no longer exists. Please register again.")


class InvalidToken(Unauthorized):
    def __init__(self) -> None:
        super().__init__("The access token is not valid. Please log in again.")


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("The e-mail address or password is not correct.")


class PremiumRequired(ApiError):
    status_code = 403
    code = "premium_required"


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class EmailTaken(ApiError):
    status_code = 409
    code = "email_taken"


class IdempotencyKeyReused(ApiError):
    status_code = 422
    code = "idempotency_key_reused"


class InvalidInput(ApiError):
    """A field that fails a rule the schema cannot express (e.g. unknown question id)."""

    status_code = 422
    code = "invalid_input"


class RateLimited(ApiError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_seconds))})


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "unavailable"
