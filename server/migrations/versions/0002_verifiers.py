"""Registered verifiers (clinics): client id, purpose, allowed claims and the certificate issued to each.

Revision ID: 0002
"""

from __future__ import annotations

from alembic import op

from server.store import schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema.verifiers.create(op.get_bind())


def downgrade() -> None:
    schema.verifiers.drop(op.get_bind())
