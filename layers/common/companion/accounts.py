"""Accounts: register, log in, the profile, the GDPR export and deleting an account.

The request bodies are pydantic models here, so every rule about an e-mail, a password or
a timezone is written once and answered as a 422 by FastAPI.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from companion import db, retention, security, throttle
from companion.domain.streaks import counting_zone, is_valid_timezone
from companion.domain.student import StudentProfile, StudentWithPassword
from companion.domain.text import is_valid_text
from companion.errors import (
    AccountGone,
    EmailTaken,
    InvalidCredentials,
    InvalidInput,
    ServiceUnavailable,
)
from companion.formats import iso
from companion.observability import logger
from companion.repositories import attempts, students

if TYPE_CHECKING:  # the caller's type only: accounts do not depend on FastAPI
    from companion.deps import CurrentStudent

# The seed's format rule (the students table checks the same).
EMAIL_FORMAT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
MAX_EMAIL_CHARACTERS = 255
MAX_NAME_CHARACTERS = 255


def normalise_email(email: str) -> str:
    """How an address is stored and looked up: trimmed and lower-cased."""
    return email.strip().lower()


def _valid_email(value: str) -> str:
    email = normalise_email(value)
    # Length first: the format check then only ever runs on short text.
    if len(email) > MAX_EMAIL_CHARACTERS:
        raise ValueError(f"an e-mail address has at most {MAX_EMAIL_CHARACTERS} characters")
    if not EMAIL_FORMAT.fullmatch(email):
        raise ValueError("not a valid e-mail address (like name@example.com)")
    return email


def _valid_timezone(value: str) -> str:
    if not is_valid_timezone(value):
        raise ValueError("not a known IANA timezone name (like Europe/Paris or UTC)")
    return value


def _valid_full_name(value: str | None) -> str | None:
    if value is None:
        return None
    name = value.strip()
    return name or None


class RegisterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(examples=["ada@example.com"])
    password: str = Field(description="8 characters to 72 bytes (UTF-8)")
    full_name: str | None = Field(default=None, max_length=MAX_NAME_CHARACTERS)
    timezone: str = Field(default="UTC", examples=["America/New_York"])

    check_email = field_validator("email")(_valid_email)
    check_timezone = field_validator("timezone")(_valid_timezone)
    check_full_name = field_validator("full_name")(_valid_full_name)

    @field_validator("password")
    @classmethod
    def check_password(cls, value: str) -> str:
        # The rules apply to the password as it is hashed.
        value = security.normalise_password(value)
        if len(value) < security.MIN_PASSWORD_CHARACTERS:
            raise ValueError(
                f"a password needs at least {security.MIN_PASSWORD_CHARACTERS} characters"
            )
        if len(value.encode("utf-8")) > security.MAX_PASSWORD_BYTES:
            raise ValueError(
                f"a password may be at most {security.MAX_PASSWORD_BYTES} bytes in UTF-8 "
                "(fewer characters when it has accents or symbols)"
            )
        return value


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # No format rules here: whatever does not match an account is the same 401.
    email: str
    password: str

    check_email = field_validator("email")(normalise_email)


class ProfileChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, max_length=MAX_NAME_CHARACTERS)
    timezone: str = Field(default="UTC", examples=["Asia/Tokyo"])

    check_timezone = field_validator("timezone")(_valid_timezone)
    check_full_name = field_validator("full_name")(_valid_full_name)

    def changes(self) -> dict[str, Any]:
        """Only the fields the caller sent (an absent field keeps its value)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


# --- register and log in --------------------------------------------------------------------


def register(body: RegisterBody, client_address: str | None = None) -> dict[str, Any]:
    """Create a free student and its streak row; 409 when the e-mail is taken.

    Registrations count against the client address's limit (companion.throttle)."""
    limits = throttle.registration_limits(client_address)
    if limits:
        db.run(lambda conn: throttle.count_try(conn, limits), transaction=True)
    password_hash = security.hash_password(body.password)  # slow: outside the transaction
    student = db.run(
        lambda conn: students.create(
            conn,
            email=body.email,
            password_hash=password_hash,
            full_name=body.full_name,
            timezone=body.timezone,
        ),
        transaction=True,
    )
    if student is None:
        raise EmailTaken(
            "An account with this e-mail address already exists. Please log in instead."
        )
    return {"user_id": str(student.id), "email": student.email}


def authenticate(
    email: str, password: str, client_address: str | None = None
) -> StudentWithPassword:
    """The student with this e-mail and password: the one check of credentials, for
    /auth/login and any other sign-in (the OAuth sign-in page).

    - `email` as typed (trimmed and lower-cased here); `client_address` the caller's IP
      address, or None when unknown (then only the per-e-mail limit applies).
    - Throttled (companion.throttle): RateLimited (429) before any password is checked
      when the e-mail or the address is over its limit, even for the right password.
    - Timing-safe: an unknown e-mail costs the same bcrypt work as a wrong password, and
      both raise InvalidCredentials (401).
    Returns the student with their password hash.
    """
    email = normalise_email(email)
    if not (is_valid_text(email) and is_valid_text(password)):
        raise InvalidCredentials()  # no account has such an e-mail or password
    limits = throttle.login_limits(email, client_address)

    def count_and_read(conn):
        return throttle.count_try(conn, limits), students.get_by_email(conn, email)

    counted, student = db.run(count_and_read, transaction=True)
    try:
        if student is None:
            security.verify_against_dummy_hash(password)
            matched_form = None
        else:
            matched_form = security.match_password(password, student.password_hash)
    except BaseException:
        with contextlib.suppress(Exception):
            counted.uncount()  # our failure, not the caller's
        raise
    if matched_form is None:
        raise InvalidCredentials()
    counted.uncount()
    if matched_form != security.normalise_password(password):
        # Registered before passwords were normalised: store the NFC form's hash from now on.
        new_hash = security.hash_password(password)
        db.run(lambda conn: students.set_password_hash(conn, student.id, new_hash))
    return student


def login(body: LoginBody, client_address: str | None = None) -> dict[str, Any]:
    """An access token for the right e-mail and password (see `authenticate`)."""
    student = authenticate(body.email, body.password, client_address)
    token = security.issue_access_token(str(student.id), student.effective_tier())
    return {
        "access_token": token.token,
        "token_type": "bearer",
        "exp": token.expires_at,
        "expires_in": token.expires_in,
    }


# --- the profile ----------------------------------------------------------------------------


def profile_view(row: StudentProfile, now: datetime | None = None) -> dict[str, Any]:
    """The body of GET /v1/me from a students row."""
    return {
        "user_id": str(row.id),
        "email": row.email,
        "full_name": row.full_name,
        "timezone": counting_zone(row.timezone),
        "subscription_tier": row.subscription_tier or "free",
        "subscription_expires_at": iso(row.subscription_expires_at),
        "effective_tier": row.effective_tier(now),
        "created_at": iso(row.created_at),
        "last_active_at": iso(row.last_active_at),
    }


def profile(student: CurrentStudent) -> dict[str, Any]:
    return profile_view(student.profile)


def update_profile(student: CurrentStudent, body: ProfileChanges) -> dict[str, Any]:
    changes = body.changes()
    row = db.run(lambda conn: students.update_profile(conn, student.id, changes), transaction=True)
    if row is None:
        raise AccountGone()
    return profile_view(row)


# --- GDPR: export and delete ----------------------------------------------------------------


def export(
    student: CurrentStudent, attempts_limit: int | None = None, attempts_after: str | None = None
) -> dict[str, Any]:
    """Every row held about the student, machine-readable, never the password hash.

    Without a limit, every attempt. With one (a chat client must stay under its response
    size limit), one page of attempts and `quiz_attempts_next`, the cursor for the next.
    Attempts already moved to the archive (past the retention period) are listed apart, in
    `archived_quiz_attempts`, with the first page (not with pages after a cursor).
    """
    if attempts_after is not None and not attempts.looks_like_id(attempts_after):
        raise InvalidInput("attempts_after must be a quiz_attempts_next value from an export.")
    rows = db.run(
        lambda conn: students.export_rows(conn, student.id, attempts_limit, attempts_after),
        transaction=True,
    )
    if rows is None:
        raise AccountGone()
    page = rows["quiz_attempts"]
    following = None
    if attempts_limit is not None and len(page) > attempts_limit:
        page = page[:attempts_limit]
        following = str(page[-1]["attempt_id"])
    streak = rows["streak"]
    archived = None
    if attempts_after is None:
        archived = [_archived_attempt(row) for row in retention.archived_attempts(student.id)]
    return {
        "exported_at": iso(datetime.now(UTC)),
        "student": profile_view(rows["student"]),
        "chapter_progress": [_json_row(row) for row in rows["chapter_progress"]],
        "quiz_attempts": [_json_row(row) for row in page],
        "quiz_attempts_next": following,
        "archived_quiz_attempts": archived,
        "streak": _json_row(streak) if streak is not None else None,
        # The chat apps the student signed in to through OAuth: names and dates only.
        "signed_in_clients": [_json_row(row) for row in rows["signed_in_clients"]],
    }


def _archived_attempt(line: dict[str, Any]) -> dict[str, Any]:
    """An archive line (a quiz_attempts row as JSON) in the shape of an exported attempt."""
    return {
        "attempt_id": line["id"],
        "quiz_id": line["quiz_id"],
        "chapter_id": line["chapter_id"],
        "score": line["score"],
        "passed": line["passed"],
        "answers": line["answers_json"],
        "grading_details": line["grading_details_json"],
        "submitted_at": iso(datetime.fromisoformat(line["submitted_at"])),
        "idempotency_key": line.get("idempotency_key"),
    }


def delete_account(student: CurrentStudent) -> None:
    """Delete the student and everything about it: its archived attempts, every row (its
    e-mail's throttle counts too). Nothing of a student is cached.

    The archive is erased before the rows (a bucket that cannot be reached is a 503 with
    the account intact, so the student can try again) and once more after them, for lines a
    pruner run wrote in between (companion.retention).
    """
    retention.erase_archive(student.id)

    def delete(conn):
        email = students.delete(conn, student.id)
        throttle.forget_address(conn, email or student.profile.email)

    db.run(delete, transaction=True)
    try:
        retention.erase_archive(student.id)
    except ServiceUnavailable:
        logger.error(
            "archived attempts of a deleted student may remain",
            extra={"student_id": student.id},
        )


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON values: numbers as numbers, instants as ISO-8601 UTC, dates as dates."""
    return {name: _json_value(value) for name, value in row.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):  # e.g. the local dates a streak freeze was spent on
        return [_json_value(item) for item in value]
    return value
