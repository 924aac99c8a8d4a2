"""OAuth 2.1 sign-in for chat apps: clients, grants, authorization codes, refresh tokens.

A grant is one sign-in of a student to a client (one family): its authorization code and
every refresh token rotated from it hang off it, so revoking a grant revokes the family,
and deleting a student deletes all of it (ON DELETE CASCADE). Codes and refresh tokens are
stored as SHA-256 digests only; a confidential client's secret likewise.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE oauth_clients (
            client_id VARCHAR(2048) PRIMARY KEY,
            kind VARCHAR(20) NOT NULL,
            client_name VARCHAR(255) NOT NULL,
            client_secret_hash CHAR(64),
            redirect_uris TEXT[] NOT NULL,
            token_endpoint_auth_method VARCHAR(30) NOT NULL,
            metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            refreshed_at TIMESTAMPTZ NOT NULL DEFAULT now(),

            CONSTRAINT check_client_kind
                CHECK (kind IN ('confidential', 'dynamic', 'metadata_document')),
            CONSTRAINT check_confidential_has_secret
                CHECK ((kind = 'confidential') = (client_secret_hash IS NOT NULL))
        );

        CREATE TABLE oauth_grants (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            student_id UUID NOT NULL REFERENCES students(id) ON DELETE CASCADE,
            client_id VARCHAR(2048) NOT NULL
                REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
            scope TEXT NOT NULL,
            resource TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            last_used_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            revoked_at TIMESTAMPTZ
        );
        CREATE INDEX idx_oauth_grants_student ON oauth_grants (student_id);
        CREATE INDEX idx_oauth_grants_client ON oauth_grants (client_id);

        CREATE TABLE oauth_codes (
            code_hash CHAR(64) PRIMARY KEY,
            grant_id UUID NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
            redirect_uri TEXT NOT NULL,
            code_challenge VARCHAR(128),
            code_challenge_method VARCHAR(10),
            expires_at TIMESTAMPTZ NOT NULL,
            used_at TIMESTAMPTZ
        );
        CREATE INDEX idx_oauth_codes_grant ON oauth_codes (grant_id);
        CREATE INDEX idx_oauth_codes_expires ON oauth_codes (expires_at);

        CREATE TABLE oauth_refresh_tokens (
            token_hash CHAR(64) PRIMARY KEY,
            grant_id UUID NOT NULL REFERENCES oauth_grants(id) ON DELETE CASCADE,
            issued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            expires_at TIMESTAMPTZ NOT NULL,
            rotated_at TIMESTAMPTZ
        );
        CREATE INDEX idx_oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);
        CREATE INDEX idx_oauth_refresh_tokens_expires ON oauth_refresh_tokens (expires_at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE oauth_refresh_tokens;
        DROP TABLE oauth_codes;
        DROP TABLE oauth_grants;
        DROP TABLE oauth_clients;
        """
    )
