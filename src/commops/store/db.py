"""Engines, sessions and schema migrations for SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from commops.errors import StoreError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration. tests/test_store.py checks that it is Alembic's head.
HEAD_REVISION = "0013_web"


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"database URL {url!r} is not a URL",
            hint="Use sqlite:///path/to/file.db or postgresql+psycopg://user:pass@host/db.",
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"database URL {redact(url)}: only SQLite and PostgreSQL are supported",
        )
    try:
        engine = create_engine(url, future=True)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"database URL {redact(url)}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def known_revisions() -> set[str]:
    """Every schema revision the migrations folder holds."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


class Store:
    """The database of a workspace."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def check_connection(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreError(
                f"cannot connect to database {redact(self.url)}: {reason}",
                hint="Check that the server is running and the URL, user and password are right.",
            ) from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed at the end of the block, or rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def new_session(self) -> Session:
        """A session whose transactions the caller commits (checkpoints); closing it rolls back
        whatever was not committed."""
        return self._sessions()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
            return None if row is None else str(row[0])

    def migrate(self, revision: str = "head") -> None:
        from alembic import command
        from alembic.config import Config as AlembicConfig
        from alembic.util import CommandError

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        except (SQLAlchemyError, CommandError) as exc:
            raise StoreError(f"migrating {redact(self.url)} failed: {exc}") from exc

    def ensure_schema(self, *, create: bool = False) -> bool:
        """Bring the schema to HEAD_REVISION. Returns True when migrations ran."""
        self.check_connection()
        current = self.current_revision()
        if current == HEAD_REVISION:
            return False
        if current is not None and current not in known_revisions():
            raise StoreError(
                f"database {redact(self.url)} is at schema revision {current!r}, which this "
                f"version of commops does not know (its newest is {HEAD_REVISION!r})",
                hint="It was written by a newer commops: upgrade commops to open it.",
            )
        if current is None and not create:
            with self.engine.connect() as conn:
                tables = inspect(conn).get_table_names()
            if tables:
                raise StoreError(
                    f"database {redact(self.url)} has tables but is not a commops database",
                )
        self.migrate("head")
        return True

    def dispose(self) -> None:
        self.engine.dispose()
