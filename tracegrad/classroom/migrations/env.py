"""Alembic's environment for the classroom's tables. It runs on the connection the store passes in
(``config.attributes["connection"]``), in batch mode on SQLite (whose ALTER TABLE is limited).

A schema change is a new file in ``versions/`` (the next number, ``down_revision`` the last one)
together with the matching change to ``tracegrad/classroom/models.py``;
``tests/test_classroom_store.py`` checks that the migrations build exactly the models' tables."""

from alembic import context

from tracegrad.classroom.models import Base
from tracegrad.classroom.store import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
