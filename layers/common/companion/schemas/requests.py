"""Request bodies of the quiz and progress routes (the accounts routes' are in
companion.accounts, beside their rules). Kept apart from the response models so a function
imports only these at cold start."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]+$"

IdempotencyKey = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=255,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description=(
            "A fresh random value per submission (e.g. a UUID); send the same value again "
            "when retrying a call that timed out, and the original result is replayed."
        ),
    ),
]

ANSWERS_DESCRIPTION = (
    'Answers by question id: multiple-choice as the option letter ("b") or text, '
    "true-false as true/false, short-answer as text."
)


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any] = Field(description=ANSWERS_DESCRIPTION)
    idempotency_key: IdempotencyKey = None


class ReadingTime(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Strict: a JSON integer, never true, "5" or 5.0.
    minutes: int = Field(strict=True, ge=1, le=240, description="Minutes spent reading, 1 to 240.")
