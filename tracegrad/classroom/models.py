"""The tables of a class's work (SQLAlchemy 2 ORM). The schema changes only through a migration
(``tracegrad/classroom/migrations/versions/``); ``tests/test_classroom_store.py`` checks that the
migrations build exactly these tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = 64  # an assignment's id
NAME = 200  # a student's id, name, variant label
BROWSER = 64


class Base(DeclarativeBase):
    pass


class Enrolment(Base):
    """A student of an assignment: who they are, their variant, and how many checks they have made
    (the counter the attempt limit is enforced on, one row per student)."""

    __tablename__ = "students"

    assignment: Mapped[str] = mapped_column(String(ID), primary_key=True)
    student: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    variant: Mapped[str] = mapped_column(String(NAME))
    checks: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Submission(Base):
    """One Check: what was written, how each element was judged, the score, and when; ``browser``
    is the random id of the browser that sent it (a typed name is not a sign-in)."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("assignment", "student", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assignment: Mapped[str] = mapped_column(String(ID), index=True)
    student: Mapped[str] = mapped_column(String(NAME))
    name: Mapped[str] = mapped_column(String(NAME))
    variant: Mapped[str] = mapped_column(String(NAME))
    browser: Mapped[str] = mapped_column(String(BROWSER))
    attempt: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(JSON)  # element key → the number as written
    verdicts: Mapped[list] = mapped_column(JSON)  # per element: key, verdict, credit, likely mistake
    given: Mapped[float] = mapped_column(Float)
    maximum: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Draft(Base):
    """Answers saved without checking, per student and browser (the latest save)."""

    __tablename__ = "drafts"

    assignment: Mapped[str] = mapped_column(String(ID), primary_key=True)
    student: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    browser: Mapped[str] = mapped_column(String(BROWSER), primary_key=True)
    answers: Mapped[dict] = mapped_column(JSON)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Override(Base):
    """Settings the teacher changed on the teacher's page (over the problem file's)."""

    __tablename__ = "settings"

    assignment: Mapped[str] = mapped_column(String(ID), primary_key=True)
    settings: Mapped[dict] = mapped_column(JSON)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
