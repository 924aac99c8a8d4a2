"""Retry-safe quiz submission: an attempt may carry the client's Idempotency-Key.

The key is unique per student (a partial unique index, so attempts without a key are
unaffected); the request's fingerprint tells a genuine retry from a reuse of the key for
another submission. The key lives on the attempt row, so pruning removes it with it.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE quiz_attempts
            ADD COLUMN idempotency_key VARCHAR(255),
            ADD COLUMN request_fingerprint CHAR(64);
        CREATE UNIQUE INDEX uq_attempts_student_idempotency_key
            ON quiz_attempts (student_id, idempotency_key)
            WHERE idempotency_key IS NOT NULL;
        CREATE INDEX idx_attempts_submitted_at ON quiz_attempts (submitted_at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX idx_attempts_submitted_at;
        DROP INDEX uq_attempts_student_idempotency_key;
        ALTER TABLE quiz_attempts DROP COLUMN request_fingerprint, DROP COLUMN idempotency_key;
        """
    )
