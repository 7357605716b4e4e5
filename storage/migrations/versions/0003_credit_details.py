"""credit batch, category, cost and proof

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("credits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("cost", sa.Numeric(precision=10, scale=2), nullable=True))
        batch_op.add_column(sa.Column("proof_file_id", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("proof_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("proof_name", sa.String(length=128), nullable=True))
        batch_op.create_index("ix_credits_batch", ["batch"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("credits", schema=None) as batch_op:
        batch_op.drop_index("ix_credits_batch")
        for column in ("proof_name", "proof_kind", "proof_file_id", "cost", "category", "batch"):
            batch_op.drop_column(column)
