"""Where a class's work is kept: a database through SQLAlchemy, its schema made by Alembic.

SQLite in a file by default (``DIR/classroom.sqlite3``, ``tracegrad serve --data DIR``), PostgreSQL
when a ``postgresql://`` URL is given (``--database``), so that several server processes share one
class. Every write is one transaction (SQLAlchemy's ``Session.begin()``): a Check's submission is
stored, and the student's check counter raised, together or not at all, before the reply is sent.
The attempt limit is enforced by the database itself (the counter is raised only while it is under
the limit), so two processes cannot both grant a last attempt.

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` transactions and a 30 s busy timeout; PostgreSQL
migrations take an advisory lock, so that processes starting together migrate once.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..core.errors import InputError
from .errors import Refused
from .models import Base, Draft, Enrolment, Override, Submission

DATABASE_FILE = "classroom.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "tracegrad_version"
"""Alembic's table of the applied migration (named for tracegrad, so a shared database's own stays apart)."""
MIGRATION_LOCK = 0x7472_6163  # PostgreSQL advisory lock key of the migrations ("trac")


@dataclass(frozen=True)
class Recorded:
    """A stored submission: its attempt number (1 for the first Check), and the scores of every
    check of the student so far (``given`` points, in attempt order)."""

    attempt: int
    scores: tuple
    maximum: int


@dataclass(frozen=True)
class Standing:
    """A student of an assignment as the teacher sees them."""

    student: str
    name: str
    variant: str
    checks: int
    latest: float  # fractions of 1
    best: float
    last: datetime
    browsers: int


def database_url(data: str | None = None, database: str | None = None) -> str:
    """The SQLAlchemy URL of ``--database URL`` (``postgresql://…``, ``sqlite:///FILE``) or of the SQLite
    file in ``--data DIR`` (made when missing)."""
    if database:
        if database.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise InputError("PostgreSQL needs the psycopg driver: pip install \"tracegrad[postgres]\"",
                                 key="--database") from None
            return "postgresql+psycopg://" + database.split("://", 1)[1]
        if database.startswith(("postgresql+", "sqlite:///")):
            return database
        raise InputError("expected postgresql://USER@HOST/DATABASE or sqlite:///FILE", key="--database")
    folder = Path(data or "tracegrad-data")
    if folder.exists() and not folder.is_dir():
        raise InputError("is a file; --data names a folder for the class's database", file=str(folder))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"the folder cannot be made ({exc.strerror})", file=str(folder)) from None
    return f"sqlite:///{(folder / DATABASE_FILE).resolve()}"


def utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC time (SQLite gives it back without its zone)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class Store:
    """The database of a class (see the module docstring); thread-safe, one per process."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine, event
        from sqlalchemy.orm import sessionmaker

        self.url = url
        self._writing = contextlib.nullcontext()
        if url.startswith("sqlite"):
            self.engine = create_engine(url, connect_args={"timeout": 30})
            # SQLite takes one writer at a time, and a writer waiting on its lock sleeps in steps of up to
            # 100 ms: this process's writers queue on a lock of their own instead (other processes still
            # wait on the file's lock)
            self._writing = threading.Lock()

            @event.listens_for(self.engine, "connect")
            def connect(connection, _):
                connection.isolation_level = None  # transactions are begun below, not by the driver
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA busy_timeout=30000")

            @event.listens_for(self.engine, "begin")
            def begin(connection):
                # a writer takes the write lock first (no deadlock upgrading a read lock); a reader reads
                # the last committed state beside the writer (WAL)
                writes = connection.get_execution_options().get("tracegrad_writes")
                connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(self.engine.execution_options(tracegrad_writes=True), expire_on_commit=False)

    @contextlib.contextmanager
    def _write(self):
        """A session in one write transaction."""
        with self._writing, self._writers.begin() as session:
            yield session

    @classmethod
    def open(cls, data: str | None = None, database: str | None = None) -> "Store":
        """The store of ``--data DIR`` or ``--database URL``, migrated to the current schema; one
        message when the database cannot be reached or is not tracegrad's."""
        from sqlalchemy.exc import SQLAlchemyError

        store = cls(database_url(data, database))
        try:
            store.migrate()
        except SQLAlchemyError as exc:
            store.close()
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise InputError(f"the database cannot be used: {reason}", file=shown_url(store.url)) from None
        return store

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic ``upgrade head``); a database holding other
        tables but no record of tracegrad's migrations is refused, not changed."""
        from alembic import command
        from alembic.config import Config
        from sqlalchemy import inspect, text

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.execution_options(tracegrad_writes=True).begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            tables = set(inspect(connection).get_table_names())
            if tables and VERSION_TABLE not in tables:
                raise InputError(f"holds tables of something else ({', '.join(sorted(tables)[:5])}); give tracegrad "
                                 "a database (or --data folder) of its own", file=shown_url(self.url))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        self.engine.dispose()

    # --- submissions --------------------------------------------------------------------

    def record(self, assignment: str, student, browser: str, answers: dict, verdicts: list, given: float,
               maximum: int, limit: int | None, now: datetime) -> Recorded:
        """Store one Check (``student``: a :class:`~tracegrad.classroom.assignment.Student`) in one
        transaction, raising the student's check counter; :class:`Refused` when ``limit`` checks
        have been made already (nothing is stored then)."""
        from sqlalchemy import select, true, update

        with self._write() as session:
            session.execute(self._insert_missing(Enrolment, assignment=assignment, student=student.id,
                                                 name=student.name, variant=student.variant, checks=0, created=now))
            under = Enrolment.checks < limit if limit is not None else true()
            attempt = session.execute(
                update(Enrolment).where(Enrolment.assignment == assignment, Enrolment.student == student.id, under)
                .values(checks=Enrolment.checks + 1).returning(Enrolment.checks)).scalar()
            if attempt is None:
                raise Refused(f"all {limit} checks of this assignment are used; your teacher has your last one",
                              key="attempts")
            session.add(Submission(assignment=assignment, student=student.id, name=student.name,
                                   variant=student.variant, browser=browser, attempt=attempt, answers=answers,
                                   verdicts=verdicts, given=given, maximum=maximum, created=now))
            scores = session.execute(select(Submission.given).where(
                Submission.assignment == assignment, Submission.student == student.id)
                .order_by(Submission.attempt)).scalars().all()
        return Recorded(attempt, tuple(scores), maximum)

    def _insert_missing(self, model, **values):
        """``INSERT … ON CONFLICT DO NOTHING`` of one row, in the database's dialect."""
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(model).values(**values).on_conflict_do_nothing()

    def checks(self, assignment: str, student: str) -> int:
        """How many checks a student has made."""
        from sqlalchemy import select

        with self.sessions.begin() as session:
            found = session.execute(select(Enrolment.checks).where(
                Enrolment.assignment == assignment, Enrolment.student == student)).scalar()
        return found or 0

    def latest(self, assignment: str, student: str, browser: str | None = None):
        """The student's latest :class:`Submission` (from ``browser`` only, when given), or None."""
        from sqlalchemy import select

        query = select(Submission).where(Submission.assignment == assignment, Submission.student == student)
        if browser is not None:
            query = query.where(Submission.browser == browser)
        with self.sessions.begin() as session:
            return session.execute(query.order_by(Submission.attempt.desc()).limit(1)).scalar()

    def scores(self, assignment: str, student: str) -> tuple:
        """The student's scores (``given`` points) in attempt order."""
        from sqlalchemy import select

        with self.sessions.begin() as session:
            return tuple(session.execute(select(Submission.given).where(
                Submission.assignment == assignment, Submission.student == student)
                .order_by(Submission.attempt)).scalars().all())

    def save_draft(self, assignment: str, student: str, browser: str, answers: dict, now: datetime) -> None:
        """Keep answers typed but not checked (one draft per student and browser, the latest)."""
        with self._write() as session:
            session.merge(Draft(assignment=assignment, student=student, browser=browser, answers=answers,
                                updated=now))

    def draft(self, assignment: str, student: str, browser: str):
        """The :class:`Draft` a student saved from ``browser``, or None."""
        with self.sessions.begin() as session:
            return session.get(Draft, (assignment, student, browser))

    # --- the teacher's -------------------------------------------------------------------

    def standings(self, assignment: str) -> list:
        """Every student of an assignment (:class:`Standing`), by name."""
        from sqlalchemy import distinct, func, select

        s = Submission
        with self.sessions.begin() as session:
            stats = session.execute(
                select(s.student, func.max(s.given / s.maximum), func.max(s.created), func.count(distinct(s.browser)))
                .where(s.assignment == assignment).group_by(s.student)).all()
            newest = select(func.max(s.id)).where(s.assignment == assignment).group_by(s.student)
            latest = {row.student: row.given / row.maximum
                      for row in session.execute(select(s.student, s.given, s.maximum).where(s.id.in_(newest)))}
            people = {e.student: e for e in session.execute(
                select(Enrolment).where(Enrolment.assignment == assignment)).scalars()}
        out = []
        for student, best, last, browsers in stats:
            e = people[student]
            out.append(Standing(student, e.name, e.variant, e.checks, latest[student], best, utc(last), browsers))
        return sorted(out, key=lambda r: (r.name.casefold(), r.student))

    def latest_submissions(self, assignment: str) -> list:
        """The latest :class:`Submission` of every student of an assignment, by student."""
        from sqlalchemy import func, select

        newest = select(func.max(Submission.id)).where(Submission.assignment == assignment) \
            .group_by(Submission.student)
        with self.sessions.begin() as session:
            return list(session.execute(select(Submission).where(Submission.id.in_(newest))
                                        .order_by(Submission.student)).scalars())

    def count(self, assignment: str | None = None) -> int:
        """Stored submissions (of one assignment, or all)."""
        from sqlalchemy import func, select

        query = select(func.count(Submission.id))
        if assignment is not None:
            query = query.where(Submission.assignment == assignment)
        with self.sessions.begin() as session:
            return session.execute(query).scalar()

    def overrides(self, assignment: str) -> dict:
        """The settings the teacher changed on the page (empty when none)."""
        with self.sessions.begin() as session:
            found = session.get(Override, assignment)
            return dict(found.settings) if found else {}

    def set_overrides(self, assignment: str, settings: dict, now: datetime) -> None:
        with self._write() as session:
            session.merge(Override(assignment=assignment, settings=settings, updated=now))


__all__ = ["Store", "Recorded", "Standing", "database_url", "shown_url", "Base"]
