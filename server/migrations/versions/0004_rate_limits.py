"""Rate limit counters shared by every worker: one row per limit and client address, its window and count.

Revision ID: 0004
"""

from __future__ import annotations

from alembic import op

from server.store import schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema.rate_limits.create(op.get_bind())


def downgrade() -> None:
    schema.rate_limits.drop(op.get_bind())
