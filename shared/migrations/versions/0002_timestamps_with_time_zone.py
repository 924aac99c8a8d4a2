"""Store instants as TIMESTAMPTZ (the API answers ISO-8601 with an offset).

The seed's TIMESTAMP columns hold UTC wall-clock times (the service always writes UTC);
they are reinterpreted as UTC, and the defaults keep NOW().

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = {
    "students": ("subscription_expires_at", "created_at", "last_active_at"),
    "chapter_progress": ("last_accessed_at", "completed_at"),
    "quiz_attempts": ("submitted_at",),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        changes = ", ".join(
            f"ALTER COLUMN {column} TYPE TIMESTAMPTZ USING {column} AT TIME ZONE 'UTC'"
            for column in columns
        )
        op.execute(f"ALTER TABLE {table} {changes}")


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        changes = ", ".join(
            f"ALTER COLUMN {column} TYPE TIMESTAMP USING {column} AT TIME ZONE 'UTC'"
            for column in columns
        )
        op.execute(f"ALTER TABLE {table} {changes}")
