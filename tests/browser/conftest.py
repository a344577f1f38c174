"""Fixtures for the browser test: the real site (`bidui serve` in a child process) on the site
sample store, and Debian's headless Chromium driven through its own chromedriver.

Selenium Manager never runs (the driver and browser paths are given, SE_OFFLINE is set): no test
downloads a browser. Without Debian's chromium and chromium-driver (`make browser` installs them)
the browser test skips, saying why, except when CI=true: then it fails.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_ARGUMENTS = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000", "--lang=zh-CN")
# The name tests/pipelines/web/conftest.py loads the sample under, so one process shares one module.
SAMPLE_MODULE = "bidui_tests_site_sample"
SITE_SAMPLE = ROOT / "tests" / "pipelines" / "web" / "site_sample.py"
# Starting the site imports pandas, SQLAlchemy and FastAPI and migrates the store: seconds on a loaded machine.
START_SECONDS = 90


def load_site_sample() -> ModuleType:
    """site_sample.py as one shared module (importlib mode puts no test folder on sys.path)."""
    if SAMPLE_MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(SAMPLE_MODULE, SITE_SAMPLE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[SAMPLE_MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[SAMPLE_MODULE]


@pytest.fixture
def site_sample() -> ModuleType:
    """The site sample's builders and constants (users, SITE_PASSWORD)."""
    return load_site_sample()


@pytest.fixture
def chromium() -> None:
    """Debian's Chromium and chromedriver are installed, or the test skips (fails when CI=true)."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        why = f"{' and '.join(missing)} not installed: `make browser` installs Debian's chromium and chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {why}")
        pytest.skip(why)


@pytest.fixture
def site_data_dir(tmp_path, monkeypatch, site_sample) -> Path:
    """A data directory holding the site sample; passwords hashed with the cheapest argon2 (the
    hash carries its parameters, so the site checks them as cheaply)."""
    from argon2 import PasswordHasher

    from pipelines.access import users
    from pipelines.settings import load_settings

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    data_dir = tmp_path / "data"
    site_sample.build_site_store(load_settings(environ={}, data_dir=data_dir, show_progress=False))
    return data_dir


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(server: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"bidui serve exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"bidui serve did not answer {url}/healthz within {START_SECONDS} s:\n{log.read_text(errors='replace')}")


@pytest.fixture
def site(request, site_data_dir, tmp_path) -> Iterator[str]:
    """The site's origin ('http://127.0.0.1:PORT'): `bidui serve` on the sample store, stopped
    afterwards whatever happened; its log is attached to the test's report."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # Only the sample store: no BIDUI_DATABASE_URL or other setting of the calling shell leaks in.
    env = {name: value for name, value in os.environ.items() if not name.startswith("BIDUI_")}
    env.update(BIDUI_DATA_DIR=str(site_data_dir), BIDUI_PROGRESS="0")
    log = tmp_path / "serve.log"
    bidui = Path(sys.executable).parent / "bidui"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(bidui), "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_healthy(server, url, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        request.node.add_report_section("teardown", "bidui serve", log.read_text(errors="replace"))


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def browser(request, chromium, monkeypatch, artifacts) -> Iterator:
    """Headless Chromium (zh-CN) that logs every network request and console message of its pages;
    when the test fails, the page it was on is kept as failed-<test>.png."""
    from selenium import webdriver

    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)), options=options)
    failure_shot = artifacts / f"failed-{request.node.name}.png"
    failure_shot.unlink(missing_ok=True)  # a screenshot of an earlier run's failure would mislead
    try:
        yield driver
        if request.node.stash.get(FAILED, False):
            driver.save_screenshot(str(failure_shot))
    finally:
        driver.quit()


@pytest.fixture
def artifacts() -> Path:
    """Where the screenshots go: BIDUI_TEST_ARTIFACTS, else <repo>/test-artifacts/browser/ (gitignored)."""
    folder = Path(os.environ.get("BIDUI_TEST_ARTIFACTS") or ROOT / "test-artifacts" / "browser").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder
