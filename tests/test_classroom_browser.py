"""Homework end to end in a real browser: Debian's headless Chromium driven by Selenium against
``tracegrad serve --assignment`` started as a teacher starts it, at a phone's size (390 × 844, mobile
emulation) and a laptop's (1280 × 800), in English and Chinese.

A student opens the link, types three mistakes into the boxes by their names (an arithmetic slip, a sign
error, and numbers carried from them: tests/homework.py, worked by hand), checks, and reads each verdict
in place; a box that is not a number gets its message and nothing is sent. The server restarts; the
teacher signs in and finds the checks on the teacher's page and in the CSV. The layout rules are
measured (nothing covers the boxes, no sideways scrolling, problem and boxes side by side on a laptop)
and axe-core audits the student's and the teacher's pages (no critical or serious violation).

Skipped, saying why, where Chromium, chromedriver, Selenium or axe-core (``npm install --prefix .ci/node
axe-core@4``, as ``.ci/run`` does) is missing. Screenshots go to ``tests/artifacts/`` (git-ignored).
"""

import csv
import io
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import CHROMEDRIVER, CHROMIUM
from tests.conftest import ROOT, wide_problem
from tests.homework import KEYS, THREE_MISTAKES

AXE = ROOT / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
                allow_module_level=True)
pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -e '.[test]')")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from tests.browser import ARTIFACTS, chromium, typeset, wait  # noqa: E402

SEED = (ROOT / "examples" / "seed.toml").read_text(encoding="utf-8")
TOKEN = "a-teacher-token-for-the-browser-tests"
SIZES = {"phone": (390, 844, True), "desktop": (1280, 800, False)}
WORDS = {"en": {"wrong": "wrong", "carried": "carried", "correct": "correct", "check": "Check my answers",
                "follows": "follows from your a₁[1] = 0.9084", "sign": "loss derivative with the wrong sign",
                "not_number": "Not a number"},
         "zh": {"wrong": "错误", "carried": "承前", "correct": "正确", "check": "检查我的答案",
                "follows": "由你自己的 a₁[1] = 0.9084 推出", "sign": "损失函数导数符号相反",
                "not_number": "这不是数字"}}


class Server:
    """``tracegrad serve --assignment`` in a subprocess over one data folder; restartable."""

    def __init__(self, folder: Path):
        self.folder = folder
        (folder / "hw.toml").write_text(SEED, encoding="utf-8")
        (folder / "wide.toml").write_text(wide_problem(6, 1) + '\n[assignment]\nasked = ["z1", "a1", "dL/dW2"]\n',
                                          encoding="utf-8")
        self.proc = None

    def start(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tracegrad", "serve", "--port", str(self.port), "--assignment", "hw.toml",
             "--assignment", "wide.toml", "--teacher-token", TOKEN], cwd=self.folder, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/static/style.css", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    pytest.fail(f"tracegrad serve did not start: {self.proc.stderr.read().decode()}")
                time.sleep(0.2)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def grades(self) -> list:
        request = urllib.request.Request(self.url + "/teacher/hw/grades.csv",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return list(csv.reader(io.StringIO(response.read().decode("utf-8"))))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("class"))
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium"))
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def size(driver, name: str):
    width, height, mobile = SIZES[name]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                  "deviceScaleFactor": 1, "mobile": mobile})


def open_page(driver, url):
    driver.get(url)
    driver.execute_script("localStorage.clear(); sessionStorage.clear()")
    driver.delete_all_cookies()
    driver.get(url)
    wait(driver, typeset)


def no_console_errors(driver):
    """No console error, no Content-Security-Policy violation, no formula KaTeX could not typeset."""
    assert [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    assert driver.execute_script("return window.__csp") == []
    assert driver.find_elements(By.CSS_SELECTOR, ".katex-error") == []


def axe(driver) -> list:
    """axe-core's critical and serious violations of the page: ``[(rule, impact, first element)]``."""
    if not AXE.is_file():
        pytest.skip("needs axe-core: npm install --prefix .ci/node axe-core@4 (as .ci/run does)")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(function (r) { done(r.violations.map("
        "function (v) { return [v.id, v.impact, v.nodes[0].html.slice(0, 120)]; })); });")
    return [v for v in found if v[1] in ("critical", "serious")]


def layout(driver) -> dict:
    """What the layout rules are about: sideways scrolling, and for every box whether something other
    than itself is on top of it once it is scrolled into view."""
    return driver.execute_script("""
        const covered = [];
        for (const input of document.querySelectorAll('.box input')) {
            input.scrollIntoView({block: 'center'});
            const r = input.getBoundingClientRect();
            const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            if (top !== input) covered.push(input.name);
        }
        window.scrollTo(0, 0);
        const problem = document.querySelector('.problem').getBoundingClientRect();
        const sheet = document.querySelector('.sheet').getBoundingClientRect();
        return {page: document.documentElement.scrollWidth, viewport: window.innerWidth, covered: covered,
                problem: [problem.left, problem.right, problem.top], sheet: [sheet.left, sheet.right, sheet.top]};
    """)


def verdict(driver, key: str):
    box = driver.find_element(By.CSS_SELECTOR, f".box[data-key='{key}']")
    return box.get_attribute("class"), box.find_element(By.CSS_SELECTOR, ".box-verdict").text


@pytest.mark.parametrize("lang, where", [("en", "phone"), ("zh", "phone"), ("en", "desktop"), ("zh", "desktop")])
def test_a_student_checks_three_mistakes_and_reads_each_verdict(server, browser, lang, where):
    words = WORDS[lang]
    size(browser, where)
    open_page(browser, f"{server.url}/a/hw?lang={lang}")
    inputs = browser.find_elements(By.CSS_SELECTOR, ".box input")
    assert [i.get_attribute("name") for i in inputs] == list(KEYS)
    assert {i.get_attribute("inputmode") for i in inputs} == {"decimal"}
    rules = layout(browser)
    assert rules["page"] <= rules["viewport"]  # the page never scrolls sideways
    assert rules["covered"] == []  # nothing covers a box
    if where == "desktop":  # problem and boxes side by side
        assert rules["problem"][1] <= rules["sheet"][0] and abs(rules["problem"][2] - rules["sheet"][2]) < 2
    else:
        assert rules["problem"][0] == rules["sheet"][0]  # stacked
    assert axe(browser) == []
    student = f"Li Wei {lang} {where}"
    browser.find_element(By.NAME, "student").send_keys(student)
    # a box that is not a number: an inline message, nothing sent
    browser.find_element(By.NAME, "z2").send_keys("1,18,36")
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    assert words["not_number"] in verdict(browser, "z2")[1]
    assert browser.find_element(By.NAME, "z2").get_attribute("aria-invalid") == "true"
    assert [r[0] for r in server.grades()[1:]].count(student) == 0
    browser.find_element(By.NAME, "z2").clear()
    # the boxes in derivation order, moving on with Enter as a phone keyboard's "next" key does
    inputs[0].click()
    for key in KEYS:
        active = browser.switch_to.active_element
        assert active.get_attribute("name") == key
        active.send_keys(THREE_MISTAKES[key] + Keys.ENTER)
    assert browser.switch_to.active_element.text == words["check"]
    browser.switch_to.active_element.click()
    wait(browser, lambda d: d.find_element(By.ID, "status").is_displayed() and typeset(d))
    # the arithmetic slip: σ(2.4) is 0.9168, the student wrote 0.9084
    kind, text = verdict(browser, "a1[1]")
    assert "verdict-wrong" in kind and text.startswith(words["wrong"])
    # the number carried from it: 0.8808·0.9 + 0.9084·0.1 + 0.3 = 1.1836
    kind, text = verdict(browser, "z2")
    assert "verdict-carried" in kind and text.startswith(words["carried"]) and words["follows"] in text
    # the sign error: ∂L/∂ŷ = y − ŷ, with its likely mistake named
    kind, text = verdict(browser, "dL/dy_hat")
    assert "verdict-wrong" in kind and words["sign"] in text
    assert "verdict-correct" in verdict(browser, "loss")[0]
    colours = {k: browser.find_element(By.CSS_SELECTOR, f".box[data-key='{k}'] .badge")
               .value_of_css_property("background-color") for k in ("a1[1]", "z2", "loss")}
    assert len(set(colours.values())) == 3  # colour as well as text
    status = browser.find_element(By.ID, "status").text
    assert ("32" in status and "34" in status) and "a₁[1]" in status
    link = browser.find_element(By.CSS_SELECTOR, "#status a.first")
    link.click()
    assert browser.switch_to.active_element.get_attribute("name") == "a1[1]"  # the first box that needs work
    assert "0.9168" not in browser.page_source  # never revealed
    assert axe(browser) == []
    no_console_errors(browser)
    browser.save_screenshot(str(ARTIFACTS / f"homework-{where}-{lang}.png"))
    browser.find_element(By.CSS_SELECTOR, ".box[data-key='a1[1]']").screenshot(
        str(ARTIFACTS / f"homework-{where}-{lang}-a1.png"))
    rows = {r[0]: r for r in server.grades()[1:]}
    assert rows[student][2:] == ["1", f"{32 / 34:.4f}", f"{32 / 34:.4f}"]


def test_typed_answers_are_kept_in_the_browser(server, browser):
    size(browser, "phone")
    open_page(browser, f"{server.url}/a/hw")
    browser.find_element(By.NAME, "student").send_keys("Ana")
    browser.find_element(By.NAME, "loss").send_keys("0.0353")
    time.sleep(0.6)  # kept after 300 ms without typing
    browser.get(f"{server.url}/a/hw")
    wait(browser, lambda d: d.find_element(By.NAME, "loss").get_attribute("value") == "0.0353")
    assert browser.find_element(By.NAME, "student").get_attribute("value") == "Ana"


def test_a_wide_problem_scrolls_its_formulas_in_their_own_boxes_on_a_phone(server, browser):
    size(browser, "phone")
    open_page(browser, f"{server.url}/a/wide")
    rules = layout(browser)
    assert rules["page"] <= rules["viewport"] and rules["covered"] == []
    wide = browser.execute_script("return Array.from(document.querySelectorAll('.formula'))"
                                  ".filter(f => f.scrollWidth > f.clientWidth + 1).length")
    assert wide > 0  # W₁ of a 2-6-6-1 network is wider than a phone: it scrolls inside its box
    assert axe(browser) == []
    browser.save_screenshot(str(ARTIFACTS / "homework-wide-phone.png"))


def test_after_a_restart_the_teacher_finds_the_checks(server, browser):
    if not AXE.is_file():  # the checks this test finds again are made by the tests above, which need axe-core
        pytest.skip("needs axe-core: npm install --prefix .ci/node axe-core@4 (as .ci/run does)")
    before = server.grades()
    assert len(before) > 1  # the checks of the tests above
    server.stop()
    server.start()
    for where in ("phone", "desktop"):
        size(browser, where)
        open_page(browser, f"{server.url}/teacher")
        assert axe(browser) == []  # the sign-in form
        browser.find_element(By.ID, "token").send_keys(TOKEN + Keys.ENTER)
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "table.standings"))
        names = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.standings tbody th")]
        assert "Li Wei en phone" in names and "Li Wei zh desktop" in names
        layout_ok = browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        assert layout_ok
        assert axe(browser) == []
        no_console_errors(browser)
        browser.save_screenshot(str(ARTIFACTS / f"teacher-{where}.png"))
        browser.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
        wait(browser, lambda d: d.find_elements(By.ID, "token"))
    assert server.grades() == before
