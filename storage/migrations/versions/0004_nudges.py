"""nudges

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 15:26:36.452649
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("cycle_end", sa.Date(), nullable=False),
        sa.Column("milestone", sa.String(length=32), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["credential_id"], ["credentials.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credential_id", "cycle_end", "milestone", name="uq_nudge"),
    )
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nudges_credential_id"), ["credential_id"], unique=False
        )

    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_nudge_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("snoozed_until", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        # Defaults for the rows already there.
        batch_op.add_column(
            sa.Column("nudges_stopped", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "cycle_set_at",
                storage.types.UTCDateTime(timezone=True),
                nullable=False,
                server_default=sa.text("CURRENT_TIMESTAMP"),
            )
        )
        batch_op.create_index(
            batch_op.f("ix_credentials_next_nudge_at"), ["next_nudge_at"], unique=False
        )

    with op.batch_alter_table("trainers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "nudge_intensity", sa.String(length=16), nullable=False, server_default="normal"
            )
        )
        batch_op.add_column(sa.Column("quiet_start", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quiet_end", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trainers", schema=None) as batch_op:
        batch_op.drop_column("quiet_end")
        batch_op.drop_column("quiet_start")
        batch_op.drop_column("nudge_intensity")

    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_next_nudge_at"))
        batch_op.drop_column("cycle_set_at")
        batch_op.drop_column("nudges_stopped")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("next_nudge_at")

    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nudges_credential_id"))

    op.drop_table("nudges")
