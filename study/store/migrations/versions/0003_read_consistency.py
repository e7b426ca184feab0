"""reads.consistency: the category-vs-likelihood check of a binary read

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consistency", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reads", schema=None) as batch_op:
        batch_op.drop_column("consistency")
