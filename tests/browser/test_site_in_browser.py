"""The site in a real browser: headless Chromium against `bidui serve` on the site sample.

One clue's way up the ladder, as the people do it: the county (瓮安县) watches the trend and finds
the clue in its list, the village (太沟村) verifies it, the township (新井镇) signs, the county
approves (销号); another county (都匀市) is refused the clue. Every page loads only this site's
own files. The screenshots are kept in BIDUI_TEST_ARTIFACTS (default test-artifacts/browser/).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

# The sample's clue of 张三 in 太沟村 (新井镇, 瓮安县), issued with 瓮安县's ledger.
CLUE = "R05-000001"
PERSON = "张三"
SUBJECT_KEY = "PM-0001"
ID_NUMBER = "522725201003031211"
MASKED_ID_NUMBER = "522725********1211"
WAIT_SECONDS = 20


class SiteBrowser:
    """One browser on the site: signs in and out through the forms, follows links and buttons,
    keeps screenshots, and checks every page it sees asked nothing of another origin."""

    def __init__(self, driver: WebDriver, origin: str, artifacts: Path, password: str) -> None:
        self.driver = driver
        self.origin = origin
        self.artifacts = artifacts
        self.password = password
        self.requested: list[str] = []

    # Moving about ----------------------------------------------------------------------------

    def open(self, path: str) -> None:
        self.driver.get(self.origin + path)
        self._settle()

    def follow(self, element: WebElement) -> None:
        """Click a link or a submit button and wait for the page it leads to (accepting a
        data-confirm question on the way)."""
        asks = element.tag_name != "a" and element.find_element(By.XPATH, "./ancestor::form").get_attribute("data-confirm")
        # A mark on this page's window: the next page has none. (Waiting for an element to go stale
        # races Chrome's navigation: chromedriver may answer 'node does not belong to the document'.)
        self.driver.execute_script("window.biduiTestLeaving = true")
        element.click()
        if asks:
            self.wait().until(EC.alert_is_present()).accept()
        self.wait().until(lambda d: d.execute_script("return window.biduiTestLeaving !== true"))
        self._settle()

    def wait(self) -> WebDriverWait:
        """A wait that looks again when the page is between documents."""
        return WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=(WebDriverException,))

    def sign_in(self, user_name: str) -> None:
        self.open("/login")
        self.driver.find_element(By.NAME, "user_name").send_keys(user_name)
        self.driver.find_element(By.NAME, "password").send_keys(self.password)
        self.follow(self.driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]"))
        assert self.path != "/login", f"{user_name} was not signed in: {self.text}"

    def sign_out(self) -> None:
        self.follow(self.driver.find_element(By.XPATH, "//form[@action='/logout']//button[normalize-space()='退出']"))
        assert self.path == "/login"

    def link(self, href: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, f"a[href='{href}']")

    def button(self, form_action: str, label: str) -> WebElement:
        """The submit button labelled `label` of the form posting to `form_action`."""
        return self.driver.find_element(By.XPATH, f"//form[@action='{form_action}']//button[normalize-space()='{label}']")

    # What the page shows ---------------------------------------------------------------------

    @property
    def path(self) -> str:
        return urlsplit(self.driver.current_url).path

    @property
    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    @property
    def status(self) -> str:
        """The clue page's status (状态)."""
        return self.driver.find_element(By.CSS_SELECTOR, ".badge.status").text

    def forms(self) -> list[str]:
        """Where the clue page's move forms post: the moves the viewer is offered."""
        return [
            f.get_attribute("action").removeprefix(self.origin) for f in self.driver.find_elements(By.CSS_SELECTOR, "form.move")
        ]

    def events(self) -> list[tuple[str, str, str]]:
        """The clue page's history (流转记录) as (动作, 状态变化, 操作人)."""
        rows = self.driver.find_elements(By.CSS_SELECTOR, "table.events tbody tr")
        return [tuple(cell.text for cell in row.find_elements(By.TAG_NAME, "td")[1:4]) for row in rows]

    def screenshot(self, name: str) -> Path:
        """The whole page (not only the window) as a PNG in the artifacts folder."""
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            },
        )
        path = self.artifacts / name
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    # Staying on the site ---------------------------------------------------------------------

    def _settle(self) -> None:
        """Wait for the page to load, then check what it asked for and what the console says."""
        self.wait().until(lambda d: d.execute_script("return document.readyState") == "complete")
        # Chrome's own record of every request the page made (the performance log), and the page's view.
        logged = [
            message["params"]["request"]["url"]
            for entry in self.driver.get_log("performance")
            if (message := json.loads(entry["message"])["message"])["method"] == "Network.requestWillBeSent"
        ]
        resources = self.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        urls = [*logged, *resources]
        self.requested += urls
        elsewhere = [u for u in urls if not self._own(u)]
        assert elsewhere == [], f"{self.path} asked another origin for {elsewhere}"
        console = [e["message"] for e in self.driver.get_log("browser")]
        refused = [m for m in console if "Content Security Policy" in m]
        assert refused == [], f"{self.path} broke the Content-Security-Policy: {refused}"
        failed = [m for m in console if "Uncaught" in m]
        assert failed == [], f"a script of {self.path} failed: {failed}"

    def _own(self, url: str) -> bool:
        parts = urlsplit(url)
        # data: URLs (ECharts' images) are no request to anybody.
        return parts.scheme == "data" or f"{parts.scheme}://{parts.netloc}" == self.origin


@pytest.fixture
def site_browser(browser, site, artifacts, site_sample) -> SiteBrowser:
    """The browser on the site (the browser first: without Chromium the test skips before the site starts)."""
    return SiteBrowser(browser, site, artifacts, site_sample.SITE_PASSWORD)


def test_a_clue_goes_up_the_ladder_in_a_real_browser(site_browser, request):
    web = site_browser
    request.node.user_properties.append(("artifacts", str(web.artifacts)))

    # a. The county signs in and lands on the trends, the chart drawn by /static/bidui.js.
    web.sign_in("wengan")
    assert web.path == "/monitor"
    chart = web.driver.find_element(By.CSS_SELECTOR, ".chart[data-chart]")
    web.wait().until(lambda _: chart.get_attribute("data-drawn") == "1")
    assert chart.find_elements(By.TAG_NAME, "svg"), "the trend chart was not drawn as SVG"
    web.screenshot("monitor-trend.png")

    # b. Its clue list, and the clue opened from the list.
    web.follow(web.link("/clues"))
    assert CLUE in web.text
    web.screenshot("county-clue-list.png")
    web.follow(web.link(f"/clues/{CLUE}"))
    assert web.path == f"/clues/{CLUE}"
    assert web.status == "已下发待核实"
    web.screenshot("clue-page.png")
    assert web.forms() == [], "a county neither verifies nor signs"
    web.sign_out()

    # c. The village verifies it: 不属实, with one of the rule's reasons; the township signs.
    web.sign_in("taigou")
    web.open("/clues")
    web.follow(web.link(f"/clues/{CLUE}"))
    assert web.forms() == [f"/clues/{CLUE}/verify"]
    assert MASKED_ID_NUMBER in web.text
    assert ID_NUMBER not in web.driver.page_source, "a village sees ID numbers masked"
    web.driver.find_element(By.CSS_SELECTOR, "input[name=verdict][value='不属实']").click()
    reasons = Select(web.driver.find_element(By.NAME, "dismiss_reason"))
    reasons.select_by_visible_text("在外省就读")
    web.driver.find_element(By.CSS_SELECTOR, f"form[action='/clues/{CLUE}/verify'] textarea[name=note]").send_keys(
        "已核实在外省就读"
    )
    web.follow(web.button(f"/clues/{CLUE}/verify", "提交核实"))
    assert web.path == f"/clues/{CLUE}"
    assert "核实完成" in web.text
    assert web.status == "待乡镇签字"
    assert web.forms() == [], "the village has nothing more to do on a clue it found 不属实"
    web.sign_out()

    web.sign_in("xinjing")
    web.open(f"/clues/{CLUE}")
    assert web.status == "待乡镇签字"
    web.follow(web.button(f"/clues/{CLUE}/sign", "签字背书"))
    assert web.status == "已签字待销号"
    web.sign_out()

    # d. Back at the county: signed by the township on the village's verification; approved (销号).
    web.sign_in("wengan")
    web.open(f"/clues/{CLUE}")
    assert web.status == "已签字待销号"
    events = web.events()
    assert ("核实", "已下发待核实 → 待乡镇签字", "taigou") in events
    assert ("签字背书", "待乡镇签字 → 已签字待销号", "xinjing") in events
    assert "在外省就读" in web.text
    web.follow(web.button(f"/clues/{CLUE}/approve", "销号"))
    assert web.status == "已销号"
    assert ("销号", "已签字待销号 → 已销号", "wengan") in web.events()
    web.screenshot("clue-after-sign-off.png")
    web.sign_out()

    # e. Another county is refused the clue, and shown nothing of it.
    web.sign_in("duyun")
    web.open(f"/clues/{CLUE}")
    assert "无权访问" in web.text
    for detail in (PERSON, ID_NUMBER, MASKED_ID_NUMBER, SUBJECT_KEY, "太沟村", "在外省就读"):
        assert detail not in web.driver.page_source, detail
    web.screenshot("other-county-forbidden.png")
    cookies = {c["name"]: c["value"] for c in web.driver.get_cookies()}
    answer = httpx.get(f"{web.origin}/clues/{CLUE}", cookies=cookies, follow_redirects=False)
    assert answer.status_code == 403
    assert "无权访问" in answer.text
    assert PERSON not in answer.text

    # f. Every page asked only this site: each was checked as it loaded; here, that the checks saw
    # the pages' own files too (the chart library, the site's script and styles), not only the pages.
    seen = {urlsplit(u).path for u in web.requested}
    assert {"/monitor", "/clues", f"/clues/{CLUE}"} <= seen
    assert {"/static/vendor/echarts/echarts.common.min.js", "/static/bidui.js", "/static/bidui.css"} <= seen
    print(f"screenshots: {web.artifacts}")
