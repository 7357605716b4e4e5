"""credits.course_code: the code read from a certificate, for ACE's no-repeat rule

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("credits") as batch:
        batch.add_column(sa.Column("course_code", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credits") as batch:
        batch.drop_column("course_code")
