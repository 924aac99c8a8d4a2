"""Passwords (bcrypt) and access tokens (JWT, HS256, algorithm pinned)."""

from __future__ import annotations

import os
import threading
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from companion.errors import InvalidToken, ServiceUnavailable, Unauthorized
from companion.observability import logger
from companion.settings import MIN_JWT_SECRET_BYTES, get_settings

ALGORITHM = "HS256"

# bcrypt reads at most 72 bytes; a longer password is refused, never silently truncated.
MAX_PASSWORD_BYTES = 72
MIN_PASSWORD_CHARACTERS = 8
# Below this cost a hash is fast enough to guess offline; only tests lower it.
MIN_PRODUCTION_BCRYPT_ROUNDS = 10

_dummy_lock = threading.Lock()
_dummy_hashes: dict[int, bytes] = {}
_warned_weak_rounds = False


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: int
    expires_in: int


def _rounds() -> int:
    global _warned_weak_rounds
    rounds = get_settings().bcrypt_rounds
    if rounds < MIN_PRODUCTION_BCRYPT_ROUNDS and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        # A deployed function never hashes below the production floor, whatever it is told.
        return MIN_PRODUCTION_BCRYPT_ROUNDS
    if rounds < MIN_PRODUCTION_BCRYPT_ROUNDS and not _warned_weak_rounds:
        _warned_weak_rounds = True
        logger.warning(
            "BCRYPT_ROUNDS=%d is below %d: acceptable in tests only",
            rounds,
            MIN_PRODUCTION_BCRYPT_ROUNDS,
        )
    return rounds


def hash_password(password: str) -> str:
    """A bcrypt hash of `password` (in NFC) at the configured cost.

    The caller has checked the length rules; a password over 72 bytes is a bug here.
    """
    import bcrypt

    secret = normalise_password(password).encode("utf-8")
    if len(secret) > MAX_PASSWORD_BYTES:
        raise ValueError(f"a password may be at most {MAX_PASSWORD_BYTES} bytes")
    return bcrypt.hashpw(secret, bcrypt.gensalt(rounds=_rounds())).decode("ascii")


def normalise_password(password: str) -> str:
    """How a password is hashed: Unicode NFC (NIST SP 800-63B), so the same password typed
    with precomposed or combining accents ("é" or "e" + U+0301) is the same password."""
    return unicodedata.normalize("NFC", password)


def _forms_to_try(password: str) -> list[str]:
    """The forms a stored hash may have been made from: NFC (every hash since passwords
    are normalised), and for an account registered before that, the form as typed or NFD.
    A password without accents or other composable characters has one form."""
    forms = [normalise_password(password), password, unicodedata.normalize("NFD", password)]
    return list(dict.fromkeys(forms))


def match_password(password: str, password_hash: str) -> str | None:
    """The form of `password` the hash was made from (see `_forms_to_try`), or None when it
    does not match. A form other than the NFC one means the hash should be made again."""
    import bcrypt

    matched = None
    for form in _forms_to_try(password):
        secret = form.encode("utf-8")
        if len(secret) > MAX_PASSWORD_BYTES:
            # Still spend a hash's worth of time, so the answer takes as long as any other.
            _check_dummy(secret)
            continue
        try:
            # Every form is checked, matched or not: the time taken depends on the password
            # typed, never on which form the account has.
            if bcrypt.checkpw(secret, password_hash.encode("ascii")) and matched is None:
                matched = form
        except ValueError:
            logger.error("a stored password hash is not a bcrypt hash")
            return None
    return matched


def verify_password(password: str, password_hash: str) -> bool:
    """True when `password` matches the stored hash; False for anything else, including a
    password bcrypt could not have hashed (over 72 bytes) or a damaged hash."""
    return match_password(password, password_hash) is not None


def verify_against_dummy_hash(password: str) -> None:
    """Spend the time a real check would take, for an e-mail that has no account.

    Without it an unknown address answers in microseconds and a known one after a full
    bcrypt check, which tells anyone which addresses are registered. The dummy hash has
    the configured cost and is computed once per cost; as many forms are checked as
    `match_password` would check.
    """
    for form in _forms_to_try(password):
        _check_dummy(form.encode("utf-8")[:MAX_PASSWORD_BYTES])


def _check_dummy(secret: bytes) -> None:
    import bcrypt

    rounds = _rounds()
    dummy = _dummy_hashes.get(rounds)
    if dummy is None:
        with _dummy_lock:
            dummy = _dummy_hashes.get(rounds)
            if dummy is None:
                dummy = bcrypt.hashpw(b"no account has this password", bcrypt.gensalt(rounds))
                _dummy_hashes[rounds] = dummy
    bcrypt.checkpw(secret[:MAX_PASSWORD_BYTES], dummy)


def signing_key(purpose: str) -> bytes:
    """A key for `purpose` derived from JWT_SECRET (e.g. the sign-in form's CSRF token),
    so one secret serves every signature without a token of one kind passing as another."""
    import hashlib
    import hmac

    return hmac.new(_secret(), purpose.encode(), hashlib.sha256).digest()


def _secret() -> bytes:
    secret = (get_settings().jwt_secret or "").encode()
    if len(secret) < MIN_JWT_SECRET_BYTES:
        logger.error("JWT_SECRET is missing or shorter than %d bytes", MIN_JWT_SECRET_BYTES)
        raise ServiceUnavailable("The service is not configured correctly. Please try again later.")
    return secret


def issue_access_token(
    student_id: str,
    tier: str,
    *,
    audience: str | None = None,
    scope: str | None = None,
    client_id: str | None = None,
    lifetime_minutes: int | None = None,
) -> AccessToken:
    """A bearer JWT for the student. `audience` is the resource it is for (RFC 8707): the
    REST API's or the MCP server's URL for a token issued through OAuth, the configured
    JWT audience for one from /auth/login."""
    import jwt

    settings = get_settings()
    now = int(time.time())
    lifetime = (lifetime_minutes or settings.access_token_minutes) * 60
    claims = {
        "sub": student_id,
        "iat": now,
        "exp": now + lifetime,
        "iss": settings.jwt_issuer,
        "aud": audience or settings.jwt_audience,
        "tier": tier,
    }
    if scope is not None:
        claims["scope"] = scope
    if client_id is not None:
        claims["client_id"] = client_id
    token = jwt.encode(claims, _secret(), algorithm=ALGORITHM)
    return AccessToken(token=token, expires_at=now + lifetime, expires_in=lifetime)


def student_id_from_token(token: str, audiences: list[str] | None = None) -> str:
    """The `sub` of a valid token meant for one of `audiences` (by default the configured
    JWT audience); 401 for anything forged, expired, malformed or meant for another
    resource."""
    settings = get_settings()
    claims = _verified_claims(
        token, tuple(audiences or [settings.jwt_audience]), settings.jwt_issuer, _secret()
    )
    if int(claims["exp"]) <= time.time():  # valid when it was verified, expired since
        raise Unauthorized(_EXPIRED)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken()
    return subject


_EXPIRED = "Your session has expired. Please log in again."


@lru_cache(maxsize=1024)
def _verified_claims(
    token: str, audiences: tuple[str, ...], issuer: str, secret: bytes
) -> dict[str, Any]:
    """PyJWT's full check of a token, remembered for the warm instance: a student sends the
    same token with every request, and the check (signature, every claim) cost about 0.5 ms
    of a request on a cold CPU. Only what passed is remembered (an exception is not), and
    only until it expires, which the caller checks on every use; the key holds everything
    the check depends on but the clock."""
    import jwt

    try:
        return jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=list(audiences),
            issuer=issuer,
            options={"require": ["sub", "iat", "exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized(_EXPIRED) from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthorized(
            "This access token was issued for another service. Please sign in again."
        ) from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
