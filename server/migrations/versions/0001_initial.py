"""Initial schema: registry, operators, offers, tokens, nonces, credential families, status lists, log.

Revision ID: 0001
"""

from __future__ import annotations

from alembic import op

from server.store import schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = [
    schema.citizens,
    schema.health_cards,
    schema.social_books,
    schema.operators,
    schema.offers,
    schema.outbox,
    schema.access_tokens,
    schema.nonces,
    schema.credential_families,
    schema.status_entries,
    schema.status_lists,
    schema.issuance_log,
]


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind)
