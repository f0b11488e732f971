"""Alembic's entry point, driven only by :meth:`scheduler.store.Store.migrate`.

The store hands over an open connection (already inside its transaction and, on
PostgreSQL, holding the migration lock) through ``config.attributes``; there is no
alembic.ini and no URL here, so a migration always runs on the database the
application itself uses.
"""

from alembic import context

from scheduler.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
