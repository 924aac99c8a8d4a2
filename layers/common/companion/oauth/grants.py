"""Codes and tokens of a sign-in (a grant): issued, redeemed once, rotated, revoked."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from companion import db, security
from companion.oauth import (
    CODE_LIFETIME_SECONDS,
    MAX_ACCESS_TOKEN_MINUTES,
    REFRESH_TOKEN_LIFETIME_DAYS,
)
from companion.oauth.clients import Client, digest
from companion.repositories import oauth as repository
from companion.repositories import students
from companion.repositories.oauth import ClaimedCode, ClaimedGrant
from companion.settings import get_settings


@dataclass(frozen=True)
class GrantedStudent:
    """Who a code or refresh token was issued for, and for what (Authlib's "user")."""

    student_id: str
    tier: str
    grant_id: str
    client_id: str
    scope: str
    resource: str

    def get_user_id(self) -> str:
        return self.student_id


def save_code(
    code: str,
    *,
    client: Client,
    student_id: str,
    scope: str,
    resource: str,
    redirect_uri: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    """A new grant and its authorization code (single use, 60 seconds)."""
    expires_at = datetime.now(UTC) + timedelta(seconds=CODE_LIFETIME_SECONDS)
    db.run(
        lambda conn: repository.create_grant_with_code(
            conn,
            student_id=student_id,
            client_id=client.client_id,
            scope=scope,
            resource=resource,
            code_hash=digest(code),
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            expires_at=expires_at,
        ),
        transaction=True,
    )


def redeem_code(code: str) -> ClaimedCode | None:
    """The code's grant, claimed once; a replay revokes the grant (see the repository)."""
    return db.run(lambda conn: repository.claim_code(conn, digest(code)), transaction=True)


def redeem_refresh_token(token: str, client_id: str) -> ClaimedGrant | None:
    return db.run(
        lambda conn: repository.claim_refresh_token(conn, digest(token), client_id),
        transaction=True,
    )


def revoke_refresh_token(token: str, client_id: str) -> bool:
    return db.run(
        lambda conn: repository.revoke_grant_of_refresh_token(conn, digest(token), client_id),
        transaction=True,
    )


def granted_student(grant: ClaimedGrant) -> GrantedStudent | None:
    """The grant's student as it is now (its plan read fresh), or None when it is gone."""
    student = db.run(lambda conn: students.get(conn, str(grant.student_id)))
    if student is None:
        return None
    return GrantedStudent(
        student_id=str(student.id),
        tier=student.effective_tier(),
        grant_id=str(grant.grant_id),
        client_id=grant.client_id,
        scope=grant.scope,
        resource=grant.resource,
    )


def issue_tokens(granted: GrantedStudent) -> dict[str, Any]:
    """An access token for the grant's resource and a new refresh token of its family."""
    minutes = min(get_settings().access_token_minutes, MAX_ACCESS_TOKEN_MINUTES)
    access = security.issue_access_token(
        granted.student_id,
        granted.tier,
        audience=granted.resource,
        scope=granted.scope,
        client_id=granted.client_id,
        lifetime_minutes=minutes,
    )
    refresh_token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(days=REFRESH_TOKEN_LIFETIME_DAYS)
    db.run(
        lambda conn: repository.add_refresh_token(
            conn, granted.grant_id, digest(refresh_token), expires_at
        ),
        transaction=True,
    )
    return {
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": access.expires_in,
        "refresh_token": refresh_token,
        "scope": granted.scope,
    }


def prune_expired_sign_ins(retention_days: int) -> dict[str, int]:
    """Remove codes and refresh tokens that can no longer be used, and sign-ins (with
    their unused dynamic clients) idle for longer than the retention period."""
    since = datetime.now(UTC) - timedelta(days=retention_days)
    return db.run(lambda conn: repository.prune_expired(conn, since), transaction=True)
