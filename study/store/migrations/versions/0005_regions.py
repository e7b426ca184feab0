"""reads: region answers (mask PNG, spacing) and the editing record of a region read

Revision ID: 0005_regions
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_mask", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("region_spacing", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("accepted_unchanged", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("edit_ms", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("edit_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reads", schema=None) as batch_op:
        for name in ("edit_count", "edit_ms", "accepted_unchanged", "region_spacing", "region_mask"):
            batch_op.drop_column(name)
