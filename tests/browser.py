"""Debian's headless Chromium for the browser tests, driven by Selenium through the system
chromedriver. Import after the test module has skipped where Chromium or Selenium is missing."""

from pathlib import Path

from tests.conftest import ROOT

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "tests" / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CSP_PROBE = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
             "function (e) { window.__csp.push(e.violatedDirective + ' ' + e.blockedURI); });")
"""Installed in every page: the Content-Security-Policy violations it meets, in ``window.__csp``."""


def chromium(user_data_dir, flags=()):
    """A fresh headless Chromium (its own profile in ``user_data_dir``) that keeps the console log and
    probes every page for CSP violations; screenshots go to :data:`ARTIFACTS`."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, *flags, f"--user-data-dir={user_data_dir}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_PROBE})
    ARTIFACTS.mkdir(exist_ok=True)
    return driver


def wait(driver, condition, seconds=15):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(lambda d: condition(d))


def typeset(driver) -> bool:
    """KaTeX has typeset every formula of the page."""
    return driver.execute_script("return typeof katex !== 'undefined' && "
                                 "document.querySelectorAll('span.tex:not([data-typeset])').length === 0")
