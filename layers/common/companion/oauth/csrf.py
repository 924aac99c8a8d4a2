"""The sign-in form's CSRF token: a double-submit cookie bound by a signature.

The page sets a random nonce in a cookie and puts `nonce.timestamp.signature` in the form;
a post is accepted only when the cookie's nonce is the form's, the signature is ours and
the page is under an hour old. Nothing is stored: any Lambda instance can check it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from companion.security import signing_key

COOKIE_NAME = "companion_signin"
MAX_AGE_SECONDS = 3600


def _signature(nonce: str, issued: str) -> str:
    message = f"{nonce}.{issued}".encode()
    return hmac.new(signing_key("signin-csrf"), message, hashlib.sha256).hexdigest()


def new_token() -> tuple[str, str]:
    """(cookie value, form value) for a fresh page."""
    nonce = secrets.token_urlsafe(24)
    issued = str(int(time.time()))
    return nonce, f"{nonce}.{issued}.{_signature(nonce, issued)}"


def is_valid(cookie_value: str | None, form_value: str | None) -> bool:
    if not cookie_value or not form_value:
        return False
    nonce, _, rest = form_value.partition(".")
    issued, _, signature = rest.partition(".")
    if not issued.isdigit() or not hmac.compare_digest(nonce, cookie_value):
        return False
    if not hmac.compare_digest(signature, _signature(nonce, issued)):
        return False
    return 0 <= time.time() - int(issued) <= MAX_AGE_SECONDS
