"""The route inventory: declarations, CSRF, read-only GETs, the role matrix (SECURITY Z1, F1, Z5).

Every test walks ``app.url_map`` of an app with every installed plugin
loaded, so a plugin's route is held to the same rules as the kernel's.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import Rule

from core.audit.models import AuditEvent
from core.testing import Browser, make_user, role_matrix_mismatches
from core.web.access import PERMISSION_ATTR, PUBLIC, declared_permission

#: the public allow-list (SECURITY Z1: at most five). The TOTP step of sign-in
#: shares ``auth.login``; ``auth.logout`` is public so that a half-finished
#: sign-in can be abandoned; ``home.set_locale`` serves the login page's
#: language switch; ``home.health`` answers a load balancer.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.logout", "static", "home.set_locale",
                              "home.health"})
#: flask-smorest's own documentation endpoints, when it adds them
OPENAPI_PREFIX = "api-docs."
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: the only events a GET may write are records of reading: reading the audit log
#: is itself audited (MLPS 安全管理中心; SECURITY §5), from the audit pages only,
#: and sensitive reads of personal data are (core.audit.reads, ``read.<kind>``)
AUDIT_LOG_READS = frozenset({"audit.view", "audit.export", "audit.print"})


def _is_read_record(action: str, endpoint: str) -> bool:
    if action in AUDIT_LOG_READS:
        return endpoint.startswith("audit.")
    return action.startswith("read.")
_SAMPLES = ("1", "x", "00000000-0000-0000-0000-000000000001", "2026-01-01")


def _sample(rule: Rule, name: str) -> str:
    converter = rule._converters[name]
    for candidate in (*getattr(converter, "items", ()), *_SAMPLES):
        if re.fullmatch(converter.regex, candidate):
            return candidate
    raise AssertionError(f"no sample value for <{name}> of {rule.rule}")


def path_of(rule: Rule) -> str:
    """The rule's URL with a harmless value in every argument."""
    values = {name: _sample(rule, name) for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def test_Z1_every_route_declares_a_permission(app):
    undeclared = sorted(
        r.endpoint for r in rules(app)
        if not r.endpoint.startswith(OPENAPI_PREFIX)
        and declared_permission(app.view_functions[r.endpoint]) is None)
    assert not undeclared, f"views without @requires: {', '.join(undeclared)}"


def test_Z1_public_allow_list_has_at_most_five_endpoints(app):
    public = {r.endpoint for r in rules(app)
              if declared_permission(app.view_functions[r.endpoint]) == PUBLIC}
    assert len(PUBLIC_ENDPOINTS) <= 5
    assert public <= PUBLIC_ENDPOINTS, f"public, not allowed: {sorted(public - PUBLIC_ENDPOINTS)}"


def test_Z1_a_view_without_declaration_is_found(app_config):
    """The inventory test fails for the right reason: an undeclared view is named."""
    from core.app import create_app

    application = create_app(app_config)

    @application.get("/_test/undeclared")
    def undeclared():
        return "no declaration"

    assert declared_permission(application.view_functions["undeclared"]) is None


@pytest.fixture
def admin_browser(app, site):
    """A platform administrator acting in ``site``: the widest reach there is."""
    browser = Browser(app.test_client())
    assert browser.login(make_user(platform_admin=True), site=site).status_code == 302
    return browser


def _events() -> int:
    return AuditEvent.select().count()


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_F1_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(app, site,
                                                                             admin_browser,
                                                                             token):
    before = _events()
    tried = 0
    for rule in rules(app):
        for method in sorted(rule.methods & WRITE_METHODS):
            path = path_of(rule)
            data = {"csrf_token": token} if token else {}
            response = admin_browser.client.open(path, method=method, data=data)
            tried += 1
            assert response.status_code in (400, 401, 403, 404), (
                f"{method} {path} ({rule.endpoint}) answered {response.status_code}")
            assert _events() == before, f"{method} {path} wrote an audit event"
    assert tried >= 5, "the inventory found too few state-changing routes"
    assert admin_browser.get("/account/").status_code == 200, "the crawl signed the user out"


def test_F1_a_crawl_of_every_get_route_writes_nothing(app, site, admin_browser):
    from core.api.tokens import create_token

    admin = make_user(site, roles=("site_admin",))
    _row, token = create_token(admin, site, "crawl")
    bearer = {"Authorization": f"Bearer {token}"}
    crawled = 0
    for rule in rules(app):
        if "GET" not in rule.methods:
            continue
        path = path_of(rule)
        last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
        headers = bearer if path.startswith("/api/") else {}
        response = admin_browser.client.get(path, headers=headers)
        crawled += 1
        assert response.status_code < 500, f"GET {path} answered {response.status_code}"
        written = AuditEvent.select().where(AuditEvent.id > (last.id if last else 0))
        for event in written:
            assert _is_read_record(event.action, rule.endpoint), (
                f"GET {path} ({rule.endpoint}) wrote the audit event {event.action}")
    assert crawled >= 5


def kernel_get_requests(app) -> list[tuple[str, str]]:
    """Every GET page of the kernel without URL arguments (the API needs a token)."""
    return [("GET", r.rule) for r in rules(app)
            if "GET" in r.methods and not r.arguments and not r.rule.startswith("/api/")
            and not r.endpoint.startswith(OPENAPI_PREFIX)]


@pytest.mark.plugins()
def test_Z5_role_matrix_of_the_kernels_pages(app, site):
    requests = [
        *kernel_get_requests(app),
        ("POST", "/inbox/read"),
        ("POST", "/locale", {"locale": "zh_Hant", "next": "/"}),
        ("POST", "/site", {"site_id": str(site.id)}),
    ]
    assert len(requests) >= 8
    assert role_matrix_mismatches(app, site, requests) == []


@pytest.mark.plugins()
def test_Z5_the_matrix_reports_a_view_that_ignores_its_declaration(app_config):
    """A page that declares a permission but lets everyone in is caught."""
    from core.app import create_app
    from core.context import Actor, acting_as
    from core.testing import IsolatedClient, make_site
    from core.web.access import requires

    application = create_app({**app_config, "PLUGINS": []})
    application.test_client_class = IsolatedClient

    def leaky():
        return "everyone gets in"

    leaky.__name__ = "leaky"
    # declares the audit permission without enforcing it: a broken decorator
    setattr(leaky, PERMISSION_ATTR, "core.audit.view")
    application.add_url_rule("/_test/leaky", view_func=leaky)

    @application.get("/_test/honest")
    @requires("core.audit.view")
    def honest():
        return "leaders and supervisors only"

    with application.app_context(), acting_as(Actor(via="test")):
        site = make_site()
        found = role_matrix_mismatches(application, site, [("GET", "/_test/leaky"),
                                                           ("GET", "/_test/honest")])
    assert found and all("/_test/leaky" in line for line in found)
    assert any(line.startswith("guest:") for line in found)
    assert any(line.startswith("staff:") for line in found)


LEAK = "/srv/grassroots/instance/secret.key SELECT password_hash FROM core_user"


def _fail(*_args, **_kwargs):
    raise RuntimeError(LEAK)


def test_D4_a_forced_exception_in_every_blueprint_gives_the_generic_answer(app_config, caplog):
    """One GET route of each blueprint fails on purpose; every answer hides the detail."""
    import logging

    from core import bundles
    from core.app import create_app
    from core.context import Actor, acting_as
    from core.kernel import bus
    from core.testing import IsolatedClient, make_site

    application = create_app(app_config)
    application.test_client_class = IsolatedClient
    chosen = {}
    for rule in rules(application):
        blueprint = rule.endpoint.rpartition(".")[0]
        if blueprint and blueprint not in chosen and "GET" in rule.methods:
            chosen[blueprint] = rule
    with application.app_context(), acting_as(Actor(via="test")):
        site = make_site()
        for name in bus().migration_order():
            if name != "core":
                bundles.enable(site, name)
        browser = Browser(application.test_client())
        assert browser.login(make_user(platform_admin=True), site=site).status_code == 302
    for rule in chosen.values():
        application.view_functions[rule.endpoint] = _fail
    assert {"auth", "home", "account", "inbox"} <= set(chosen)
    for blueprint, rule in chosen.items():
        path = path_of(rule)
        with caplog.at_level(logging.ERROR, logger="grassroots.errors"):
            response = browser.client.get(path)
        where = f"{blueprint}: GET {path}"
        assert response.status_code == 500, where
        body = response.get_data(as_text=True)
        for leak in ("Traceback", "RuntimeError", "secret.key", "SELECT", "/srv/"):
            assert leak not in body, f"{where} shows {leak}"
        request_id = response.headers["X-Request-Id"]
        if path.startswith("/api/"):
            assert response.json["code"] == 500, where
        else:
            assert request_id in body, where
        assert any(request_id in r.getMessage() for r in caplog.records), f"{where} not logged"
