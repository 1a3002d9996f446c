"""email_proofs: addresses claimed or to be proven, attached only once the mailbox answers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import keyturn.db

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_proofs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", keyturn.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", keyturn.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_email_proofs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_proofs")),
        sa.UniqueConstraint("user_id", name=op.f("uq_email_proofs_user_id")),
    )


def downgrade() -> None:
    op.drop_table("email_proofs")
