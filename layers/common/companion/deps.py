"""FastAPI dependencies shared by every function: who is calling, and what they may open."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPBearer

from companion import db
from companion.domain.access import can_open
from companion.domain.chapter_progress import ChapterProgress
from companion.domain.streaks import StoredStreak, already_counted, counting_zone, local_date
from companion.domain.student import StudentProfile
from companion.errors import AccountGone, InvalidToken, Unauthorized
from companion.repositories import attempts, progress, streaks, students
from companion.repositories.attempts import LatestAttempt
from companion.repositories.students import CallerRows
from companion.resources import base_url, rest_resource
from companion.security import student_id_from_token
from companion.settings import get_settings

# How the schema describes the token. Requests do not run it: the caller's dependency reads
# the header itself (a sub-dependency cost every authenticated request ~0.2 ms of solving);
# companion.web adds it to the routes that need a caller when the schema is built.
bearer = HTTPBearer(auto_error=False, description="The access token from POST /auth/login.")


@dataclass
class CurrentStudent:
    id: str
    profile: StudentProfile
    effective_tier: str
    streak_read: bool = False  # whether `streak` was read with the caller
    streak_as_read: StoredStreak | None = None  # None: no streak row (or not read)
    progress_read: dict[str, ChapterProgress] | None = None  # as read with the caller
    latest_attempts_read: dict[str, LatestAttempt] | None = None  # as read with the caller
    # Not read for this request: the profile and streak as this Lambda instance last read them
    # (StudentAsLastSeen). A decision taken from them holds only where the write acting on it
    # finds them unchanged.
    as_last_seen: bool = False

    @property
    def streak(self) -> StoredStreak | None:
        """The caller's streak (None without a streak row): as read with the caller
        (StudentWithStreak and the callers built on it), else read now."""
        if not self.streak_read:
            self.streak_as_read = db.run(lambda conn: streaks.get(conn, self.id))
            self.streak_read = True
        return self.streak_as_read

    @property
    def timezone(self) -> str:
        return counting_zone(self.profile.timezone)

    def may_open(self, access_tier: str) -> bool:
        return can_open(access_tier, self.effective_tier)

    @property
    def streak_zone(self) -> str:
        """The timezone the caller's streak days are counted in."""
        return counting_zone(self.streak.timezone if self.streak else None, self.timezone)

    @property
    def progress(self) -> dict[str, ChapterProgress]:
        """The caller's chapter_progress rows by chapter id: as read with the caller
        (StudentWithProgress), else read now."""
        if self.progress_read is None:
            self.progress_read = db.run(lambda conn: progress.for_student(conn, self.id))
        return self.progress_read

    def latest_attempts(self, chapter_ids: list[str]) -> dict[str, LatestAttempt]:
        """Each chapter's newest attempt by chapter id (chapters never attempted absent): as
        read with the caller (StudentWithProgressReport), else read now."""
        if self.latest_attempts_read is None:
            self.latest_attempts_read = db.run(
                lambda conn: attempts.latest_per_chapter(conn, self.id, chapter_ids)
            )
        return self.latest_attempts_read

    @property
    def as_seen(self) -> tuple[StudentProfile, StoredStreak] | None:
        """For a caller as last seen, the rows their decisions are taken from, which the write
        acting on them checks unchanged; None for a caller read for this request."""
        return (self.profile, self.streak) if self.as_last_seen else None

    def streak_written(self, streak: StoredStreak | None) -> None:
        """After a write: the caller's streak is now `streak`, here and as last seen."""
        self.streak_as_read, self.streak_read = streak, True
        rows = _recalled(self.id)
        if rows is not None:
            _remember(self.id, replace(rows, streak=streak))

    def with_streak_as_last_seen(self) -> CurrentStudent:
        """For a caller read without their streak (MCP reads the student alone), before a
        write of activity: the caller with the streak this instance last saw, as last seen
        (the write checks it); read again with their streak when it saw none."""
        if self.streak_read:
            return self
        rows = _recalled(self.id)
        if rows is None or rows.streak is None:
            return self.read_again()
        return replace(self, streak_read=True, streak_as_read=rows.streak, as_last_seen=True)

    def read_again(self) -> CurrentStudent:
        """The caller read now, with their streak, and remembered so (401 if their account
        is gone)."""
        return _read_caller(self.id, with_streak=True, remember=True)

    def activity_already_counted(self) -> bool:
        """Whether activity now is already counted in the streak (as read with the caller):
        then recording it only stamps last_active_at, in one statement."""
        if self.streak is None:
            return False
        return already_counted(self.streak.state, local_date(datetime.now(UTC), self.streak_zone))


def bearer_token(
    authorization: str | None,
    missing: str = "Please log in: this request needs an access token.",
) -> str:
    """The token of an `Authorization: Bearer <token>` header (the scheme in any case);
    401 with `missing` as its detail without one."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(missing)
    return token


def _rest_caller_id(request: Request) -> str:
    """The student id of a valid token for the REST API (one from /auth/login, or one issued
    through OAuth for this resource); 401 otherwise."""
    token = bearer_token(request.headers.get("authorization"))
    return _student_id(token, [get_settings().jwt_audience, rest_resource(base_url(request))])


def _caller(request: Request, **reads: bool) -> CurrentStudent:
    return _read_caller(_rest_caller_id(request), **reads)


async def current_student(request: Request) -> CurrentStudent:
    """The caller, from a valid token for the REST API (one from /auth/login, or one issued
    through OAuth for this resource) whose student still exists (read fresh: a premium
    plan that expired, or a deleted account, takes effect at once)."""
    return _caller(request)


async def current_student_with_streak(request: Request) -> CurrentStudent:
    """The caller as current_student, with their streak read in the same query: for
    GET /v1/streak (and, when their instance has not read the caller yet, for the routes
    that record activity: current_student_as_last_seen)."""
    return _caller(request, with_streak=True)


async def current_student_with_progress(request: Request) -> CurrentStudent:
    """The caller as current_student_with_streak, with their chapter_progress rows read in
    the same query: for the routes that record a visit or report progress."""
    return _caller(request, with_progress=True)


async def current_student_with_progress_report(request: Request) -> CurrentStudent:
    """The caller as current_student_with_progress, with each chapter's newest attempt read
    in the same query too: all GET /v1/progress reads, in one round trip."""
    return _caller(request, with_progress=True, with_latest_attempts=True)


def student_from_token(
    token: str,
    audiences: list[str],
    *,
    with_streak: bool = False,
    with_progress: bool = False,
    with_latest_attempts: bool = False,
) -> CurrentStudent:
    """The student a valid token for one of `audiences` names; 401 otherwise. The streak,
    progress rows and newest attempts asked for are read with them (progress and attempts
    include the streak); what is not is read when first used."""
    return _read_caller(
        _student_id(token, audiences),
        with_streak=with_streak,
        with_progress=with_progress,
        with_latest_attempts=with_latest_attempts,
    )


def _student_id(token: str, audiences: list[str]) -> str:
    try:
        return str(uuid.UUID(student_id_from_token(token, audiences)))
    except ValueError as exc:
        raise InvalidToken() from exc


def _read_caller(
    student_id: str,
    *,
    with_streak: bool = False,
    with_progress: bool = False,
    with_latest_attempts: bool = False,
    remember: bool = False,
) -> CurrentStudent:
    latest_of = None
    if with_latest_attempts:
        from companion import catalogue  # the course: only the progress report's caller

        latest_of = catalogue.course().chapter_ids
    read = db.run(
        lambda conn: students.get_caller(
            conn,
            student_id,
            with_streak=with_streak,
            with_progress=with_progress,
            latest_of=latest_of,
        )
    )
    if read is None:
        raise AccountGone()
    if remember:
        _remember(student_id, read)
    return CurrentStudent(
        id=student_id,
        profile=read.student,
        effective_tier=read.student.effective_tier(),
        streak_read=read.streak_read,
        streak_as_read=read.streak,
        progress_read=read.progress,
        latest_attempts_read=read.latest_attempts,
    )


# What this Lambda instance last read of each caller for a route that records activity, by
# student id (at most LAST_SEEN_MOST of them, the least recently read dropped first): where
# the next such request takes its caller from (StudentAsLastSeen) rather than reading them.
# Their e-mail and name are not kept: no such route uses them.
LAST_SEEN_MOST = 1024
_last_seen: dict[int, dict[str, CallerRows]] = {}


def _remember(student_id: str, rows: CallerRows) -> None:
    seen = _last_seen.setdefault(db.lambda_instance.get(), {})
    seen.pop(student_id, None)
    seen[student_id] = replace(rows, student=replace(rows.student, email="", full_name=None))
    if len(seen) > LAST_SEEN_MOST:
        del seen[next(iter(seen))]


def _recalled(student_id: str) -> CallerRows | None:
    return _last_seen.get(db.lambda_instance.get(), {}).get(student_id)


async def current_student_as_last_seen(request: Request) -> CurrentStudent:
    """The caller as current_student_with_streak, but when this Lambda instance has read them
    before, as it last did, without a query (`as_last_seen`): for a submission and reading
    time, whose one writing statement checks that the rows they decided from are unchanged
    (activity.as_caller_is), so they take one round trip instead of two."""
    student_id = _rest_caller_id(request)
    rows = _recalled(student_id)
    if rows is None or rows.streak is None:
        return _read_caller(student_id, with_streak=True, remember=True)
    return CurrentStudent(
        id=student_id,
        profile=rows.student,
        effective_tier=rows.student.effective_tier(),  # now: an expired plan is free at once
        streak_read=True,
        streak_as_read=rows.streak,
        as_last_seen=True,
    )


CALLER_DEPENDENCIES = (
    current_student,
    current_student_with_streak,
    current_student_with_progress,
    current_student_with_progress_report,
    current_student_as_last_seen,
)


Student = Annotated[CurrentStudent, Depends(current_student)]
StudentWithStreak = Annotated[CurrentStudent, Depends(current_student_with_streak)]
StudentWithProgress = Annotated[CurrentStudent, Depends(current_student_with_progress)]
StudentWithProgressReport = Annotated[CurrentStudent, Depends(current_student_with_progress_report)]
StudentAsLastSeen = Annotated[CurrentStudent, Depends(current_student_as_last_seen)]


def client_address(request: Request) -> str | None:
    """The caller's IP address: API Gateway's requestContext.http.sourceIp, which Mangum
    puts in the ASGI scope's client."""
    return request.client.host if request.client else None


ClientAddress = Annotated[str | None, Depends(client_address)]


def no_store(response: Response) -> None:
    """For answers no cache may keep (tokens, personal data): Cache-Control: no-store."""
    response.headers["Cache-Control"] = "no-store"
