"""Alembic environment: runs on the connection that `server.store.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from server.store.schema import metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `cancuoc-server migrate`, which hands Alembic its connection")
run_on(connection)
