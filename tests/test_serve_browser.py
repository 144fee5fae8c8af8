"""tracegrad serve end to end in a real browser: Debian's headless Chromium driven by Selenium
through the system chromedriver, against ``tracegrad serve`` started as a user starts it.

Skipped (with the reason) where Chromium, chromedriver or Selenium is missing; ``.ci/run``
installs them. Screenshots of every page go to ``tests/artifacts/`` (git-ignored).
"""

import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

from tests.browser import CHROMEDRIVER, CHROMIUM
from tests.conftest import GOLDEN, ROOT

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
                allow_module_level=True)
pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -e '.[test]')")

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

from tests.browser import ARTIFACTS, chromium, typeset, wait  # noqa: E402


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def y_hat_by_hand(w11):
    a1 = [sigmoid(1 * w11 + 2 * 0.7 + 0.1), sigmoid(1 * 0.6 + 2 * 0.8 + 0.2)]
    return sigmoid(a1[0] * 0.9 + a1[1] * 0.1 + 0.3)


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "tracegrad", "serve", "--port", str(port), "--workers", "2"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/static/style.css", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"tracegrad serve did not start: {proc.stderr.read().decode()}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium"), ["--window-size=1400,1000"])
    yield driver
    driver.quit()


def open_page(driver, url):
    """Load a page afresh (nothing remembered from earlier tests) and wait for its math."""
    driver.get(url)
    driver.execute_script("sessionStorage.clear()")
    driver.get(url)
    wait(driver, typeset)


def assert_clean(driver):
    """No console error and no Content-Security-Policy violation on the page so far."""
    errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    assert driver.execute_script("return window.__csp") == []
    assert driver.find_elements(By.CSS_SELECTOR, ".katex-error") == []


def type_over(driver, old: str, new: str) -> None:
    """Select the first ``old`` in the problem editor and type ``new`` over it, key by key."""
    editor = driver.find_element(By.NAME, "problem")
    driver.execute_script("const e = arguments[0], i = e.value.indexOf(arguments[1]); e.focus(); "
                          "e.setSelectionRange(i, i + arguments[1].length)", editor, old)
    editor.send_keys(new)


def annotation(driver, name) -> str:
    """The LaTeX KaTeX typeset for the derivation line ``name``."""
    line = driver.find_element(By.CSS_SELECTOR, f".derivation .line[data-name='{name}']")
    return line.find_element(By.CSS_SELECTOR, "annotation").get_attribute("textContent")


def test_first_page_shows_the_seed_derivation_typeset(server, browser):
    open_page(browser, server + "/")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".derivation .katex")) > 30
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".derivation h3")]
    assert headings[:3] == ["1. Network and parameters", "2. Forward pass", "3. Loss"]
    assert f"{y_hat_by_hand(0.5):.4f}" in annotation(browser, "y_hat")  # ŷ = σ(1.1844) ≈ 0.7657
    assert_clean(browser)
    browser.save_screenshot(str(ARTIFACTS / "serve-derive.png"))


def test_editing_a_weight_updates_the_derivation(server, browser):
    open_page(browser, server + "/")
    type_over(browser, "[[0.5, 0.6]", "[[0.3, 0.6]")  # W1[0][0]: 0.5 → 0.3
    expected = f"{y_hat_by_hand(0.3):.4f}"  # z1[0] = 0.3 + 1.4 + 0.1 = 1.8 by hand
    wait(browser, lambda d: typeset(d) and expected in annotation(d, "y_hat"))
    assert r"\left[1.8, 2.4\right]" in annotation(browser, "z1")
    assert_clean(browser)


def test_downloads_are_the_command_output(server, browser, tmp_path):
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    open_page(browser, server + "/")
    browser.find_element(By.CSS_SELECTOR, "button.download[data-format='markdown']").click()
    wait(browser, lambda d: (tmp_path / "derivation.md").is_file())
    assert (tmp_path / "derivation.md").read_text(encoding="utf-8") == \
        (GOLDEN / "seed.exact.en.md").read_text(encoding="utf-8")
    assert_clean(browser)


def test_answers_mark_the_lines(server, browser):
    open_page(browser, server + "/check")
    answers = browser.find_element(By.NAME, "answers")
    answers.send_keys("[answers]\nz1 = [2.0, 2.4]\na1 = [0.8808, 0.9084]\n")  # σ(2.4) misprinted
    wait(browser, lambda d: typeset(d) and d.find_elements(By.CSS_SELECTOR, ".line[data-name='a1'] .verdict-wrong"))
    wrong = browser.find_element(By.CSS_SELECTOR, ".line[data-name='a1'] .verdict-wrong")
    assert "wrong" in wrong.text and f"{sigmoid(2.4):.4f}" in wrong.text  # the correct value beside it
    correct = browser.find_element(By.CSS_SELECTOR, ".line[data-name='z1'] .verdict-correct")
    assert "correct" in correct.text
    colours = [el.find_element(By.CSS_SELECTOR, ".badge").value_of_css_property("background-color")
               for el in (wrong, correct)]
    assert colours[0] != colours[1]  # colour and text
    names = browser.find_element(By.CSS_SELECTOR, "details.names")
    assert names.get_attribute("open")  # open before the answers came, it stays open
    browser.find_element(By.CSS_SELECTOR, "button.insert-name[data-name='dL/dW1']").click()
    assert answers.get_attribute("value").endswith('"dL/dW1" = ')
    assert_clean(browser)


def test_an_uploaded_answers_file_is_checked(server, browser):
    open_page(browser, server + "/check")
    browser.find_element(By.CSS_SELECTOR, "input.upload").send_keys(str(ROOT / "examples" / "seed_printed.toml"))
    wait(browser, lambda d: typeset(d) and len(d.find_elements(By.CSS_SELECTOR, ".derivation .verdict-wrong")) == 5)
    counts = browser.find_element(By.CSS_SELECTOR, ".counts").text
    assert counts == "correct 24 carried 13 imprecise 1 wrong 5"  # the README's counts of the printed numbers
    assert_clean(browser)
    browser.save_screenshot(str(ARTIFACTS / "serve-check.png"))


def test_hovering_the_graph_shows_values_and_gradients(server, browser):
    open_page(browser, server + "/graph")
    tooltip = browser.find_element(By.ID, "tooltip")
    loss_node = browser.find_element(By.CSS_SELECTOR, "g.node.role-loss")
    ActionChains(browser).move_to_element(loss_node).perform()
    wait(browser, lambda d: tooltip.is_displayed())
    loss = 0.5 * (y_hat_by_hand(0.5) - 0.5) ** 2
    assert tooltip.text.startswith("L = ") and f"{loss:.4f}" in tooltip.text and "∂L/∂L = 1.0" in tooltip.text
    browser.save_screenshot(str(ARTIFACTS / "serve-graph.png"))
    edges = browser.find_elements(By.CSS_SELECTOR, "g.edge .edge-hit")
    flat = next(e for e in edges if browser.execute_script("return arguments[0].getBBox().height < 1", e))
    ActionChains(browser).move_to_element(flat).perform()
    wait(browser, lambda d: "×" in tooltip.text)
    upstream_local, contribution = tooltip.text.rsplit(" = ", 1)
    factors = [float(x.strip("()").replace("−", "-")) for x in upstream_local.rsplit(" = ", 1)[1].split(" × ")]
    assert abs(factors[0] * factors[1] - float(contribution.replace("−", "-"))) <= 1e-4  # 4 decimals
    assert_clean(browser)


def test_switching_to_chinese(server, browser):
    open_page(browser, server + "/")
    browser.find_element(By.CSS_SELECTOR, "a.lang-switch[hreflang='zh']").click()
    wait(browser, lambda d: "lang=zh" in d.current_url and typeset(d))
    assert [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".derivation h3")][1].startswith("2. 前向传播")
    assert browser.find_element(By.CSS_SELECTOR, "nav a[aria-current]").text == "推导"
    assert_clean(browser)
    browser.save_screenshot(str(ARTIFACTS / "serve-derive-zh.png"))


@pytest.mark.parametrize("path, text", [("/expr", "Backward pass, edge by edge"), ("/variants", "problem-010.toml")])
def test_expression_and_variants_pages(server, browser, path, text):
    open_page(browser, server + path)
    assert text in browser.find_element(By.ID, "output").text
    assert_clean(browser)
    browser.save_screenshot(str(ARTIFACTS / f"serve-{path.strip('/')}.png"))


def test_the_expression_page_derives_a_program(server, browser):
    from selenium.webdriver.support.select import Select

    open_page(browser, server + "/expr")
    Select(browser.find_element(By.CSS_SELECTOR, "select.source")).select_by_value("program")
    title = "program: backpropagation through L"
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#output h2").text == title and typeset(d))
    # the page's program: L = (a·b + c)·f at a = 2, b = −3, c = 10, f = −2, so ∂L/∂a = f·b = 6
    gradient = browser.find_elements(By.CSS_SELECTOR, ".section-node_gradients .line[data-name='a'] annotation")
    assert gradient[0].get_attribute("textContent").split("=")[-1].strip() == "6.0"
    editor = browser.find_element(By.NAME, "program")
    editor.send_keys("b.label = b.label +")  # not a program: the error shows inline, one line
    error = browser.find_element(By.CSS_SELECTOR, "form .error")
    wait(browser, lambda d: error.is_displayed())
    assert error.text.startswith("program:") and "\n" not in error.text
    assert_clean(browser)
    browser.save_screenshot(str(ARTIFACTS / "serve-expr-program.png"))


def test_the_graph_page_draws_an_expression_without_sending_the_hidden_problem(server, browser):
    from selenium.webdriver.support.select import Select

    open_page(browser, server + "/graph")
    Select(browser.find_element(By.CSS_SELECTOR, "select.source")).select_by_value("expression")
    # f = (x + y)·z: 5 nodes (x, y, z, the sum, the product) and 4 edges, each with its tooltip
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#output [data-tip]")) == 9)
    assert not browser.find_element(By.CSS_SELECTOR, "form .error").is_displayed()
    assert_clean(browser)


def test_an_error_is_shown_inline_with_its_key_path(server, browser):
    open_page(browser, server + "/")
    type_over(browser, '"sigmoid"', '"sigmod"')
    error = browser.find_element(By.CSS_SELECTOR, "form .error")
    wait(browser, lambda d: error.is_displayed())
    assert error.text.startswith("problem.toml: layers[0].activation: expected one of sigmoid")
    assert "stale" in browser.find_element(By.ID, "output").get_attribute("class")
    assert_clean(browser)  # a half-typed problem is the page's normal state, not a failed request
