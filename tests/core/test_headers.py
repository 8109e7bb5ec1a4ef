"""Response headers, redirects, generated links and error pages (SECURITY F2, D2, E3, F4, D4)."""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace

import pytest
from flask import request, url_for
from flask_babel import force_locale, gettext

from core.app import create_app
from core.testing import Browser, IsolatedClient, make_user
from core.web.access import PUBLIC, requires
from core.web.redirects import absolute_url

BASE_URL = "https://grassroots.example.cn"


def simple_get_paths(app) -> list[str]:
    """Every GET route without URL arguments, except the API description."""
    return sorted(r.rule for r in app.url_map.iter_rules()
                  if "GET" in r.methods and not r.arguments
                  and not r.endpoint.startswith("api-docs."))


def assert_security_headers(response, where: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("object-src") == "object-src 'none'", where
    assert directives.get("base-uri") == "base-uri 'none'", where
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", where
    assert directives.get("script-src") == "script-src 'self'", where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where


def crawl(app, browser) -> list[tuple[str, object]]:
    responses = [(path, browser.get(path)) for path in simple_get_paths(app)]
    responses.append(("/no/such/page", browser.get("/no/such/page")))
    responses.append(("/static/grassroots.css", browser.get("/static/grassroots.css")))
    responses.append(("POST /logout without token", browser.client.post("/logout")))
    return responses


def test_F2_every_response_has_the_security_headers_as_guest_and_member(app, site):
    guest = Browser(app.test_client())
    member = Browser(app.test_client())
    member.login(make_user(site, roles=("staff",)), site=site)
    admin = Browser(app.test_client())
    admin.login(make_user(platform_admin=True), site=site)
    for who, browser in (("guest", guest), ("member", member), ("admin", admin)):
        for path, response in crawl(app, browser):
            assert_security_headers(response, f"{who} {path}")


def test_D2_signed_in_responses_are_not_stored(app, site):
    member = Browser(app.test_client())
    member.login(make_user(site, roles=("staff",)), site=site)
    for path, response in crawl(app, member):
        if path == "/static/grassroots.css":
            continue
        assert response.headers.get("Cache-Control") == "no-store", path


def test_D2_api_responses_are_not_stored_even_for_guests(app):
    client = app.test_client()
    for path in ("/api/v1/openapi.json", "/api/v1/no-such-thing"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path


def test_D2_static_theme_files_may_be_cached(app):
    response = app.test_client().get("/static/grassroots.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"


def test_F2_hsts_over_https_only(app):
    client = app.test_client()
    secure = client.get("/login", base_url="https://localhost")
    hsts = secure.headers.get("Strict-Transport-Security", "")
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
    assert max_age >= 31536000 and "includeSubDomains" in hsts
    assert "Strict-Transport-Security" not in client.get("/login").headers


def _app(app_config, **extra):
    application = create_app({**app_config, **extra})
    application.test_client_class = IsolatedClient

    @application.get("/_test/origin")
    @requires(PUBLIC)
    def origin():
        return {"remote_addr": request.remote_addr, "host": request.host,
                "secure": request.is_secure,
                "link": absolute_url(url_for("home.dashboard"))}

    return application


def test_F4_proxy_headers_are_trusted_for_exactly_proxy_count_proxies(app_config):
    forged = {"X-Forwarded-For": "6.6.6.6, 10.0.0.2", "X-Forwarded-Proto": "https",
              "X-Forwarded-Host": "evil.example"}
    direct = _app(app_config).test_client().get("/_test/origin", headers=forged)
    assert direct.json["remote_addr"] == "127.0.0.1"
    assert direct.json["secure"] is False
    assert "Strict-Transport-Security" not in direct.headers
    proxied = _app(app_config, PROXY_COUNT=1).test_client().get("/_test/origin",
                                                                headers=forged)
    assert proxied.json["remote_addr"] == "10.0.0.2", "only the last hop is trusted"
    assert proxied.json["secure"] is True
    assert proxied.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "evil" not in proxied.json["host"]


def test_F4_generated_links_use_the_base_url_never_the_host_header(app_config):
    application = _app(app_config, PROXY_COUNT=1, BASE_URL=BASE_URL)
    response = application.test_client().get(
        "/_test/origin", headers={"Host": "evil.example", "X-Forwarded-Host": "evil2.example"})
    assert response.json["link"] == f"{BASE_URL}/"
    assert "evil" not in response.get_data(as_text=True).replace(response.json["host"], "")


@pytest.mark.parametrize("path", ["//evil.example/x", "https://evil.example/", "relative",
                                  "/\\evil.example", "/ok\r\nSet-Cookie: x=1"])
def test_F4_absolute_url_refuses_anything_but_a_local_path(app, path):
    with app.test_request_context("/"), pytest.raises(ValueError):
        absolute_url(path)


NEXT_PAYLOADS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "//evil.example/",
                 "///evil.example", " //evil.example", "/\\evil.example", "\\\\evil.example",
                 "https://evil.example/", "http:evil.example", "/ok\r\nx",
                 "/ok\r\nLocation: https://evil.example", "/ok\nx", "/ok\tx", "/ok\x7fx"]


def _sign_in_with_next(app, site, payload):
    user = make_user(site)
    browser = Browser(app.test_client())
    response = browser.client.post("/login", data={
        "username": user.username, "password": "correct horse battery staple",
        "next": payload, "csrf_token": browser.csrf()})
    assert response.status_code == 302
    return browser, response


@pytest.mark.parametrize("payload", NEXT_PAYLOADS)
def test_E3_offsite_and_control_character_targets_land_on_the_dashboard(app, site, payload):
    browser, response = _sign_in_with_next(app, site, payload)
    assert response.headers["Location"] == "/"
    locale = browser.post("/locale", {"locale": "zh_Hant", "next": payload}, page="/account/")
    assert locale.headers["Location"] == "/"


def test_E3_encoded_line_breaks_stay_a_local_path(app, site):
    _browser, response = _sign_in_with_next(app, site, "/%0d%0aSet-Cookie:x=1")
    assert response.headers["Location"] == "/%0d%0aSet-Cookie:x=1"
    assert "x=1" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_E3_a_local_next_is_kept(app, site):
    user = make_user(site)
    browser = Browser(app.test_client())
    response = browser.client.get("/inbox/")
    assert response.location.startswith("/login?next=")
    signed_in = browser.client.post("/login", data={
        "username": user.username, "password": "correct horse battery staple",
        "next": "/inbox/", "csrf_token": browser.csrf()})
    assert signed_in.headers["Location"] == "/inbox/"


SECRET_DETAIL = "/srv/grassroots/instance/secret.key SELECT password_hash FROM core_user"


def _boom_app(app_config):
    application = create_app(app_config)
    application.test_client_class = IsolatedClient

    @application.get("/_test/boom")
    @requires(PUBLIC)
    def boom():
        raise RuntimeError(SECRET_DETAIL)

    return application


@pytest.mark.parametrize(("accept", "locale", "lang"), [("zh-CN", "zh_Hans", "zh-Hans"),
                                                        ("zh-TW", "zh_Hant", "zh-Hant")])
def test_D4_a_forced_exception_gives_the_generic_page_and_is_logged(app_config, caplog,
                                                                    accept, locale, lang):
    application = _boom_app(app_config)
    with caplog.at_level(logging.ERROR, logger="grassroots.errors"):
        response = application.test_client().get("/_test/boom",
                                                 headers={"Accept-Language": accept})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    request_id = response.headers["X-Request-Id"]
    assert request_id in body
    for leak in ("Traceback", "RuntimeError", "secret.key", "SELECT", "/srv/", ".py"):
        assert leak not in body, leak
    assert f'<html lang="{lang}">' in body
    with application.test_request_context("/"), force_locale(locale):
        assert gettext("Something went wrong") in body
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert_security_headers(response, "500 page")


def test_D4_api_errors_are_json_with_the_request_id_in_a_header(app_config):
    application = _boom_app(app_config)
    response = application.test_client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert (response.json["code"], len(response.headers["X-Request-Id"])) == (404, 16)


def test_D4_page_errors_are_html_not_json(app):
    response = app.test_client().get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert response.headers["X-Request-Id"] in response.get_data(as_text=True)


def test_D4_a_refused_csrf_token_is_an_html_page(app, site):
    browser = Browser(app.test_client())
    browser.login(SimpleNamespace(username="nobody"), password="whatever")
    response = browser.client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
