"""How values leave the API: instants as ISO-8601 UTC with a Z, numbers as JSON numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def number(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)
