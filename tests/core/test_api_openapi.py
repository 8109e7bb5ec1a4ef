"""The OpenAPI document: generated from the schemas, bearer security declared."""

from __future__ import annotations

from core.api import tokens
from core.testing import make_user


def _spec(client, site):
    _row, token = tokens.create_token(make_user(site), site, "docs")
    response = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response.get_json()


def test_openapi_document_needs_a_token_like_the_rest_of_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 401
    assert response.mimetype == "application/json"


def test_openapi_declares_bearer_security_for_every_operation(client, site):
    spec = _spec(client, site)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]


def test_openapi_lists_every_kernel_operation_with_its_schemas(client, site):
    spec = _spec(client, site)
    operations = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert {("/api/v1/me", "get"), ("/api/v1/sites", "get"),
            ("/api/v1/notifications", "get"), ("/api/v1/notifications/read", "post"),
            ("/api/v1/settings/core", "get"), ("/api/v1/settings/core", "patch")} <= operations
    schemas = spec["components"]["schemas"]
    assert schemas["MarkRead"]["additionalProperties"] is False
    assert "audit_retention_days" in schemas["CoreSettings"]["properties"]
    paging = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/notifications"]["get"][
        "parameters"]}
    assert paging["page_size"]["maximum"] == 100


def test_openapi_documents_the_one_error_shape(client, site):
    spec = _spec(client, site)
    error = spec["components"]["schemas"]["Error"]["properties"]
    assert set(error) == {"code", "status", "message", "errors"}
    default = spec["paths"]["/api/v1/me"]["get"]["responses"]["default"]
    assert default == {"$ref": "#/components/responses/DEFAULT_ERROR"}
