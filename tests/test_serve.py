"""tracegrad serve through Starlette's test client: every route, the API's answers against the
commands' own output and against numbers worked by hand, the pages, refusals and limits."""

import io
import json
import math
import re
import socket
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from html.parser import HTMLParser

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # Starlette ≥ 1.x prefers httpx2, which the registry here lacks
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient  # noqa: E402

from tests.conftest import GOLDEN, ROOT, wide_problem  # noqa: E402
from tracegrad.cli import main as cli  # noqa: E402
from tracegrad.serve.app import MAX_BODY, ReplyCache, create_app  # noqa: E402
from tracegrad.serve.layout import layout  # noqa: E402
from tracegrad.serve.replies import Reply  # noqa: E402

SEED = (ROOT / "examples" / "seed.toml").read_text(encoding="utf-8")
PRINTED = (ROOT / "examples" / "seed_printed.toml").read_text(encoding="utf-8")
VARIANTS = (ROOT / "examples" / "seed_variants.toml").read_text(encoding="utf-8")
EXPRESSION = (ROOT / "examples" / "expression_homework.toml").read_text(encoding="utf-8")


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def seed_by_hand(w11=0.5):
    """The 2-2-1 example in plain Python (W1[0][0] = w11): z1, a1, z2, ŷ, L and ∂L/∂ŷ."""
    z1 = [1 * w11 + 2 * 0.7 + 0.1, 1 * 0.6 + 2 * 0.8 + 0.2]
    a1 = [sigmoid(z) for z in z1]
    z2 = a1[0] * 0.9 + a1[1] * 0.1 + 0.3
    y_hat = sigmoid(z2)
    return {"z1": z1, "a1": a1, "z2": z2, "y_hat": y_hat, "loss": 0.5 * (y_hat - 0.5) ** 2, "dL/dy_hat": y_hat - 0.5}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(workers=2, time_limit=20)) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command_output(capsys, *argv) -> str:
    cli(list(argv))
    return capsys.readouterr().out


def lines_by_name(view: dict) -> dict:
    return {line["name"]: line for s in view["sections"] for b in s["blocks"] for line in b["lines"]}


# --- the API answers as the commands do -----------------------------------------------------------

def test_derive_api_is_the_command_json(client):
    r = client.post("/api/derive", json={"problem": SEED})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.text == (GOLDEN / "seed.exact.en.json").read_text(encoding="utf-8")
    assert r.headers["x-tracegrad-exit-code"] == "0"


@pytest.mark.parametrize("fmt, ext, media", [("markdown", "md", "text/markdown"), ("latex", "tex", "application/x-tex"),
                                             ("text", "txt", "text/plain")])
def test_derive_api_other_formats_are_the_golden_files(client, fmt, ext, media):
    r = client.post("/api/derive", json={"problem": SEED, "options": {"format": fmt, "lang": "zh", "rounding": "carry"}})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert r.text == (GOLDEN / f"seed.carry.zh.{ext}").read_text(encoding="utf-8")


def test_derive_api_follows_an_edited_weight(client):
    edited = SEED.replace("weights = [[0.5, 0.6]", "weights = [[0.3, 0.6]")
    view = client.post("/api/derive", json={"problem": edited}).json()
    hand = seed_by_hand(0.3)
    lines = lines_by_name(view)
    assert lines["z1"]["values"] == pytest.approx(hand["z1"], rel=1e-12)
    assert lines["y_hat"]["values"] == pytest.approx([hand["y_hat"]], rel=1e-12)
    assert lines["dL/dy_hat"]["values"] == pytest.approx([hand["dL/dy_hat"]], rel=1e-12)


def test_derive_api_json_problem_and_options(client):
    problem = {"layers": [{"weights": [[0.5, 0.6], [0.7, 0.8]], "bias": [0.1, 0.2], "activation": "sigmoid"},
                          {"weights": [[0.9], [0.1]], "bias": [0.3], "activation": "sigmoid"}],
               "data": {"x": [1, 2], "y": 0.5}}
    r = client.post("/api/derive", json={"problem": json.dumps(problem), "options": {"sig_figs": 3, "view": "node"}})
    assert r.status_code == 200
    view = r.json()
    assert view["view"] == "node" and view["precision"] == "3 significant figures"


def test_check_api_is_the_command_json(client):
    r = client.post("/api/check", json={"problem": SEED, "answers": PRINTED})
    assert r.status_code == 200 and r.headers["x-tracegrad-exit-code"] == "1"
    golden = (GOLDEN / "check_seed_printed.en.json").read_text(encoding="utf-8")
    golden = golden.replace('"examples/seed.toml"', '"problem.toml"').replace('"examples/seed_printed.toml"',
                                                                              '"answers.toml"')
    assert r.text == golden
    report = r.json()
    # README: the document's printed numbers are 24 correct, 13 carried, 1 imprecise (loss = 0.035, three
    # decimals where the problem asks for four), 5 wrong; σ(2.4) was printed 0.9084
    assert {c["verdict"]: c["count"] for c in report["counts"]} == {"correct": 24, "carried": 13, "imprecise": 1,
                                                                     "wrong": 5}
    a11 = next(row for row in report["rows"] if row["key"] == "a1[1]")
    assert a11["verdict"] == "wrong" and a11["expected"] == pytest.approx(sigmoid(2.4), rel=1e-12)


def test_check_api_expression_problem_with_its_own_answers(client):
    report = client.post("/api/check", json={"problem": EXPRESSION}).json()
    verdicts = {row["key"]: row["verdict"] for row in report["rows"]}
    # f = (x + y)·z at (−2, 5, −4): v3 = 3, f = −12, df/dz = 3, df/dv3 = z = −4, df/dx = df/dy = −4; "df/dx" = 4 is wrong
    assert verdicts == {"v3": "correct", "f": "correct", "df/dz": "correct", "df/dv3": "correct",
                        "df/dx": "wrong", "df/dy": "correct"}


def test_quantities_api(client, capsys):
    r = client.post("/api/quantities", json={"problem": SEED, "options": {"format": "text"}})
    assert r.status_code == 200
    expected = command_output(capsys, "quantities", str(ROOT / "examples" / "seed.toml"))
    assert r.text == expected.replace(str(ROOT / "examples" / "seed.toml"), "problem.toml")
    entries = {e["name"]: e for e in client.post("/api/quantities", json={"problem": SEED}).json()["entries"]}
    assert entries["y_hat"]["values"] == pytest.approx([seed_by_hand()["y_hat"]], rel=1e-12)


def test_expr_api_is_the_command_json(client, capsys):
    r = client.post("/api/expr", json={"expression": "(x + y) * z", "at": {"x": -2, "y": 5, "z": -4}})
    assert r.status_code == 200
    assert r.text == command_output(capsys, "expr", "(x + y) * z", "--at", "x=-2", "y=5", "z=-4", "--format", "json")
    gradients = next(s for s in r.json()["sections"] if s["key"] == "node_gradients")
    values = {line["name"]: line["values"] for b in gradients["blocks"] for line in b["lines"]}
    assert values == {"x": -4.0, "y": -4.0, "z": 3.0}  # ∂f/∂x = ∂f/∂y = z, ∂f/∂z = x + y


PROGRAM = """from micrograd.engine import Value
a = Value(2.0)
b = Value(-3.0)
c = Value(10.0)
e = a * b
d = e + c
f = Value(-2.0)
L = d * f
L.backward()
"""


def test_expr_api_derives_a_program_as_the_command_does(client, capsys, tmp_path):
    r = client.post("/api/expr", json={"program": PROGRAM})
    assert r.status_code == 200
    path = tmp_path / "program.py"
    path.write_text(PROGRAM, encoding="utf-8")
    expected = command_output(capsys, "expr", "--file", str(path), "--format", "json")
    assert r.text == expected.replace(str(path), "program")  # the program is named "program", not a path
    gradients = next(s for s in r.json()["sections"] if s["key"] == "node_gradients")
    values = {line["name"]: line["values"] for b in gradients["blocks"] for line in b["lines"]}
    # L = (a·b + c)·f at a = 2, b = −3, c = 10, f = −2: ∂L/∂a = f·b, ∂L/∂b = f·a, ∂L/∂c = f, ∂L/∂f = a·b + c
    assert values == {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0}
    text = client.post("/api/expr", json={"program": PROGRAM, "options": {"format": "text", "of": "d",
                                                                               "verify": True}})
    assert text.status_code == 200 and text.headers["X-Tracegrad-Exit-Code"] == "0"
    assert "All 3 derivatives" in text.text and "∂d/∂c = 1" in text.text  # d = a·b + c


def test_graph_api_draws_a_program(client):
    graph = client.post("/api/graph", json={"program": PROGRAM}).json()
    nodes = {n["name"]: n for n in graph["nodes"]}
    assert nodes["L"]["data"] == -8.0 and nodes["a"]["grad"] == 6.0 and graph["output"] == nodes["L"]["index"]


@pytest.mark.parametrize("body, message", [
    ({"program": "import os\nos.system('id')"}, "program:1:1: not allowed: importing os"),
    ({"program": "def f(x): return x"}, "program:1:1: not allowed in a program: function definitions"),
    ({"program": "a = Value(2.0)\nb = a *"}, "program:2:8: not valid Python"),
    ({"program": PROGRAM, "at": {"a": 1}}, "at: a program gives its values in Value(…)"),
    ({"program": PROGRAM, "expression": "x", "at": {"x": 1}}, "give an expression and its point, or a program"),
    ({"program": 42}, "program: expected the program's Python source as a string"),
    ({"program": PROGRAM, "options": {"of": "nothing"}}, "nothing"),
    ({"expression": "x", "at": {"x": 1}, "options": {"of": "x"}}, "options.of: names a program's output"),
])
def test_expr_api_refuses_a_bad_program_in_one_line(client, body, message):
    r = client.post("/api/expr", json=body)
    error = r.json()["error"]
    assert r.status_code == 400 and message in error and "\n" not in error, error


def test_graph_api_edges_are_upstream_times_local(client):
    graph = client.post("/api/graph", json={"problem": SEED}).json()
    hand = seed_by_hand()
    nodes = {n["name"]: n for n in graph["nodes"]}
    # the nodes are named as the derivation writes them (L, ŷ[0], z₂[0])
    assert len(graph["nodes"]) == 22 and graph["output"] == nodes["L"]["index"]
    assert nodes["L"]["data"] == pytest.approx(hand["loss"], rel=1e-12) and nodes["L"]["grad"] == 1.0
    assert nodes["ŷ[0]"]["grad"] == pytest.approx(hand["dL/dy_hat"], rel=1e-12)
    for edge in graph["edges"]:
        assert edge["contribution"] == pytest.approx(edge["upstream"] * edge["local"], rel=1e-15)
    into = next(e for e in graph["edges"] if e["source"] == nodes["z₂[0]"]["index"])
    dsigma = hand["y_hat"] * (1 - hand["y_hat"])  # σ′(z₂) = ŷ(1 − ŷ)
    assert into["local"] == pytest.approx(dsigma, rel=1e-12)
    assert into["text"] == f"∂L/∂ŷ[0] × ∂ŷ[0]/∂z₂[0] = {hand['dL/dy_hat']:.4f} × {dsigma:.4f} = " \
                           f"{hand['dL/dy_hat'] * dsigma:.4f}"


def test_graph_api_dot_is_the_command(client, capsys):
    r = client.post("/api/graph", json={"expression": "(x + y) * z", "at": {"x": -2, "y": 5, "z": -4},
                                        "options": {"format": "dot"}})
    assert r.text == command_output(capsys, "graph", "--expr", "(x + y) * z", "--at", "x=-2", "y=5", "z=-4")


def test_variants_api_zip_with_keys_that_check(client):
    body = {"problem": VARIANTS, "options": {"count": 3, "seed": 1}}
    r = client.post("/api/variants", json=body)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = sorted(archive.namelist())
    assert names == ["variants/key.csv", "variants/key.json"] + [
        f"variants/problem-00{i}{suffix}" for i in (1, 2, 3) for suffix in (".key.toml", ".toml")]
    problem, key = archive.read("variants/problem-002.toml").decode(), archive.read("variants/problem-002.key.toml").decode()
    report = client.post("/api/check", json={"problem": problem, "answers": key}).json()
    assert report["passed"] and all(row["verdict"] == "correct" for row in report["rows"])
    assert client.post("/api/variants", json=body).content == r.content  # same seed, same bytes
    assert client.post("/api/variants", json={"problem": VARIANTS, "options": {"count": 101}}).status_code == 400


# --- pages ------------------------------------------------------------------------------------------

class _Scan(HTMLParser):
    """Every script tag's attributes and every attribute name, to find inline script or style."""

    def __init__(self):
        super().__init__()
        self.scripts, self.attributes, self.inline = [], set(), []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.attributes.update(name for name, _ in attrs)
        if tag == "script":
            self.scripts.append(dict(attrs))
            self._in_script = True
        if tag == "style":
            self.inline.append("style element")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline.append(data)


@pytest.mark.parametrize("path", ["/", "/check", "/graph", "/expr", "/variants", "/?lang=zh", "/check?lang=zh"])
def test_pages_have_no_inline_script_or_style(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "default-src 'none'" in csp
    scan = _Scan()
    scan.feed(r.text)
    assert scan.scripts and all(s.get("src", "").startswith("/static/") for s in scan.scripts)
    assert not scan.inline
    assert not {a for a in scan.attributes if a.startswith("on")} and "style" not in scan.attributes
    assert 'href="http' not in r.text and 'src="http' not in r.text  # nothing from elsewhere


def test_home_page_opens_on_the_seed_derivation(client):
    html = client.get("/").text
    assert "Backpropagation, worked step by step" in html and "Forward pass" in html
    assert "z_{1} = X W_{1} + b_{1}" in html  # the LaTeX KaTeX typesets in the browser
    assert 'weights = [[0.5, 0.6],' in html  # the editor holds the example
    zh = client.get("/?lang=zh").text
    assert "前向传播" in zh and 'lang="zh-CN"' in zh


def test_static_assets_are_served_from_the_package(client):
    for path in ("/static/app.js", "/static/style.css", "/static/vendor/katex/katex.min.js",
                 "/static/vendor/katex/katex.min.css", "/static/vendor/katex/fonts/KaTeX_Main-Regular.woff2"):
        assert client.get(path).status_code == 200, path
    css = client.get("/static/vendor/katex/katex.min.css").text
    fonts = set(re.findall(r"url\((fonts/[^)]+)\)", css))
    assert fonts and all(client.get(f"/static/vendor/katex/{f}").status_code == 200 for f in fonts)


def test_check_fragment_marks_the_lines(client):
    html = client.post("/fragment/check", json={"problem": SEED, "answers": PRINTED, "options": {"lang": "en"}}).text
    derivation = html[html.index('<article class="derivation"'):html.index("</article>")]
    # the a₁ line carries a₁[0] correct and a₁[1] wrong with the correct value σ(2.4) beside it
    a1 = derivation[derivation.index('data-name="a1"'):]
    a1 = a1[:a1.index('<div class="line')]
    assert 'verdict verdict-correct" data-key="a1[0]"' in a1 and 'verdict verdict-wrong" data-key="a1[1]"' in a1
    assert f"correct value {sigmoid(2.4):.4f}" in a1
    assert derivation.count('class="verdict verdict-wrong"') == 5
    assert derivation.count('class="verdict verdict-carried"') == 13
    assert "likely mistake" in html and "transposed" in html  # the W1 update's layout mix-up is named
    assert 'class="insert-name" data-name="dL/dW1"' in html  # the names, one click away


def test_check_fragment_without_answers_lists_the_names(client):
    html = client.post("/fragment/check", json={"problem": SEED, "answers": "  ", "options": {"lang": "zh"}}).text
    assert '<details class="names" open>' in html and "前向传播" in html and "verdict-" not in html


def test_fragments_of_every_page(client):
    graph = client.post("/fragment/graph", json={"problem": SEED, "options": {"lang": "en"}}).text
    assert graph.count('<g class="node role-') == 22 and graph.count('<g class="edge"') == 23
    expr = client.post("/fragment/expr", json={"expression": "x * x", "at": "x = 3", "options": {"lang": "en"}}).text
    assert "Backward pass, edge by edge" in expr
    variants = client.post("/fragment/variants", json={"problem": VARIANTS, "options": {"count": 2, "lang": "en"}})
    assert variants.text.count("<tr><td>problem-00") == 2
    refused = client.post("/fragment/derive", json={"problem": "layers = 3", "options": {"lang": "en"}})
    assert refused.status_code == 200 and refused.headers["content-type"].startswith("application/json")
    assert refused.json() == {"error": "problem.toml: data: missing: give a [data] table with x (inputs) and y (targets)"}


# --- refusals ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, body, message", [
    ("/api/derive", {"problem": "layout = 'sideways'\n"}, "problem.toml: layout: expected one of in_out, out_in"),
    ("/api/derive", {"problem": SEED.replace("[[0.9],", "[[0.9, 1],")}, "problem.toml: layers[1].weights"),
    ("/api/derive", {"problem": SEED, "options": {"lang": "fr"}}, "options.lang: expected one of en, zh"),
    ("/api/derive", {"problem": SEED, "options": {"decimals": 99}}, "--decimals must be from 0 to 15"),
    ("/api/derive", {"problem": SEED, "options": {"decimals": True}}, "options.decimals: expected a whole number"),
    ("/api/derive", {"problem": SEED, "options": {"template_dir": "/etc"}}, "reads no file of the server"),
    ("/api/derive", {"problem": SEED, "options": {"as_printed": "/etc/passwd"}}, "reads no file of the server"),
    ("/api/derive", {"problem": SEED, "options": {"colour": "red"}}, "options.colour: unknown option"),
    ("/api/derive", {"options": {}}, "problem: missing"),
    ("/api/derive", {"problem": SEED, "path": "/etc/passwd"}, "path: unknown key"),
    ("/api/derive", [1, 2], "request body: expected a JSON object"),
    ("/api/check", {"problem": SEED}, "answers: give the answers"),
    ("/api/check", {"problem": SEED, "answers": "[answers]\nz9 = 1\n"}, "answers.toml"),
    ("/api/expr", {"expression": "x.__class__", "at": {"x": 1}}, "not allowed: attribute access"),
    ("/api/expr", {"expression": "x + y", "at": {"x": 1}}, "y"),
    ("/api/expr", {"expression": "x", "at": {"x": "one"}}, "at: 'one' is not a number"),
    ("/api/graph", {"problem": SEED, "expression": "x"}, "not both"),
])
def test_bad_input_is_a_400_with_the_message(client, path, body, message):
    r = client.post(path, json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert message in error and "Traceback" not in error


def test_refusals_of_the_request_itself(client):
    r = client.post("/api/derive", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"].startswith("request body: invalid JSON at line 1")
    assert client.post("/api/derive", content=b"problem=x").status_code == 415
    big = json.dumps({"problem": "#" * MAX_BODY}).encode()
    r = client.post("/api/derive", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "at most 262144 bytes" in r.json()["error"]
    chunks = iter([b'{"problem": "'] + [b"#" * 65536] * 5 + [b'"}'])  # no Content-Length: counted while read
    r = client.post("/api/derive", content=chunks, headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = client.get("/api/derive")
    assert r.status_code == 405 and "POST requests with a JSON body" in r.json()["error"]
    assert client.get("/nowhere").status_code == 404
    assert client.post("/fragment/quantities", json={"problem": SEED}).status_code == 404


def test_a_slow_request_is_stopped_and_others_are_served_meanwhile():
    slow = {"problem": wide_problem(40, 40, steps=3)}  # within every limit, and a minute of work
    with TestClient(create_app(workers=2, time_limit=1.5)) as c:
        results = {}
        thread = threading.Thread(target=lambda: results.update(slow=c.post("/api/derive", json=slow)))
        start = time.perf_counter()
        thread.start()
        time.sleep(0.2)
        fast = c.post("/api/derive", json={"problem": SEED.replace("lr = 0.1", "lr = 0.2")})
        fast_seconds = time.perf_counter() - start
        thread.join()
        assert fast.status_code == 200 and fast_seconds < 1.4  # served while the other worker was stuck
        assert results["slow"].status_code == 413 and "longer than 1.5 s" in results["slow"].json()["error"]
        assert c.post("/api/derive", json={"problem": SEED}).status_code == 200  # the stuck worker was replaced


def test_a_request_past_the_memory_limit_is_refused_and_its_worker_replaced():
    hog = {"problem": wide_problem(60, 100, steps=5)}  # within every limit: a graph of millions of nodes
    with TestClient(create_app(workers=1, time_limit=60, memory_mb=256)) as c:
        start = time.perf_counter()
        r = c.post("/api/derive", json=hog)
        assert r.status_code == 413 and "more memory than the server allows" in r.json()["error"]
        assert time.perf_counter() - start < 30
        assert c.post("/api/derive", json={"problem": SEED}).status_code == 200


# --- pieces ------------------------------------------------------------------------------------------

def test_reply_cache_keeps_the_recent_replies_within_its_bytes():
    cache = ReplyCache(max_bytes=10, max_reply=6)
    for key in "abc":
        cache.put(key, Reply(200, "text/plain", b"xxxx"))
    assert cache.get("a") is None and cache.get("b") is not None and cache.get("c") is not None
    cache.put("d", Reply(500, "text/plain", b"x"))
    cache.put("e", Reply(200, "text/plain", b"x" * 7))
    assert cache.get("d") is None and cache.get("e") is None  # errors of load and large replies are not kept


def test_layout_is_left_to_right_and_deterministic(client):
    graph = client.post("/api/graph", json={"problem": SEED}).json()
    picture = layout(graph)
    x = {box.node["index"]: box.x for box in picture.boxes}
    assert all(x[e["source"]] < x[e["target"]] for e in graph["edges"])
    y_leaf = next(n["index"] for n in graph["nodes"] if n["name"] == "y[0]")
    loss = graph["output"]
    assert x[y_leaf] == max(x[e["source"]] for e in graph["edges"] if e["target"] == loss)  # y beside the loss
    assert layout(graph) == picture


def test_import_tracegrad_does_not_load_the_server():
    code = "import sys, tracegrad; tracegrad.derive; import tracegrad.cli; print('starlette' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
    outside = [p for p in (ROOT / "tracegrad").rglob("*.py")
               if "serve" not in p.relative_to(ROOT / "tracegrad").parts and p.name != "serve.py"]
    assert [p for p in outside if re.search(r"\bserve\b", p.read_text(encoding="utf-8"))
            and re.search(r"import .*serve|from .*serve", p.read_text(encoding="utf-8"))] == []


def test_serve_command_refuses_bad_options_and_warns_off_loopback(capsys):
    assert cli(["serve", "--port", "0"]) == 2
    assert "--port must be from 1 to 65535" in capsys.readouterr().err
    # 127.0.0.2 is another loopback address: it warns as any other --host would, and stays on this machine
    proc = subprocess.Popen([sys.executable, "-m", "tracegrad", "serve", "--host", "127.0.0.2", "--port",
                             str(free_port())], stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        first = proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert "warning: listening on 127.0.0.2" in first
