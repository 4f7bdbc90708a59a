"""Alembic environment: uses the connection selfdata hands over, never a URL of its own."""

from __future__ import annotations

from alembic import context

from selfdata.db.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    engine = config.attributes.get("engine")
    if engine is None:
        raise RuntimeError("selfdata migrations run through selfdata.db.migrate.upgrade()")
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
