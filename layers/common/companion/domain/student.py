"""A student as stored (the students table, without the password hash), and the plan they
have now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from companion.domain.access import effective_tier


@dataclass(frozen=True)
class StudentProfile:
    id: UUID
    email: str
    full_name: str | None
    timezone: str | None
    subscription_tier: str | None
    subscription_expires_at: datetime | None
    created_at: datetime
    last_active_at: datetime | None

    def effective_tier(self, now: datetime | None = None) -> str:
        """The plan in force at `now` (default: this instant)."""
        return effective_tier(
            self.subscription_tier, self.subscription_expires_at, now or datetime.now(UTC)
        )


@dataclass(frozen=True)
class StudentWithPassword(StudentProfile):
    password_hash: str | None = None
