"""Alembic environment: bidui passes its engine's connection in `config.attributes`."""

from alembic import context

from pipelines.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("bidui runs migrations through pipelines.store.snapshots.migrate(), which supplies a connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
