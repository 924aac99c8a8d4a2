"""Passwords (bcrypt) and access tokens (JWT, HS256, algorithm pinned)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from companion.errors import ServiceUnavailable, Unauthorized
from companion.observability import logger
from companion.settings import MIN_JWT_SECRET_BYTES, get_settings

ALGORITHM = "HS256"


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: int
    expires_in: int


def _secret() -> bytes:
    secret = (get_settings().jwt_secret or "").encode()
    if len(secret) < MIN_JWT_SECRET_BYTES:
        logger.error("JWT_SECRET is missing or shorter than %d bytes", MIN_JWT_SECRET_BYTES)
        raise ServiceUnavailable("The service is not configured correctly. Please try again later.")
    return secret


def issue_access_token(student_id: str, tier: str) -> AccessToken:
    import jwt

    settings = get_settings()
    now = int(time.time())
    lifetime = settings.access_token_minutes * 60
    claims = {
        "sub": student_id,
        "iat": now,
        "exp": now + lifetime,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "tier": tier,
    }
    token = jwt.encode(claims, _secret(), algorithm=ALGORITHM)
    return AccessToken(token=token, expires_at=now + lifetime, expires_in=lifetime)


def student_id_from_token(token: str) -> str:
    """The `sub` of a valid token; 401 for anything forged, expired or malformed."""
    import jwt

    settings = get_settings()
    secret = _secret()
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "iat", "exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Your session has expired. Please log in again.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is not valid. Please log in again.") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthorized("The access token is not valid. Please log in again.")
    return subject
