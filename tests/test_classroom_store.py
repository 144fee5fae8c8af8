"""The classroom's database against real servers: SQLite (a file) always, PostgreSQL where one is
available (``TRACEGRAD_TEST_POSTGRES``; ``.ci/run`` starts a private one, elsewhere these skip and
say why). The migrations build the models' tables; the attempt limit holds against concurrent
checks from two server processes' worth of connections; a failed check leaves nothing behind."""

import threading
from datetime import datetime, timezone

import pytest

from tests.conftest import ROOT
from tests.homework import SLIP
from tracegrad.classroom.assignment import Student, load_assignment
from tracegrad.classroom.errors import Refused
from tracegrad.classroom.store import Store, database_url, utc
from tracegrad.classroom.submissions import Classroom
from tracegrad.core.errors import InputError

NOON = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return database_url(data=str(tmp_path / "data"))
    return database_url(database=request.getfixturevalue("postgres_url"))


@pytest.fixture
def fresh(url):
    """A store on an empty database (PostgreSQL: the module's database, emptied)."""
    store = Store(url)
    from sqlalchemy import MetaData

    with store.engine.begin() as connection:
        meta = MetaData()
        meta.reflect(connection)
        meta.drop_all(connection)
    store.migrate()
    yield store
    store.close()


def test_the_migrations_build_exactly_the_models_tables(fresh):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tracegrad.classroom.models import Base
    from tracegrad.classroom.store import VERSION_TABLE

    with fresh.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    fresh.migrate()  # again: nothing to do


def test_a_check_is_stored_and_found_after_a_restart(fresh):
    a = load_assignment(ROOT / "examples" / "seed.toml")
    room = Classroom([a], fresh)
    room.submit("seed", "Li Wei", {"a1[1]": str(SLIP), "z2": "1.1836"}, browser="b1", when=NOON)
    fresh.close()
    again = Classroom([a], Store(fresh.url))
    rows = again.store.latest_submissions("seed")
    assert [(r.student, r.name, r.attempt, r.answers, r.given, r.maximum) for r in rows] == \
        [("li wei", "Li Wei", 1, {"a1[1]": "0.9084", "z2": "1.1836"}, 1.0, 34)]
    assert [v["verdict"] for v in rows[0].verdicts] == ["wrong", "carried"]
    assert utc(rows[0].created) == NOON
    again.store.close()


def test_the_attempt_limit_holds_under_concurrent_checks(fresh):
    """Eight checks of one student at once through two stores (two server processes' connection pools):
    exactly three are stored, numbered 1, 2, 3; the others are refused."""
    second = Store(fresh.url)
    student = Student("li wei", "Li Wei", "")
    outcomes, barrier = [], threading.Barrier(8)

    def check(store, k):
        barrier.wait()
        try:
            recorded = store.record("hw", student, f"b{k}", {"a1[1]": "0.9"}, [], 0.0, 34, 3, NOON)
            outcomes.append(recorded.attempt)
        except Refused:
            outcomes.append("refused")

    threads = [threading.Thread(target=check, args=(fresh if k % 2 else second, k)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    second.close()
    assert sorted(o for o in outcomes if o != "refused") == [1, 2, 3]
    assert outcomes.count("refused") == 5
    assert fresh.count("hw") == 3 and fresh.checks("hw", "li wei") == 3


def test_a_check_that_fails_half_way_leaves_nothing(fresh):
    student = Student("li wei", "Li Wei", "")
    with pytest.raises(Exception):
        fresh.record("hw", student, "b1", {"a1[1]": "0.9"}, [object()], 0.0, 34, None, NOON)  # not JSON
    assert fresh.count() == 0 and fresh.checks("hw", "li wei") == 0


def test_drafts_are_kept_per_browser(fresh):
    fresh.save_draft("hw", "li wei", "laptop", {"a1[1]": "0.9"}, NOON)
    fresh.save_draft("hw", "li wei", "laptop", {"a1[1]": "0.91"}, NOON)
    fresh.save_draft("hw", "li wei", "phone", {"z2": "1.2"}, NOON)
    assert fresh.draft("hw", "li wei", "laptop").answers == {"a1[1]": "0.91"}
    assert fresh.draft("hw", "li wei", "phone").answers == {"z2": "1.2"}
    assert fresh.draft("hw", "bo", "laptop") is None


def test_a_database_of_something_else_is_refused_not_changed(url):
    from sqlalchemy import MetaData, create_engine, inspect, text

    engine = create_engine(url)
    with engine.begin() as connection:
        meta = MetaData()
        meta.reflect(connection)
        meta.drop_all(connection)
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    with pytest.raises(InputError, match=r"holds tables of something else \(invoices\)"):
        Store.open(database=url)
    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == ["invoices"]
    engine.dispose()


def test_bad_database_options_are_one_message(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="file: is a file; --data names a folder"):
        database_url(data=str(tmp_path / "file"))
    with pytest.raises(InputError, match="--database: expected postgresql://USER@HOST/DATABASE or sqlite:///FILE"):
        database_url(database="mysql://root@localhost/db")
    with pytest.raises(InputError, match="the database cannot be used") as info:
        Store.open(database="postgresql://nobody:secret@127.0.0.1:9/none")
    assert "secret" not in str(info.value) and "\n" not in str(info.value)
