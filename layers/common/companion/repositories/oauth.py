"""The OAuth tables: clients, grants (one sign-in of a student to a client, one token
family), authorization codes and refresh tokens (both stored as SHA-256 digests).

Single use is settled in SQL: a code or a refresh token is claimed by one UPDATE that only
matches while it is unused, so two requests racing with the same one cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class StoredClient:
    client_id: str
    kind: str
    client_name: str
    client_secret_hash: str | None
    redirect_uris: list[str]
    token_endpoint_auth_method: str
    metadata: dict[str, Any] | None
    created_at: datetime
    refreshed_at: datetime


@dataclass(frozen=True)
class ClaimedGrant:
    """The grant a code or refresh token was claimed for."""

    grant_id: UUID
    student_id: UUID
    client_id: str
    scope: str
    resource: str


@dataclass(frozen=True)
class ClaimedCode(ClaimedGrant):
    """A claimed authorization code, with its grant."""

    revoked_at: datetime | None
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: datetime


CLIENT_COLUMNS = ", ".join(field.name for field in fields(StoredClient))


def _client(row: dict[str, Any] | None) -> StoredClient | None:
    return StoredClient(**row) if row is not None else None


def get_client(conn, client_id: str) -> StoredClient | None:
    return _client(
        conn.execute(
            f"SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE client_id = %s", (client_id,)
        ).fetchone()
    )


def save_client(
    conn,
    *,
    client_id: str,
    kind: str,
    client_name: str,
    client_secret_hash: str | None,
    redirect_uris: list[str],
    token_endpoint_auth_method: str,
    metadata: dict[str, Any],
) -> StoredClient:
    """Insert a client, or refresh one (a metadata document fetched again)."""
    from psycopg.types.json import Jsonb

    row = conn.execute(
        f"""
        INSERT INTO oauth_clients (client_id, kind, client_name, client_secret_hash,
                                   redirect_uris, token_endpoint_auth_method, metadata)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (client_id) DO UPDATE
           SET client_name = EXCLUDED.client_name,
               redirect_uris = EXCLUDED.redirect_uris,
               token_endpoint_auth_method = EXCLUDED.token_endpoint_auth_method,
               metadata = EXCLUDED.metadata,
               refreshed_at = now()
        RETURNING {CLIENT_COLUMNS}
        """,
        (
            client_id,
            kind,
            client_name,
            client_secret_hash,
            redirect_uris,
            token_endpoint_auth_method,
            Jsonb(metadata),
        ),
    ).fetchone()
    return StoredClient(**row)


def list_clients(conn, kind: str | None = None) -> list[StoredClient]:
    rows = conn.execute(
        f"""
        SELECT {CLIENT_COLUMNS} FROM oauth_clients
         WHERE %(kind)s::text IS NULL OR kind = %(kind)s
         ORDER BY created_at
        """,
        {"kind": kind},
    ).fetchall()
    return [StoredClient(**row) for row in rows]


def create_grant_with_code(
    conn,
    *,
    student_id: str,
    client_id: str,
    scope: str,
    resource: str,
    code_hash: str,
    redirect_uri: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
    expires_at: datetime,
) -> str:
    """A new grant for a sign-in and its authorization code, in one statement."""
    row = conn.execute(
        """
        WITH new_grant AS (
            INSERT INTO oauth_grants (student_id, client_id, scope, resource)
            VALUES (%(student)s, %(client)s, %(scope)s, %(resource)s)
            RETURNING id
        )
        INSERT INTO oauth_codes (code_hash, grant_id, redirect_uri, code_challenge,
                                 code_challenge_method, expires_at)
        SELECT %(code)s, id, %(redirect)s, %(challenge)s, %(method)s, %(expires)s
          FROM new_grant
        RETURNING grant_id
        """,
        {
            "student": student_id,
            "client": client_id,
            "scope": scope,
            "resource": resource,
            "code": code_hash,
            "redirect": redirect_uri,
            "challenge": code_challenge,
            "method": code_challenge_method,
            "expires": expires_at,
        },
    ).fetchone()
    return str(row["grant_id"])


_GRANT_OF_CODE = """
    g.id AS grant_id, g.student_id, g.client_id, g.scope, g.resource, g.revoked_at,
    c.redirect_uri, c.code_challenge, c.code_challenge_method, c.expires_at
"""


def claim_code(conn, code_hash: str) -> ClaimedCode | None:
    """Mark an unused, unexpired code of a live grant used and return it with its grant;
    None when there is no such code. A code presented again (already used) revokes its
    grant: whatever the first use issued stops working (OAuth 2.1 §4.1.3)."""
    claimed = conn.execute(
        f"""
        UPDATE oauth_codes c SET used_at = now()
          FROM oauth_grants g
         WHERE c.code_hash = %s AND c.grant_id = g.id
           AND c.used_at IS NULL AND c.expires_at > now() AND g.revoked_at IS NULL
        RETURNING {_GRANT_OF_CODE}
        """,
        (code_hash,),
    ).fetchone()
    if claimed is None:
        conn.execute(
            """
            UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, now())
             WHERE id = (SELECT grant_id FROM oauth_codes
                          WHERE code_hash = %s AND used_at IS NOT NULL)
            """,
            (code_hash,),
        )
        return None
    return ClaimedCode(**claimed)


def add_refresh_token(conn, grant_id: str, token_hash: str, expires_at: datetime) -> None:
    conn.execute(
        """
        INSERT INTO oauth_refresh_tokens (token_hash, grant_id, expires_at)
        VALUES (%s, %s, %s)
        """,
        (token_hash, grant_id, expires_at),
    )
    conn.execute("UPDATE oauth_grants SET last_used_at = now() WHERE id = %s", (grant_id,))


def claim_refresh_token(conn, token_hash: str, client_id: str) -> ClaimedGrant | None:
    """Rotate out a live refresh token of `client_id` and return its grant; None when
    there is none. A token that was already rotated out is a replay: its whole family is
    revoked."""
    claimed = conn.execute(
        """
        UPDATE oauth_refresh_tokens t SET rotated_at = now()
          FROM oauth_grants g
         WHERE t.token_hash = %s AND t.grant_id = g.id AND g.client_id = %s
           AND t.rotated_at IS NULL AND t.expires_at > now() AND g.revoked_at IS NULL
        RETURNING g.id AS grant_id, g.student_id, g.client_id, g.scope, g.resource
        """,
        (token_hash, client_id),
    ).fetchone()
    if claimed is None:
        conn.execute(
            """
            UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, now())
             WHERE id = (SELECT grant_id FROM oauth_refresh_tokens
                          WHERE token_hash = %s AND rotated_at IS NOT NULL)
            """,
            (token_hash,),
        )
        return None
    return ClaimedGrant(**claimed)


def revoke_grant_of_refresh_token(conn, token_hash: str, client_id: str) -> bool:
    """RFC 7009: revoking a refresh token revokes its grant (every token of the family),
    only for the client it was issued to. True when something was revoked."""
    row = conn.execute(
        """
        UPDATE oauth_grants g SET revoked_at = coalesce(g.revoked_at, now())
          FROM oauth_refresh_tokens t
         WHERE t.token_hash = %s AND t.grant_id = g.id AND g.client_id = %s
        RETURNING g.id
        """,
        (token_hash, client_id),
    ).fetchone()
    return row is not None


def signed_in_clients(conn, student_id: str) -> list[dict[str, Any]]:
    """The clients a student signed in to, for the GDPR export (never a secret)."""
    return conn.execute(
        """
        SELECT c.client_name, g.client_id, min(g.created_at) AS first_signed_in_at,
               max(g.last_used_at) AS last_used_at,
               bool_and(g.revoked_at IS NOT NULL) AS revoked
          FROM oauth_grants g JOIN oauth_clients c ON c.client_id = g.client_id
         WHERE g.student_id = %s
         GROUP BY c.client_name, g.client_id
         ORDER BY min(g.created_at)
        """,
        (student_id,),
    ).fetchall()


def prune_expired(conn, grants_unused_since: datetime) -> dict[str, int]:
    """Delete codes and refresh tokens that can no longer be used, grants with nothing
    left that were last used before `grants_unused_since` (or revoked before it), and
    dynamically registered clients nobody signed in with since then."""
    counts = {}
    counts["codes"] = conn.execute(
        "DELETE FROM oauth_codes WHERE expires_at < now() OR used_at IS NOT NULL"
    ).rowcount
    counts["refresh_tokens"] = conn.execute(
        """
        DELETE FROM oauth_refresh_tokens t
         USING oauth_grants g
         WHERE t.grant_id = g.id
           AND (t.expires_at < now() OR g.revoked_at IS NOT NULL
                OR t.rotated_at < now() - interval '1 day')
        """
    ).rowcount
    counts["grants"] = conn.execute(
        """
        DELETE FROM oauth_grants g
         WHERE g.last_used_at < %(since)s
           AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens t
                            WHERE t.grant_id = g.id AND t.expires_at > now())
        """,
        {"since": grants_unused_since},
    ).rowcount
    counts["clients"] = conn.execute(
        """
        DELETE FROM oauth_clients c
         WHERE c.kind <> 'confidential' AND c.refreshed_at < %(since)s
           AND NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = c.client_id)
        """,
        {"since": grants_unused_since},
    ).rowcount
    return counts
