"""Study guidance II: where each student left off, and streak freezes.

- chapter_progress remembers the section last opened in each chapter and when; the newest
  of a student's rows is where they left off overall (no table of its own: at most one row
  per chapter, so nothing grows and pruning has nothing to remove).
- streaks holds the freezes: how many are held (0 to 2), the local dates spent (newest
  first, the last 10), and the run of consecutive active days that earns the next one. An
  existing streak's run is its current length (there were no freezes before, so the two are
  the same days).

Revision ID: 0006
Revises: 0008
"""

from alembic import op

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE chapter_progress
            ADD COLUMN last_section_id VARCHAR(50),
            ADD COLUMN last_section_opened_at TIMESTAMPTZ,
            ADD CONSTRAINT check_last_section_opened
                CHECK ((last_section_id IS NULL) = (last_section_opened_at IS NULL));

        ALTER TABLE streaks
            ADD COLUMN freezes_held SMALLINT NOT NULL DEFAULT 0,
            ADD COLUMN freezes_used DATE[] NOT NULL DEFAULT '{}',
            ADD COLUMN active_run INTEGER NOT NULL DEFAULT 0,
            ADD CONSTRAINT check_freezes_held CHECK (freezes_held BETWEEN 0 AND 2),
            ADD CONSTRAINT check_freezes_used CHECK (cardinality(freezes_used) <= 10),
            ADD CONSTRAINT check_active_run CHECK (active_run >= 0);
        UPDATE streaks SET active_run = current_streak
         WHERE last_activity_date IS NOT NULL AND current_streak > 0;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE streaks
            DROP CONSTRAINT check_active_run,
            DROP CONSTRAINT check_freezes_used,
            DROP CONSTRAINT check_freezes_held,
            DROP COLUMN active_run,
            DROP COLUMN freezes_used,
            DROP COLUMN freezes_held;
        ALTER TABLE chapter_progress
            DROP CONSTRAINT check_last_section_opened,
            DROP COLUMN last_section_opened_at,
            DROP COLUMN last_section_id;
        """
    )
