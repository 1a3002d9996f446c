"""sessions.auth_time and amr: the last proof of identity in a session, and how

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import keyturn.db

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sessions opened before this revision: their sign-in is their last proof of identity.
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auth_time", keyturn.db.UtcDateTime(timezone=True)))
        batch_op.add_column(sa.Column("amr", sa.String(length=64)))
    op.execute(
        "UPDATE sessions SET auth_time = created_at, amr = CASE auth_method "
        "WHEN 'phone' THEN 'sms' WHEN 'password' THEN 'pwd' ELSE '' END"
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.alter_column(
            "auth_time", existing_type=keyturn.db.UtcDateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("amr", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("amr")
        batch_op.drop_column("auth_time")
