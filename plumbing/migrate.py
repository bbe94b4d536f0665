"""Alembic, one migration history per service, each against its own database.

`python -m plumbing.migrate <service>...` upgrades to head (all services when
none is named). A service's `migrations/env.py` is one call to `run_env`.
"""
import sys

from alembic import command, context
from alembic.config import Config

from plumbing import settings
from plumbing.db import make_engine


def alembic_config(service, url=None):
    config = Config()
    config.set_main_option("script_location", str(settings.ROOT / "services" / service / "migrations"))
    config.set_main_option("sqlalchemy.url", (url or settings.database_url(service)).replace("%", "%%"))
    return config


def upgrade(service, url=None, revision="head"):
    command.upgrade(alembic_config(service, url), revision)


def downgrade(service, url=None, revision="base"):
    command.downgrade(alembic_config(service, url), revision)


def never_reuse_ids(op, table):
    """SQLite hands a deleted row's id to the next row unless the table says
    AUTOINCREMENT (a PostgreSQL sequence never goes back): rebuild the table so."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}):
            pass


def widen_to_bigint(op, columns, back=False):
    """Alters `columns` ({table: [column, ...]}) from 32-bit INTEGER to BIGINT (`back`:
    the other way). SQLite's INTEGER is 64-bit already, so there it changes nothing."""
    import sqlalchemy as sa
    if op.get_bind().dialect.name == "sqlite":
        return
    old, new = (sa.BigInteger, sa.Integer) if back else (sa.Integer, sa.BigInteger)
    for table, names in columns.items():
        for name in names:
            op.alter_column(table, name, type_=new, existing_type=old)


def run_env(target_metadata):
    """Body of every service's migrations/env.py (online mode only)."""
    from plumbing import messaging
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        if url.startswith("sqlite"):
            # A batch migration rebuilds a table by dropping the old one; with foreign
            # keys on, that drop would cascade into the rows that refer to it. (A pragma
            # set inside a transaction is ignored, so it goes to the driver first.)
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection,
                          target_metadata=[target_metadata, messaging.metadata],
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def main(argv):
    for service in argv or settings.SERVICES:
        if service not in settings.SERVICES:
            sys.exit(f"unknown service {service!r}")
        upgrade(service)
        print(f"migrated {service}")


if __name__ == "__main__":
    main(sys.argv[1:])
