"""security notices

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import keyturn.db

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "security_notices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", keyturn.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", keyturn.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", keyturn.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("link_expires_at", keyturn.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("link_used_at", keyturn.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_security_notices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_notices")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_security_notices_token_hash")),
    )
    with op.batch_alter_table("security_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_security_notices_status_next_attempt_at",
            ["status", "next_attempt_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_security_notices_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("security_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_notices_user_id"))
        batch_op.drop_index("ix_security_notices_status_next_attempt_at")

    op.drop_table("security_notices")
