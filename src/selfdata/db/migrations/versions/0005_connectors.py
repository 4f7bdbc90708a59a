"""connectors: accounts linked at a provider, their sealed tokens and sync state

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connector_accounts",
        sa.Column("space_id", sa.String(length=26), nullable=False),
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("doctypes", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("last_sync_at", sa.BigInteger(), nullable=True),
        sa.Column("next_sync_at", sa.BigInteger(), nullable=True),
        sa.Column("state_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("space_id", "id", name=op.f("pk_connector_accounts")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_connector_accounts_state_hash")),
    )
    with op.batch_alter_table("connector_accounts", schema=None) as batch_op:
        batch_op.create_index("ix_connector_accounts_due", ["next_sync_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("connector_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_connector_accounts_due")
    op.drop_table("connector_accounts")
