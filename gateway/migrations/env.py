"""Alembic environment: the URL comes from the gateway's settings, the metadata from its models."""
from alembic import context

from gateway.db import make_engine
from gateway.directory.search import is_search_object
from gateway.models import metadata

config = context.config


def run_migrations() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _include_name(name, type_, parent_names) -> bool:
    # the search's FTS5 table and GIN indexes (migration 0024) are not described by the models
    return not is_search_object(name)


def _for_dialect(dialect: str):
    def include_object(obj, name, type_, reflected, compare_to) -> bool:
        # A model's constraint or index declared for one database only (SQLAlchemy's ``ddl_if``):
        # autogenerate does not read that condition itself.
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect in (None, dialect)
    return include_object


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_include_name,
        include_object=_for_dialect(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


run_migrations()
