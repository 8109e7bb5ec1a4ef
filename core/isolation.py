"""The site-isolation harness: one site's rows are invisible to another (SECURITY Z2, Z3).

Every plugin reuses it in its tests (``from core.testing import Route,
assert_site_isolated``). Given a factory that creates a row in site A holding a
unique marker string, and every route that touches the row, the harness signs
in as a user of sibling site B with the same roles and asserts that each
route answers 404 (lists, searches and exports answer, but never with the
marker), and that the row did not change.

A harness that passes because its routes are mistyped proves nothing, so it
first checks its own premises: every route must exist in the URL map, and as
a user of site A every GET route must answer 200 with the marker in the body.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

import peewee as pw
from flask import Flask
from werkzeug.exceptions import MethodNotAllowed, NotFound

from core.context import Actor, acting_as

#: a marker is "ISO" and 16 hex digits; a search uses its first 14 characters
SEARCH_LENGTH = 14


@dataclasses.dataclass(frozen=True)
class Route:
    """A route touching the row under test.

    ``url`` may hold ``{id}`` (the row's primary key) and ``{search}``: a
    search term that finds the row (the start of its marker). A search page
    may echo its query, so the term is never the whole marker.

    :param listing: a list, search, count or export: it answers 200 to site B,
        only without the marker. Any other route must answer 404.
    :param data: the form of a POST, or the JSON body of an API call (a URL
        under ``/api/``, sent with a bearer token); may hold ``"{id}"``.
    :param shows_marker: the page shows the row to its own site; checked as
        site A's user so that "no marker for site B" means something.
    """

    method: str
    url: str
    data: dict | None = None
    listing: bool = False
    shows_marker: bool = True

    def filled(self, row_id, marker: str) -> Route:
        """This route for one row: placeholders in the URL and the data filled in.

        A data value that is exactly ``"{id}"`` becomes the id itself (a
        number in JSON); other strings are formatted like the URL.
        """
        def fill(value):
            if value == "{id}":
                return row_id
            if isinstance(value, str):
                return value.format(id=row_id, search=marker[:SEARCH_LENGTH])
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            if isinstance(value, list):
                return [fill(v) for v in value]
            return value

        return dataclasses.replace(self, url=fill(self.url), data=fill(self.data))


@dataclasses.dataclass
class IsolationReport:
    """What the harness tried: ``attempts`` cross-site requests, all refused."""

    row: pw.Model
    marker: str
    attempts: int


def _snapshot(model: type[pw.Model]) -> list[dict]:
    return list(model.select().order_by(model._meta.primary_key).dicts())


@dataclasses.dataclass
class Member:
    """A user acting in one site: pages through a signed-in browser, the API by token."""

    browser: object
    token: str | None = None

    def send(self, route: Route, csrf_page: str = "/"):
        """Send one route's request: a bearer token under ``/api/``, a CSRF token for a form."""
        path, client = route.url, self.browser.client
        if path.startswith("/api/"):
            assert self.token, "an API route needs signed_in(..., api=True)"
            return client.open(path, method=route.method, json=route.data,
                               headers={"Authorization": f"Bearer {self.token}"})
        if route.method == "GET":
            return client.get(path)
        return client.open(path, method=route.method,
                           data={**(route.data or {}),
                                 "csrf_token": self.browser.csrf(csrf_page)})


def signed_in(app: Flask, user, site, *, api: bool = False) -> Member:
    """``user`` acting in ``site``: a fresh signed-in browser and, with ``api``, a token."""
    from core.api.tokens import create_token
    from core.testing import Browser

    browser = Browser(app.test_client())
    response = browser.login(user, site=site)
    assert response.status_code in (302, 303), "the harness's user could not sign in"
    token = create_token(user, site, "isolation harness")[1] if api else None
    return Member(browser, token)


def _assert_routed(app: Flask, route: Route) -> None:
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(urlsplit(route.url).path, method=route.method)
    except (NotFound, MethodNotAllowed):
        raise AssertionError(f"{route.method} {route.url} matches no route: the harness "
                             "would pass for the wrong reason") from None


def assert_site_isolated(app: Flask, model: type[pw.Model],
                         make_row: Callable[[object, str], pw.Model],
                         routes: Sequence[Route], *, roles: Iterable[str] = ("staff",),
                         plugins: Iterable[str] = (),
                         kind: str = "urban_community") -> IsolationReport:
    """Assert that a row of site A is invisible and untouchable from site B (SECURITY Z2).

    :param model: the row's model; its table must be unchanged afterwards.
    :param make_row: ``make_row(site, marker)`` creates the row in ``site`` with
        ``marker`` in a field every listed page shows. It runs as site A's
        user (:func:`core.context.current_actor`), who owns what it creates.
    :param routes: every route touching the row: detail, edit form, update,
        delete, list, search, export, print, API.
    :param roles: the roles of both users (site B's user is as strong as A's).
    :param plugins: plugins to enable for both sites besides their kind's bundle.
    :returns: the report; ``attempts`` is the number of cross-site requests.
    """
    from core import bundles
    from core.testing import make_site, make_user

    roles = tuple(roles)
    office = make_site("street_office")
    site_a, site_b = make_site(kind, parent=office), make_site(kind, parent=office)
    for site in (site_a, site_b):
        for name in plugins:
            bundles.enable(site, name)
    user_a, user_b = make_user(site_a, roles), make_user(site_b, roles)
    marker = f"ISO{uuid.uuid4().hex[:16]}"
    with acting_as(Actor(user_id=user_a.id, site_id=site_a.id, via="test")):
        row = make_row(site_a, marker)
    row_id = row.get_id()

    api = any(route.url.startswith("/api/") for route in routes)
    own = signed_in(app, user_a, site_a, api=api)
    routes = [route.filled(row_id, marker) for route in routes]
    for route in routes:
        _assert_routed(app, route)
        if route.method == "GET":
            response = own.send(route)
            assert response.status_code == 200, (
                f"GET {route.url} answers {response.status_code} to the row's own site")
            if route.shows_marker:
                assert marker in response.get_data(as_text=True), (
                    f"GET {route.url} does not show the row to its own site")

    before = _snapshot(model)
    other = signed_in(app, user_b, site_b, api=api)
    attempts = 0
    for route in routes:
        response = other.send(route)
        attempts += 1
        where = f"{route.method} {route.url}"
        assert marker not in response.get_data(as_text=True), (
            f"{where} shows site A's row to site B")
        if route.listing:
            assert response.status_code == 200, (
                f"{where} answers {response.status_code}, not 200")
        else:
            assert response.status_code == 404, (
                f"{where} answers {response.status_code} to site B, not 404")
    assert _snapshot(model) == before, "a request from site B changed site A's data"
    return IsolationReport(row=row, marker=marker, attempts=attempts)


def assert_reference_refused(member: Member, route: Route, *, watch: Iterable[type[pw.Model]],
                             csrf_page: str = "/") -> None:
    """Assert that submitting another site's row id is refused (SECURITY Z3).

    ``member`` (see :func:`signed_in`) acts as a user of site B; ``route.data`` names a row
    of site A in a foreign-key field. The answer must be 404 or 422 and no row
    of the ``watch`` models may change.
    """
    watch = list(watch)
    before = [_snapshot(model) for model in watch]
    response = member.send(route, csrf_page)
    assert response.status_code in (404, 422), (
        f"{route.method} {route.url} with a foreign reference answers "
        f"{response.status_code}, not 404 or 422")
    assert [_snapshot(model) for model in watch] == before, (
        "a refused cross-site reference changed data")
