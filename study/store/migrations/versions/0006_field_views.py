"""field_views: which specimen fields a triage reviewer opened, in what order, for how long

Revision ID: 0006_field_views
Revises: 0004 (the lead re-chains at merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("session_index", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("read_id", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("field_index", sa.Integer(), nullable=False),
        sa.Column("shown_ms", sa.Integer(), nullable=False),
        sa.Column("decisive", sa.Boolean(), nullable=False),
        sa.Column("ai_rank", sa.Integer(), nullable=True),
        sa.Column("in_top_k", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["reader_id"], ["readers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("field_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_field_views_reader_id"), ["reader_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("field_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_field_views_reader_id"))
    op.drop_table("field_views")
