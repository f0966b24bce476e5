"""Apply the Alembic migrations in `server/migrations/` to the configured database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from server.store.database import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision (idempotent; safe to run on every start)."""

    def run(connection: Connection) -> None:
        config = alembic_config(database.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    await database.run_sync(run)
