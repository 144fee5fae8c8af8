"""The classroom's tables: students (with their check counter), submissions, drafts, settings.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "students",
        sa.Column("assignment", sa.String(length=64), nullable=False),
        sa.Column("student", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("variant", sa.String(length=200), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assignment", "student"),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("assignment", sa.String(length=64), nullable=False),
        sa.Column("student", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("variant", sa.String(length=200), nullable=False),
        sa.Column("browser", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("verdicts", sa.JSON(), nullable=False),
        sa.Column("given", sa.Float(), nullable=False),
        sa.Column("maximum", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assignment", "student", "attempt"),
    )
    with op.batch_alter_table("submissions") as batch:
        batch.create_index(batch.f("ix_submissions_assignment"), ["assignment"], unique=False)
    op.create_table(
        "drafts",
        sa.Column("assignment", sa.String(length=64), nullable=False),
        sa.Column("student", sa.String(length=200), nullable=False),
        sa.Column("browser", sa.String(length=64), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assignment", "student", "browser"),
    )
    op.create_table(
        "settings",
        sa.Column("assignment", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assignment"),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_table("drafts")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index(batch.f("ix_submissions_assignment"))
    op.drop_table("submissions")
    op.drop_table("students")
