"""phone_challenges.client_failures: wrong SMS codes counted per client

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("phone_challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_failures", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("phone_challenges", schema=None) as batch_op:
        batch_op.drop_column("client_failures")
