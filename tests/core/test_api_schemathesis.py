"""Fuzzing every kernel API operation from the OpenAPI document (SECURITY §4.3, §5).

schemathesis generates ~20 requests from the document for every operation,
half that fit the schemas and half that break them, and runs its default checks
on each answer: no server error, documented status codes, content types and
schemas, invalid input refused, valid input accepted, 401 without
credentials, 405 with ``Allow``. The caller is a site administrator's token,
so every operation can succeed.

The operations are walked in one test with hypothesis's ``@given`` rather
than ``schemathesis.pytest.from_fixture``, whose lazy loader reads a pytest
attribute (``Function._nodeid``) that pytest 9 no longer has.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from core.api import tokens
from core.app import create_app
from core.context import Actor, acting_as
from core.testing import make_site, make_user

#: per operation and mode: 10 valid + 10 invalid requests, ~20 per operation (SECURITY §4.3)
EXAMPLES = 10


@pytest.fixture
def fuzz_target(app_config):
    """A fresh app's OpenAPI document, fuzzed with a site administrator's token.

    No app context stays pushed: every fuzzed request gets its own, as in
    production, so nothing leaks between requests through ``flask.g``.
    """
    application = create_app(app_config)
    with application.app_context(), acting_as(Actor(via="test")):
        site = make_site()
        admin = make_user(site, roles=("site_admin", "staff"))
        _row, token = tokens.create_token(admin, site, "fuzz")
    config = SchemathesisConfig.from_dict({
        # the token is the document's bearerAuth scheme: schemathesis sends it, and
        # leaves it out on purpose for its ignored_auth check
        "auth": {"openapi": {"bearerAuth": {"bearer": token}}},
        # unknown query parameters are ignored (as webargs does), not refused
        "generation": {"allow-extra-parameters": False},
    })
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=config,
                                          headers={"Authorization": f"Bearer {token}"})


def _fuzz(operation, mode):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate()

    run()


def test_api_fuzz_every_operation_without_a_server_error(fuzz_target):
    schema = fuzz_target
    operations = [result.ok() for result in schema.get_all_operations()]
    names = {f"{op.method.upper()} {op.path}" for op in operations}
    assert {"GET /api/v1/me", "GET /api/v1/sites", "GET /api/v1/notifications",
            "POST /api/v1/notifications/read", "GET /api/v1/settings/core",
            "PATCH /api/v1/settings/core"} <= names
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode)
