"""teams: weekly coverage snapshots (the change since last week), whether the team's time
zone was chosen (or is only the operator's default), and the team's escalation ladders

Revision ID: 0010_team_coverage
Revises: 0009_events_hiring
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010_team_coverage"
down_revision: str | None = "0009_events_hiring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = (
    "members",
    "current",
    "due_30",
    "due_90",
    "grace",
    "lapsed",
    "cpr_current",
    "cpr_needed",
)


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(
            sa.Column("zone_chosen", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("ladder", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("card_ladder", sa.String(length=32), nullable=True))
    op.create_table(
        "team_coverage",
        sa.Column(
            "team_id", sa.Integer(), sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("week_of", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "week_of"),
    )


def downgrade() -> None:
    op.drop_table("team_coverage")
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("card_ladder")
        batch.drop_column("ladder")
        batch.drop_column("zone_chosen")
