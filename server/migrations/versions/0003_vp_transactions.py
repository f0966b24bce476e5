"""OpenID4VP relay transactions: request objects and wallet responses, kept only until retrieved or expired.

Revision ID: 0003
"""

from __future__ import annotations

from alembic import op

from server.store import schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema.vp_transactions.create(op.get_bind())


def downgrade() -> None:
    schema.vp_transactions.drop(op.get_bind())
