"""Alembic's entry point, driven by :meth:`scheduler.store.Store.migrate`.

The store hands over an open connection (already inside its transaction and, on
PostgreSQL, holding the migration lock) through ``config.attributes``; there is no
alembic.ini and no URL here, so a migration always runs on the database the
application itself uses. :func:`scheduler.store.engine.alembic_config` builds that
configuration for any other Alembic command, such as writing the next revision.
Tables that are not duban's own (APScheduler's job store shares the database) are
invisible to autogenerate.
"""

from alembic import context

from scheduler.store.schema import metadata


def _ours(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
    return type_ != "table" or name in metadata.tables


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    include_name=_ours,
)
with context.begin_transaction():
    context.run_migrations()
