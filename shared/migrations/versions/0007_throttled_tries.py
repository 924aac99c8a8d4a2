"""The login throttle's counts in Postgres: a throttle that lives in the cache fails open
whenever the cache is down, hung or unset (issue #14, #11).

One row per counted try: a failed login (or one still being checked) under its e-mail's key
and its client address's key, a registration under its address's key. Keys are hashes, so
no e-mail address or IP address is stored in the clear. Rows older than the window are
deleted by each try on the same key and by the daily pruner.

Revision ID: 0007
Revises: 0005
"""

from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE throttled_tries (
            throttle_key text NOT NULL,
            tried_at timestamptz NOT NULL DEFAULT now(),
            try_id uuid NOT NULL,
            PRIMARY KEY (throttle_key, tried_at, try_id)
        );
        CREATE INDEX idx_throttled_tries_tried_at ON throttled_tries (tried_at);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE throttled_tries;")
