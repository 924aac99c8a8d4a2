"""Indexes for a student's attempts at one quiz / in one chapter, newest first.

The seed's single-column quiz and chapter indexes have six distinct values each; for a
student with thousands of attempts Postgres had to AND them with the student index
(17-42 ms at 1M attempts, docs/BENCHMARKS.md "Scale"). These serve the attempt list and the
latest attempt per chapter straight from the index.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX idx_attempts_student_quiz
            ON quiz_attempts (student_id, quiz_id, submitted_at DESC, id);
        CREATE INDEX idx_attempts_student_chapter
            ON quiz_attempts (student_id, chapter_id, submitted_at DESC, id DESC);
        """
    )


def downgrade() -> None:
    op.execute("DROP INDEX idx_attempts_student_chapter; DROP INDEX idx_attempts_student_quiz;")
