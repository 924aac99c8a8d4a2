"""The seed's schema, exactly as ../shared/data-model.md gives it.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE students (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            email VARCHAR(255) UNIQUE NOT NULL,
            password_hash VARCHAR(255) NOT NULL,
            full_name VARCHAR(255),
            timezone VARCHAR(50) DEFAULT 'UTC',
            subscription_tier VARCHAR(20) DEFAULT 'free',
            subscription_expires_at TIMESTAMP,
            created_at TIMESTAMP DEFAULT NOW(),
            last_active_at TIMESTAMP DEFAULT NOW(),

            CONSTRAINT check_tier CHECK (subscription_tier IN ('free', 'premium')),
            CONSTRAINT check_email_format
                CHECK (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$')
        );
        CREATE INDEX idx_students_email ON students(email);
        CREATE INDEX idx_students_subscription
            ON students(subscription_tier, subscription_expires_at);

        CREATE TABLE chapter_progress (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            student_id UUID NOT NULL REFERENCES students(id) ON DELETE CASCADE,
            chapter_id VARCHAR(50) NOT NULL,
            completion_status VARCHAR(20) DEFAULT 'not_started',
            quiz_score DECIMAL(5,2),
            time_spent_minutes INTEGER DEFAULT 0,
            last_accessed_at TIMESTAMP DEFAULT NOW(),
            completed_at TIMESTAMP,

            CONSTRAINT check_status
                CHECK (completion_status IN ('not_started', 'in_progress', 'completed')),
            CONSTRAINT check_score_range
                CHECK (quiz_score IS NULL OR (quiz_score >= 0 AND quiz_score <= 100)),
            CONSTRAINT unique_student_chapter UNIQUE (student_id, chapter_id)
        );
        CREATE INDEX idx_progress_student ON chapter_progress(student_id);
        CREATE INDEX idx_progress_chapter ON chapter_progress(chapter_id);
        CREATE INDEX idx_progress_completion ON chapter_progress(completion_status, completed_at);

        CREATE TABLE quiz_attempts (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            student_id UUID NOT NULL REFERENCES students(id) ON DELETE CASCADE,
            quiz_id VARCHAR(50) NOT NULL,
            chapter_id VARCHAR(50) NOT NULL,
            answers_json JSONB NOT NULL,
            score DECIMAL(5,2) NOT NULL,
            passed BOOLEAN NOT NULL,
            grading_details_json JSONB,
            submitted_at TIMESTAMP DEFAULT NOW(),

            CONSTRAINT check_score_range CHECK (score >= 0 AND score <= 100)
        );
        CREATE INDEX idx_attempts_student ON quiz_attempts(student_id, submitted_at DESC);
        CREATE INDEX idx_attempts_quiz ON quiz_attempts(quiz_id);
        CREATE INDEX idx_attempts_chapter ON quiz_attempts(chapter_id);

        CREATE TABLE streaks (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            student_id UUID UNIQUE NOT NULL REFERENCES students(id) ON DELETE CASCADE,
            current_streak INTEGER DEFAULT 0,
            longest_streak INTEGER DEFAULT 0,
            last_activity_date DATE,
            timezone VARCHAR(50) DEFAULT 'UTC',

            CONSTRAINT check_streaks_positive CHECK (current_streak >= 0 AND longest_streak >= 0)
        );
        CREATE INDEX idx_streaks_student ON streaks(student_id);
        CREATE INDEX idx_streaks_last_activity ON streaks(last_activity_date DESC);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE streaks;
        DROP TABLE quiz_attempts;
        DROP TABLE chapter_progress;
        DROP TABLE students;
        """
    )
