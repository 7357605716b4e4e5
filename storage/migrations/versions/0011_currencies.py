"""credits.cost_currency and trainers.currency: costs kept with their currency

Revision ID: 0011_currencies
Revises: 0010_team_coverage
Create Date: 2026-12-02 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_currencies"
down_revision: str | None = "0010_team_coverage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("credits") as batch:
        batch.add_column(sa.Column("cost_currency", sa.String(length=3), nullable=True))
    with op.batch_alter_table("trainers") as batch:
        batch.add_column(sa.Column("currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trainers") as batch:
        batch.drop_column("currency")
    with op.batch_alter_table("credits") as batch:
        batch.drop_column("cost_currency")
