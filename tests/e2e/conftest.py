"""End-to-end fixtures: a real server thread, headless Chromium and axe-core on every page.

Each test gets its own server (werkzeug on 127.0.0.1 and a free port) over a fresh
SQLite copy holding the demo data (core.demo) plus two tiny test plugins, so no test
depends on another's changes. Chromium is the Debian package, driven through
Playwright's sync API; ``playwright install`` is never needed.

Every page a test opens through :meth:`Session.visit` (or checks with
:meth:`Session.check`) is checked at desk (1280×800) and phone (390×844) widths: axe-core
finds no serious or critical violation, the page is no wider than the screen, the XSS
canary ``window.__xss`` is unset, no script error occurred, and a screenshot lands in
``.e2e-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import itertools
import re
import shutil
import threading
from pathlib import Path

import pytest
from flask import Blueprint, render_template

from core.app import ROOT
from core.plugins import PluginInfo, hookimpl
from core.testing import totp_code
from core.web.access import AUTHENTICATED, requires
from core.web.layout import MenuItem, Widget

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / ".e2e-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTHS = {"desk": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
#: axe impacts that fail a page
BLOCKING = ("serious", "critical")


class BasePlugin:
    """A test plugin with a dashboard widget; nothing requires it to be installed."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="e2e_base", title="测试基础插件",
                          description="端到端测试用：在仪表板上显示一个面板。")

    @hookimpl
    def dashboard_widgets(self):
        return [Widget("测试面板", "e2e/widget.html", order=50)]


class AddonPlugin:
    """A test plugin that requires :class:`BasePlugin` and adds a menu entry and a page."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="e2e_addon", title="测试附加插件", requires=("e2e_base",),
                          description="端到端测试用：需要测试基础插件。")

    @hookimpl
    def menu_items(self):
        return [MenuItem("附加页面", "e2e_addon.index", order=500)]

    @hookimpl
    def register_blueprints(self):
        bp = Blueprint("e2e_addon", __name__, url_prefix="/e2e-addon",
                       template_folder=str(Path(__file__).parent / "templates"))

        @bp.get("/")
        @requires(AUTHENTICATED)
        def index():
            """The add-on's only page."""
            return render_template("e2e/addon.html")

        return [bp]


TEST_PLUGINS = [("e2e_base", BasePlugin()), ("e2e_addon", AddonPlugin())]


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium per test process."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk "
                    "(bash scripts/install.sh test does it)")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: npm ci (bash scripts/install.sh test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Live:
    """The running server: its address, app and demo data."""

    def __init__(self, app, url: str, demo):
        self.app, self.url, self.demo = app, url, demo

    def user(self, username: str):
        from core.models import User

        return User.get(User.username == username)


@pytest.fixture
def live(app_config):
    """A server thread on a fresh database with the demo data and the test plugins."""
    from werkzeug.serving import make_server

    from core import demo
    from core.app import create_app
    from core.context import Actor, acting_as

    app = create_app({**app_config, "TESTING": False}, extra_plugins=TEST_PLUGINS)
    with app.app_context(), acting_as(Actor(via="test")):
        built = demo.build()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Live(app, f"http://127.0.0.1:{server.server_port}", built)
        finally:
            server.shutdown()
            thread.join(5)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:80]


class Session:
    """One person in one browser context (own cookies), checking every page it sees."""

    def __init__(self, context, live: Live, folder: Path, shots):
        self.context, self.live, self.folder, self.shots = context, live, folder, shots
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def visit(self, path: str, label: str | None = None):
        """Open ``path`` and check the page; returns the response."""
        response = self.page.goto(self.live.url + path)
        self.check(label or path)
        return response

    def check(self, label: str) -> None:
        """axe-core, the XSS canary and script errors at both widths; screenshots."""
        page = self.page
        page.wait_for_load_state("load")
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            if page.evaluate("typeof window.axe === 'undefined'"):
                page.add_script_tag(path=str(AXE))
            found = page.evaluate("""async () => {
                const r = await axe.run(document, {resultTypes: ['violations']});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
            }""")
            blocking = [v for v in found if v["impact"] in BLOCKING]
            page.screenshot(path=str(self.folder / f"{next(self.shots):02d}-{_slug(label)}-"
                                                   f"{width}.png"), full_page=True)
            assert not blocking, f"axe on {label} ({width}, {page.url}): {blocking}"
            assert page.evaluate("window.__xss") is None, f"XSS canary ran on {label}"
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{label} is {overflow}px wider than the {width} screen"
        assert not self.errors, f"script errors on {label}: {self.errors}"
        page.set_viewport_size(WIDTHS["desk"])

    def sign_in(self, username: str):
        """Sign in through the form, entering the TOTP code when asked (SECURITY A6)."""
        page = self.page
        self.visit("/login", "sign-in")
        page.fill("#f-username", username)
        page.fill("#f-password", self.live.demo.password)
        if self.live.user(username).totp_secret:
            self.submit("main form", "second-factor")
            page.fill("#f-code", totp_code(username))
        self.press("main form")
        assert not page.locator("#f-password, #f-code").count(), \
            f"{username} was not signed in: {page.url}"

    def press(self, form_selector: str) -> None:
        """Press the submit button of a form and wait for the page that answers."""
        with self.page.expect_navigation():
            self.page.locator(form_selector).locator("button[type=submit]").first.click()

    def switch_site(self, site, label: str):
        """Choose ``site`` in the header's switcher (grassroots.js submits on change)."""
        with self.page.expect_navigation():
            self.page.select_option("#site-switch", str(site.id))
        self.check(label)

    def click(self, selector: str, label: str):
        """Click a link or button that loads a page, and check that page."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        self.check(label)

    def submit(self, form_selector: str, label: str):
        """Press the submit button of a form and check the page that answers."""
        self.press(form_selector)
        self.check(label)


@pytest.fixture
def person(chromium, live, request):
    """``person()`` opens a new browser context (a new person) for the live server."""
    folder = ARTIFACTS / _slug(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    contexts, shots = [], itertools.count(1)

    def open_session(locale: str = "zh-CN") -> Session:
        # bypass_csp lets axe-core be injected; it also means a payload that escaped
        # escaping would run, so the XSS canary tests the escaping itself (SECURITY E1)
        context = chromium.new_context(bypass_csp=True, locale=locale,
                                       viewport=WIDTHS["desk"])
        contexts.append(context)
        return Session(context, live, folder, shots)

    yield open_session
    for context in contexts:
        context.close()
