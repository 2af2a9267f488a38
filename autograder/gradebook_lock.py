"""One writer at a time in a shared PostgreSQL gradebook, so concurrent grading runs lose nothing.

Several ``autograder grade`` runs (or a run and the formgrader) may write one PostgreSQL gradebook. Without
coordination they collide: two runs creating the schema of an empty database (``relation
"alembic_version" already exists``), or adding the same student at once (a unique violation that would
end one run). nbgrader commits inside most of its gradebook methods, so a transaction cannot hold a
write together; a PostgreSQL session-level advisory lock, taken on a connection of its own, can.

- :func:`held_url`: around setting up a database (``generate_assignment``), by URL.
- :func:`held`: around writing one result through an open nbgrader ``Gradebook``.

Both do nothing for SQLite (one run owns its file, and SQLite locks it anyway) or any other database.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

__all__ = ["LOCK_KEY", "held", "held_url"]

#: The advisory lock's key, the same in every run: the bytes "autograd" as a positive 64-bit integer.
LOCK_KEY = int.from_bytes(b"autograd", "big") & (2**63 - 1)

_CONNECTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _is_postgres(engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextlib.contextmanager
def _locked(connection) -> Iterator[None]:
    from sqlalchemy import text

    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
    try:
        yield
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        connection.commit()


@contextlib.contextmanager
def held_url(db_url: str) -> Iterator[None]:
    """Hold the gradebook lock of ``db_url`` for the block (PostgreSQL only)."""
    from sqlalchemy import create_engine

    if not db_url.startswith("postgresql"):
        yield
        return
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection, _locked(connection):
            yield
    finally:
        engine.dispose()


@contextlib.contextmanager
def held(gradebook) -> Iterator[None]:
    """Hold the lock while writing through ``gradebook`` (an nbgrader ``Gradebook``; PostgreSQL only).

    The lock lives on a connection kept for as long as the gradebook object, so a run pays for one
    connection, not one per result.
    """
    engine = gradebook.engine
    if not _is_postgres(engine):
        yield
        return
    connection = _CONNECTIONS.get(gradebook)
    if connection is None or connection.closed:
        connection = _CONNECTIONS[gradebook] = engine.connect()
        weakref.finalize(gradebook, connection.close)
    with _locked(connection):
        yield
