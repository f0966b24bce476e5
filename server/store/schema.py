"""The database schema (SQLAlchemy Core): every piece of server state, for SQLite and PostgreSQL alike.

Secrets (operator tokens, pre-authorized codes, access tokens, nonces) are stored only as SHA-256 hashes.
Alembic migrations in `server/migrations/` create exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

citizens = Table(
    "citizens",
    metadata,
    Column("citizen_id", String(12), primary_key=True),
    Column("record", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

health_cards = Table(
    "health_cards",
    metadata,
    Column("citizen_id", String(12), ForeignKey("citizens.citizen_id"), primary_key=True),
    Column("record", JSON, nullable=False),
)

social_books = Table(
    "social_books",
    metadata,
    Column("citizen_id", String(12), ForeignKey("citizens.citizen_id"), primary_key=True),
    Column("record", JSON, nullable=False),
)

operators = Table(
    "operators",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True)),
)

offers = Table(
    "offers",
    metadata,
    Column("id", String(43), primary_key=True),
    Column("issuer", String(8), nullable=False),
    Column("citizen_id", String(12), ForeignKey("citizens.citizen_id"), nullable=False),
    Column("configuration_ids", JSON, nullable=False),
    Column("code_hash", LargeBinary(32), nullable=False, unique=True),
    Column("tx_code_hash", LargeBinary(32)),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("created_by", Integer, ForeignKey("operators.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("fetched_at", DateTime(timezone=True)),
    Column("redeemed_at", DateTime(timezone=True)),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("offer_id", String(43), ForeignKey("offers.id"), nullable=False),
    Column("citizen_id", String(12), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("offer_id", String(43), ForeignKey("offers.id"), nullable=False),
    Column("issuer", String(8), nullable=False),
    Column("citizen_id", String(12), nullable=False),
    Column("configuration_ids", JSON, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

nonces = Table(
    "nonces",
    metadata,
    Column("nonce_hash", LargeBinary(32), primary_key=True),
    Column("issuer", String(8), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

credential_families = Table(
    "credential_families",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("issuer", String(8), nullable=False),
    Column("citizen_id", String(12), ForeignKey("citizens.citizen_id"), nullable=False),
    Column("configuration_id", String(64), nullable=False),
    Column("vct", String(128), nullable=False),
    Column("status", SmallInteger, nullable=False, default=0),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("status_changed_at", DateTime(timezone=True)),
    Index("ix_credential_families_citizen", "citizen_id"),
)

status_entries = Table(
    "status_entries",
    metadata,
    Column("issuer", String(8), primary_key=True),
    Column("list_id", Integer, primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("family_id", String(32), ForeignKey("credential_families.id"), nullable=False),
    Index("ix_status_entries_family", "family_id"),
)

status_lists = Table(
    "status_lists",
    metadata,
    Column("issuer", String(8), primary_key=True),
    Column("list_id", Integer, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("version", BigInteger, nullable=False, default=0),
    Column("token", Text),
    Column("token_version", BigInteger),
    Column("token_expires_at", DateTime(timezone=True)),
)

issuance_log = Table(
    "issuance_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event", String(16), nullable=False),
    Column("issuer", String(8), nullable=False),
    Column("family_id", String(32), nullable=False),
    Column("vct", String(128), nullable=False),
    Column("kid", String(64)),
    Column("list_id", Integer),
    Column("idx", Integer),
    Column("credential_hash", String(43)),
    Column("at", DateTime(timezone=True), nullable=False),
)

verifiers = Table(
    "verifiers",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("allowed", JSON, nullable=False),
    Column("certificate", LargeBinary, nullable=False),
    Column("registration", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

vp_transactions = Table(
    "vp_transactions",
    metadata,
    Column("id", String(43), primary_key=True),
    Column("read_token_hash", LargeBinary(32), nullable=False),
    Column("request_object", Text),
    Column("state", String(128)),
    Column("response", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True)),
    Index("ix_vp_transactions_expires_at", "expires_at"),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("window_start", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Index("ix_rate_limits_window_start", "window_start"),
)
