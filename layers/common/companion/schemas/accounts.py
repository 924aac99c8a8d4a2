"""Bodies of the accounts routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from companion.schemas import ExtensibleModel


class Registered(ExtensibleModel):
    user_id: str
    email: str


class AccessTokenBody(ExtensibleModel):
    access_token: str
    token_type: Literal["bearer"]
    exp: int = Field(description="When the token expires, in Unix seconds.")
    expires_in: int = Field(description="Seconds until the token expires.")


class Profile(ExtensibleModel):
    user_id: str
    email: str
    full_name: str | None
    timezone: str
    subscription_tier: Literal["free", "premium"]
    subscription_expires_at: str | None
    effective_tier: Literal["free", "premium"] = Field(
        description="premium only while the plan is premium and not expired."
    )
    created_at: str | None
    last_active_at: str | None


class DataExport(ExtensibleModel):
    exported_at: str
    student: Profile
    chapter_progress: list[dict[str, Any]]
    quiz_attempts: list[dict[str, Any]]
    quiz_attempts_next: str | None = Field(
        description="With attempts_limit: pass it as attempts_after for the next page; "
        "null at the end."
    )
    archived_quiz_attempts: list[dict[str, Any]] | None = Field(
        default=None,
        description="Attempts older than the retention period, moved to the archive (same "
        "fields as quiz_attempts); with the first page only, null after a cursor.",
    )
    streak: dict[str, Any] | None
    signed_in_clients: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The chat apps you signed in to (client_name, client_id, "
        "first_signed_in_at, last_used_at, revoked); never a secret.",
    )
