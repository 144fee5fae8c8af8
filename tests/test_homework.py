"""``tracegrad serve --assignment`` through Starlette's test client: the student's page and API, the
teacher's, every rule (reveal and hints enforced by the server, attempts, roster codes, who may read
what), the grades CSV, refusals, and a restart. Expected numbers are worked by hand (tests/homework.py)."""

import csv
import io
import json
import re
import socket
import subprocess
import sys
import warnings
from html.parser import HTMLParser

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # Starlette ≥ 1.x prefers httpx2, which the registry here lacks
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient  # noqa: E402

from tests.conftest import ROOT  # noqa: E402
from tests.homework import CORRECT, KEYS, SLIP, THREE_MISTAKES, answers, work, written  # noqa: E402
from tests.test_classroom import digits_of_computed_values  # noqa: E402
from tracegrad.classroom.assignment import load_assignment  # noqa: E402
from tracegrad.classroom.store import Store  # noqa: E402
from tracegrad.classroom.submissions import Classroom  # noqa: E402
from tracegrad.serve.app import create_app  # noqa: E402

SEED = (ROOT / "examples" / "seed.toml").read_text(encoding="utf-8")
TOKEN = "teacher-token-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def serve(tmp_path, table: str = "", *, name: str = "hw.toml", text: str = SEED, tools: bool = False,
          data: str = "data") -> TestClient:
    path = tmp_path / name
    if not path.exists():
        path.write_text(text + ("\n[assignment]\n" + table if table else ""), encoding="utf-8")
    room = Classroom([load_assignment(path)], Store.open(data=str(tmp_path / data)))
    return TestClient(create_app(workers=1, classroom=room, teacher_token=TOKEN, tools=tools))


@pytest.fixture
def client(tmp_path):
    with serve(tmp_path) as c:
        yield c


class Inputs(HTMLParser):
    """The <input> elements, <script> and <style> elements and event-handler attributes of a page."""

    def __init__(self):
        super().__init__()
        self.inputs, self.inline = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input":
            self.inputs.append(attrs)
        if (tag == "script" and "src" not in attrs) or tag == "style" or "style" in attrs or \
                any(a.startswith("on") for a in attrs):
            self.inline.append((tag, attrs))


def parse(html: str) -> Inputs:
    scan = Inputs()
    scan.feed(html)
    return scan


def leaked(text: str, typed: dict = {}) -> list:
    """Computed values of the seed (4 decimals, 5 significant figures) that appear in ``text``, but for
    those the student typed (a reply may quote the student's own numbers)."""
    own = {v.lstrip("-") for v in typed.values()}
    return sorted(d for d in digits_of_computed_values() - own if d in text)


# --- the student's page -------------------------------------------------------------------------

def test_the_page_has_a_decimal_input_per_asked_number_and_no_value(client):
    page = client.get("/a/hw")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    scan = parse(page.text)
    boxes = [i for i in scan.inputs if i.get("inputmode") == "decimal"]
    assert [b["name"] for b in boxes] == list(KEYS)  # a1[1], dL/dW2[0], W2_new[1] … in derivation order
    assert all(b["type"] == "text" and b["id"].startswith("answer-") for b in boxes)
    assert any(i["name"] == "student" for i in scan.inputs)
    assert scan.inline == []
    assert leaked(page.text) == []
    assert "σ(2.0)" not in page.text and "0.9" in page.text  # given W₂ = [0.9, 0.1], no worked step
    assert re.search(r'<label for="answer-3">a₁\[1\]</label>', page.text)
    assert page.headers["cache-control"] == "no-store" and "tracegrad_browser=" in page.headers["set-cookie"]


def test_the_page_in_chinese(client):
    page = client.get("/a/hw?lang=zh")
    assert '<html lang="zh-CN">' in page.text and "检查我的答案" in page.text and "前向传播" in page.text
    assert leaked(page.text) == []


def test_check_answers_with_the_verdicts_and_the_score(client):
    reply = client.post("/a/hw/check", json={"student": "Li Wei", "answers": THREE_MISTAKES})
    assert reply.status_code == 200
    data = reply.json()
    assert data["score"] == {"given": 32.0, "maximum": 34}  # two wrong of 34, the rest right or carried
    boxes = {b["key"]: b for b in data["boxes"]}
    assert boxes["a1[1]"]["verdict"] == "wrong" and boxes["z2"]["verdict"] == "carried"
    assert boxes["z2"]["notes"] == ["follows from your a₁[1] = 0.9084: error carried forward"]
    assert boxes["dL/dy_hat"]["mistakes"] == ["loss derivative with the wrong sign (y − ŷ instead of ŷ − y)"]
    assert data["first"] == "a1[1]" and data["attempt"] == 1 and data["attempts_left"] is None


def test_numbers_sent_as_json_numbers_keep_their_written_digits(client):
    # 0.0430 has four decimals as written; a float would make it 0.043 (three: imprecise under the
    # seed's 4-decimal minimum). ∂L/∂W₂[0] ≈ 0.0420 by hand.
    assert written(CORRECT["dL/dW2[0]"]) == "0.0420"
    raw = '{"student": "Li Wei", "answers": {"dL/dW2[0]": 0.0420, "dL/dW2[1]": 0.044}}'
    reply = client.post("/a/hw/check", content=raw, headers={"Content-Type": "application/json"})
    boxes = {b["key"]: b for b in reply.json()["boxes"]}
    assert boxes["dL/dW2[0]"]["written"] == "0.0420" and boxes["dL/dW2[0]"]["verdict"] == "correct"
    assert boxes["dL/dW2[1]"]["verdict"] == "imprecise"  # 0.0437 written with 3 decimals


def every_reply(c, student="Li Wei") -> str:
    """The bodies of every route a student can ask, after a check with three mistakes."""
    bodies = [c.post("/a/hw/check", json={"student": student, "answers": THREE_MISTAKES}).text,
              c.get("/a/hw").text, c.get(f"/a/hw?student={student}").text,
              c.post("/a/hw/save", json={"student": student, "answers": {"a1[1]": "0.9"}}).text,
              c.post("/a/hw/resume", json={"student": student}).text,
              c.get(f"/a/hw/solution?student={student}").text, c.get("/a/hw/solution").text,
              c.get("/").text, c.get("/teacher").text, c.get("/teacher/hw/grades.csv").text,
              c.get("/teacher/hw/summary.json").text, c.post("/api/derive", json={"problem": SEED}).text,
              c.post("/fragment/check", json={"problem": SEED}).text, c.get("/check").text]
    return "\n".join(bodies)


@pytest.mark.parametrize("hints", ["mistake", "step", "none"])
def test_no_route_gives_a_value_before_the_reveal(tmp_path, hints):
    with serve(tmp_path, f'hints = "{hints}"') as c:
        text = every_reply(c)
        assert leaked(text, THREE_MISTAKES) == []
        data = c.post("/a/hw/check", json={"student": "Li Wei", "answers": THREE_MISTAKES}).json()
        assert all("correct" not in b and "worked" not in b for b in data["boxes"])
        assert c.get("/a/hw/solution?student=Li Wei").status_code == 403
        assert c.post("/api/derive", json={"problem": SEED}).status_code == 404  # the tools are off
        formulas = [b.get("formula") for b in data["boxes"] if b.get("formula")]
        assert bool(formulas) == (hints == "step")
        assert all(not re.search(r"\d\.\d", f["text"]) for f in formulas)  # formulas without numbers
        assert bool(data["boxes"][7]["mistakes"]) == (hints != "none")  # ∂L/∂ŷ's sign error


def test_reveal_after_submit_gives_values_and_the_solution(tmp_path):
    with serve(tmp_path, 'reveal = "after_submit"') as c:
        assert c.get("/a/hw/solution?student=Li Wei").status_code == 403
        data = c.post("/a/hw/check", json={"student": "Li Wei", "answers": {"a1[1]": str(SLIP)}}).json()
        boxes = {b["key"]: b for b in data["boxes"]}
        assert data["revealed"] and boxes["a1[1]"]["correct"] == "0.9168"  # σ(2.4) by hand
        assert boxes["a1[1]"]["worked"]["text"] == "a₁[1] = σ(2.4) ≈ 0.9168"
        assert boxes["W2_new[1]"]["correct"] == written(CORRECT["W2_new[1]"])
        page = c.get("/a/hw/solution?student=li wei")
        assert page.status_code == 200 and "0.9168" in page.text and "0.7657" in page.text
        assert c.get("/a/hw/solution?student=Bo").status_code == 403  # Bo has not checked


def test_the_teacher_changes_the_rules_on_the_page(tmp_path):
    with serve(tmp_path) as c:
        assert c.post("/teacher/hw/settings", json={"reveal": "after_submit"}).status_code == 401
        changed = c.post("/teacher/hw/settings", json={"reveal": "after_submit", "attempts": 2}, headers=BEARER)
        assert changed.status_code == 200 and changed.json()["reveal"] == "after_submit"
        data = c.post("/a/hw/check", json={"student": "Li Wei", "answers": {"a1[1]": "0.9"}}).json()
        assert data["revealed"] and data["attempts_left"] == 1
        bad = c.post("/teacher/hw/settings", json={"reveal": "after_attempts"}, headers=BEARER)
        assert bad.status_code == 400 and bad.json()["error"].startswith("settings.reveal: reveal = \"after_attempts\"")
        bad = c.post("/teacher/hw/settings", json={"asked": ["z1"]}, headers=BEARER)
        assert bad.status_code == 400 and bad.json()["error"].startswith("asked: unknown key")


def test_attempts_beyond_the_limit_are_refused_with_a_message(tmp_path):
    with serve(tmp_path, "attempts = 1") as c:
        assert c.post("/a/hw/check", json={"student": "Li Wei", "answers": {"a1[1]": "0.9"}}).status_code == 200
        refused = c.post("/a/hw/check", json={"student": "Li Wei", "answers": {"a1[1]": "0.9168"}})
        assert refused.status_code == 403
        assert refused.json() == {"error": "attempts: all 1 checks of this assignment are used; your teacher has "
                                           "your last one"}
        csv_text = c.get("/teacher/hw/grades.csv", headers=BEARER).text
        assert csv_text.splitlines()[1].startswith("Li Wei,,1,")


def test_a_roster_code_opens_the_students_own_variant(tmp_path):
    text = (ROOT / "examples" / "seed_variants.toml").read_text(encoding="utf-8")
    (tmp_path / "class.csv").write_text("id,name\ns001,Li Wei\ns002,Ana Souza\n", encoding="utf-8")
    with serve(tmp_path, 'roster = "class.csv"\nvariants = 8', text=text) as c:
        start = c.get("/a/hw")
        assert parse(start.text).inputs == [{"id": "student", "name": "student", "type": "text", "value": "",
                                             "maxlength": "100", "required": None, "autocomplete": "off",
                                             "aria-describedby": "student-hint student-error"}]
        mine, theirs = c.get("/a/hw?student=s001"), c.get("/a/hw?student=S002")
        assert len([i for i in parse(mine.text).inputs if i.get("inputmode")]) == len(KEYS)
        given = [re.search(r'data-name="W1">.*?<span class="tex display">(.*?)</span>', p.text, re.S).group(1)
                 for p in (mine, theirs)]
        variants = [c.post("/a/hw/resume", json={"student": s}).json()["variant"] for s in ("s001", "s002")]
        assert (given[0] != given[1]) == (variants[0] != variants[1])
        unknown = c.get("/a/hw?student=Li Wei")
        assert "not on this assignment&#39;s roster" in unknown.text and 'inputmode="decimal"' not in unknown.text
        refused = c.post("/a/hw/check", json={"student": "s003", "answers": {"a1[1]": "0.5"}})
        assert refused.status_code == 400 and refused.json()["error"].startswith("student: not on this assignment")
        ok = c.post("/a/hw/check", json={"student": "s002", "answers": {"a1[1]": "0.5"}}).json()
        assert ok["student"] == "Ana Souza" and ok["variant"].startswith("hw-")
        rows = list(csv.reader(io.StringIO(c.get("/teacher/hw/grades.csv", headers=BEARER).text)))
        assert rows[1][:3] == ["Ana Souza", ok["variant"], "1"]


def test_another_browser_cannot_open_a_students_saved_work(tmp_path):
    with serve(tmp_path) as mine:
        mine.post("/a/hw/save", json={"student": "Li Wei", "answers": {"a1[1]": "0.9084"}})
        assert mine.post("/a/hw/resume", json={"student": "Li Wei"}).json()["answers"] == {"a1[1]": "0.9084"}
        other = TestClient(mine.app)  # another browser: no cookie
        other.__enter__()
        got = other.post("/a/hw/resume", json={"student": "Li Wei"}).json()
        assert got["answers"] == {} and got["check"] is None
        other.post("/a/hw/check", json={"student": "li wei", "answers": {"a1[1]": "0.1"}})
        mine.post("/a/hw/check", json={"student": "Li Wei", "answers": {"a1[1]": "0.9168"}})
        assert mine.post("/a/hw/resume", json={"student": "Li Wei"}).json()["answers"] == {"a1[1]": "0.9168"}
        page = mine.get("/teacher", headers=BEARER)
        assert "2 browsers used this name" in page.text


@pytest.mark.parametrize("body, status, message", [
    ({"student": "Li Wei", "answers": {"a1[1]": "zero"}}, 400, "answers.a1[1]: not a number"),
    ({"student": "Li Wei", "answers": {"a9": "1"}}, 400, "answers.a9: not a box of this assignment"),
    ({"student": "Li Wei", "answers": {}}, 400, "answers: fill in at least one box"),
    ({"student": "", "answers": {"a1[1]": "0.9"}}, 400, "student: type your name or student ID"),
    ({"answers": {"a1[1]": "0.9"}}, 400, "student: expected your name or student ID as a text"),
    ({"student": "Li Wei"}, 400, "answers: missing"),
    ({"student": "Li Wei", "answers": {"a1[1]": "0.9"}, "lang": "fr"}, 400, "lang: expected one of en, zh"),
    ({"student": "Li Wei", "answers": {"a1[1]": "0.9"}, "token": "x"}, 400, "token: unknown key"),
    ([1, 2], 400, "request body: expected a JSON object"),
])
def test_bad_requests_get_one_line_and_store_nothing(client, body, status, message):
    reply = client.post("/a/hw/check", json=body)
    assert reply.status_code == status and reply.json()["error"].startswith(message)
    assert "\n" not in reply.json()["error"]
    assert client.get("/teacher/hw/grades.csv", headers=BEARER).text.count("\n") == 1  # the header only


def test_refusals_of_the_request_itself(client):
    assert client.post("/a/hw/check", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert client.post("/a/hw/check", content=b"student=x").status_code == 415
    big = json.dumps({"student": "x", "answers": {"a1[1]": "1" * 300_000}})
    assert client.post("/a/hw/check", content=big, headers={"Content-Type": "application/json"}).status_code == 413
    assert client.get("/a/hw/check").status_code == 405
    missing = client.get("/a/nope")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "Assignment not found" in missing.text and "nope" in missing.text
    assert client.post("/a/nope/check", json={"student": "x", "answers": {"a1[1]": "1"}}).status_code == 404
    assert "<script>" not in client.get("/a/%3Cscript%3E").text


def test_the_teacher_signs_in_and_downloads_the_grades(client):
    right = answers(work())
    client.post("/a/hw/check", json={"student": "Li Wei", "answers": THREE_MISTAKES})
    client.post("/a/hw/check", json={"student": "Li Wei", "answers": {"a1[1]": str(SLIP)}})  # 0 of 34 now
    client.post("/a/hw/check", json={"student": "Ana", "answers": right})
    assert client.get("/teacher/hw/grades.csv").status_code == 401
    assert client.get("/teacher/hw/grades.csv", headers={"Authorization": "Bearer nope"}).status_code == 401
    page = client.get("/teacher")
    assert page.status_code == 200 and 'type="password"' in page.text and "Li Wei" not in page.text
    assert client.post("/teacher/sign-in", json={"token": "nope"}).status_code == 401
    assert client.post("/teacher/sign-in", json={"token": TOKEN}).status_code == 200
    grades = client.get("/teacher/hw/grades.csv")
    assert grades.headers["content-disposition"] == 'attachment; filename="hw-grades.csv"'
    rows = list(csv.reader(io.StringIO(grades.text)))
    assert rows == [["student", "variant", "attempts", "latest", "best"], ["Ana", "", "1", "1.0000", "1.0000"],
                    ["Li Wei", "", "2", "0.0000", f"{32 / 34:.4f}"]]
    page = client.get("/teacher")
    assert "Li Wei" in page.text and "94.1 %" in page.text and parse(page.text).inline == []
    summary = client.get("/teacher/hw/summary.json").json()
    wrong = {q["name"]: q["counts"]["wrong"] for q in summary["summary"]["quantities"]}
    assert wrong["a1"] == 1 and wrong.get("dL/dy_hat", 0) == 0  # Li Wei's latest answers only a₁[1]
    client.post("/teacher/sign-out")
    assert client.get("/teacher/hw/grades.csv").status_code == 401


def test_nothing_is_lost_when_the_server_restarts(tmp_path):
    with serve(tmp_path) as c:
        c.post("/a/hw/check", json={"student": "Li Wei", "answers": THREE_MISTAKES})
    with serve(tmp_path) as c:  # a new process over the same --data folder
        rows = list(csv.reader(io.StringIO(c.get("/teacher/hw/grades.csv", headers=BEARER).text)))
        assert rows[1] == ["Li Wei", "", "1", f"{32 / 34:.4f}", f"{32 / 34:.4f}"]
        assert c.post("/a/hw/check", json={"student": "Li Wei", "answers": THREE_MISTAKES}).json()["attempt"] == 2


def test_with_tools_the_derivation_pages_stay_and_the_home_page_is_theirs(tmp_path):
    with serve(tmp_path, tools=True) as c:
        assert c.post("/api/derive", json={"problem": SEED}).status_code == 200
        assert "Derive" in c.get("/").text and c.get("/a/hw").status_code == 200
    with serve(tmp_path) as c:
        home = c.get("/")
        assert home.status_code == 200 and 'href="/a/hw?lang=en"' in home.text


# --- the command ---------------------------------------------------------------------------------

def run_serve(*argv, cwd):
    return subprocess.run([sys.executable, "-m", "tracegrad", "serve", *argv], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.mark.parametrize("argv, message", [
    (["--data", "d"], "tracegrad: error: --data belongs to serving homework; give --assignment PROBLEM with it"),
    (["--assignment", "missing.toml"], "tracegrad: error: missing.toml: cannot be read"),
    (["--assignment", "hw.toml", "--teacher-token", "short"], "tracegrad: error: --teacher-token: the teacher's "
                                                               "token needs at least 12 characters"),
    (["--assignment", "hw.toml", "--assignment", "hw.toml"], "tracegrad: error: hw.toml: two assignments have the "
                                                               "id 'hw'"),
    (["--assignment", "bad.toml"], "tracegrad: error: bad.toml: assignment.reveal: expected one of never"),
    (["--assignment", "hw.toml", "--data", "d", "--database", "postgresql://x@y/z"],
     "tracegrad: error: give --data DIR (SQLite) or --database URL (PostgreSQL), not both"),
])
def test_the_command_refuses_bad_options_in_one_line(tmp_path, argv, message):
    (tmp_path / "hw.toml").write_text(SEED, encoding="utf-8")
    (tmp_path / "bad.toml").write_text(SEED + '\n[assignment]\nreveal = "later"\n', encoding="utf-8")
    result = run_serve(*argv, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1


def test_the_command_prints_each_student_link_and_the_teachers_token(tmp_path):
    (tmp_path / "hw.toml").write_text(SEED + '\n[assignment]\nid = "week3"\n', encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "tracegrad", "serve", "--port", str(port), "--assignment",
                             "hw.toml"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stderr.readline() for _ in range(4)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert lines[1].strip() == f"assignment week3: http://127.0.0.1:{port}/a/week3   (the student link; 34 boxes)"
    token = re.search(r"token: (\S+)", lines[2]).group(1)
    assert len(token) >= 32 and lines[2].startswith(f"  teacher's page: http://127.0.0.1:{port}/teacher")
    assert (tmp_path / "tracegrad-data" / "classroom.sqlite3").is_file()
    assert str(tmp_path / "tracegrad-data" / "classroom.sqlite3") in lines[3]


@pytest.mark.parametrize("raw, message", [
    ('{"student": "x", "answers": {"\\ud800": "1"}}', "answers.\\ud800: not a box"),
    ('{"student": "\\ud800", "answers": {"a1[1]": "1"}}', "student: a name or ID of at most 100 printable"),
    ('{"student": "x", "answers": {"a1[1]": ' + "9" * 5000 + "}}", "request body: not a JSON object"),
    ('{"student": "x", "answers": ' + "[" * 100_000 + "]" * 100_000 + "}", "request body: not a JSON object"),
    ('{"student": "x", "answers": {"a1[1]\\nz2": "1"}}', "answers.a1[1]\\nz2: not a box"),
    ('{"student": "x", "answers": {"a1[1]": "NaN"}}', "answers.a1[1]: not a number"),
    ('{"student": "x", "answers": {"a1[1]": 1e400}}', "answers.a1[1]: not a number a derivation writes"),
])
def test_hostile_requests_get_one_line(client, raw, message):
    reply = client.post("/a/hw/check", content=raw.encode("utf-8", "surrogatepass"),
                        headers={"Content-Type": "application/json"})
    assert reply.status_code in (400, 413)
    if reply.status_code == 400:
        assert reply.json()["error"].startswith(message) and "\n" not in reply.json()["error"]


def test_user_text_is_escaped_on_the_teacher_page(client):
    name = '<script>alert(1)</script> =HYPERLINK("x")'
    client.post("/a/hw/check", json={"student": name, "answers": {"a1[1]": "0.9"}})
    page = client.get("/teacher", headers=BEARER)
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    rows = list(csv.reader(io.StringIO(client.get("/teacher/hw/grades.csv", headers=BEARER).text)))
    assert rows[1][0] == name  # as typed (one starting with = gets a ': tests/test_classroom.py)
    mine = client.get("/a/hw?student=" + name)
    assert "<script>alert(1)" not in mine.text


def test_listening_on_every_address_prints_a_link_other_machines_can_open():
    from tracegrad.commands.serve import reachable

    assert reachable("10.1.2.3") == "10.1.2.3" and reachable("::1") == "[::1]"
    wildcard = reachable("0.0.0.0")
    assert wildcard not in ("0.0.0.0", "") and " " not in wildcard
