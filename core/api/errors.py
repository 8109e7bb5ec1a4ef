"""The API's one error shape (STYLE 15, gotchas 3 and 6).

Every error under ``/api/`` answers::

    {"code": 422, "status": "Unprocessable Entity",
     "message": "...",                                  (optional)
     "errors": {"json": {"quorum": ["..."]}}}           (optional)

``errors`` maps a request location (``json``, ``query``, ``path``) to
``{field: [message, ...]}``: nested fields are dotted, messages about the
whole body sit under ``_schema``, and every message is a translated string in
a list, even where marshmallow returned a bare lazy string (gotcha 6).
"""

from __future__ import annotations

from flask import g, jsonify
from marshmallow import Schema, fields

from core.i18n import _l
from core.web.forms import normalise

#: marshmallow's and webargs's fixed English messages, translated. Formatted
#: ones ("Must be greater than or equal to 1.") stay as marshmallow wrote them;
#: schemas give their validators translated ``error=`` texts instead.
LIBRARY_MESSAGES = {
    "Missing data for required field.": _l("Missing data for required field."),
    "Field may not be null.": _l("Field may not be null."),
    "Invalid value.": _l("Invalid value."),
    "Unknown field.": _l("Unknown field."),
    "Invalid input type.": _l("Invalid input type."),
    "Invalid type.": _l("Invalid type."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid number.": _l("Not a valid number."),
    "Not a valid boolean.": _l("Not a valid boolean."),
    "Not a valid list.": _l("Not a valid list."),
    "Not a valid mapping type.": _l("Not a valid mapping type."),
    "Not a valid date.": _l("Not a valid date."),
    "Not a valid datetime.": _l("Not a valid datetime."),
    "Invalid JSON body.": _l("Invalid JSON body."),
}

#: the request locations webargs names (flask-smorest's ``location=``)
LOCATIONS = frozenset({"json", "query", "querystring", "path", "view_args", "form",
                       "headers", "cookies", "files", "json_or_form"})

#: a short explanation for the statuses a client meets most
STATUS_MESSAGES = {
    401: _l("A valid API token is required: send the header Authorization: Bearer <token>."),
    403: _l("Your role in this site does not allow this."),
    404: _l("There is no such resource in this site."),
    409: _l("The record changed since you read it. Read it again and repeat your change."),
    413: _l("The request or file is too large."),
    422: _l("The request was refused: see the errors of each field."),
    500: _l("The error has been logged. Quote the X-Request-Id header when you report it."),
}


class ErrorSchema(Schema):
    """The error payload, for the OpenAPI document (never used to dump)."""

    code = fields.Integer(metadata={"description": "HTTP status code"})
    status = fields.String(metadata={"description": "HTTP status name"})
    message = fields.String(metadata={"description": "A translated explanation"})
    errors = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(),
                                                 values=fields.List(fields.String())),
        metadata={"description": "location → field → translated messages"})


def translate(message: str) -> str:
    """A library message in the request's language; other messages unchanged."""
    lazy = LIBRARY_MESSAGES.get(message)
    return str(lazy) if lazy is not None else message


def normalise_errors(errors) -> dict[str, dict[str, list[str]]]:
    """Any marshmallow/webargs message structure as ``{location: {field: [str]}}``.

    A structure without locations (a bare ``{field: ...}`` or a list) is
    taken to be about the JSON body.
    """
    if not isinstance(errors, dict) or not set(errors) <= LOCATIONS:
        errors = {"json": errors}
    out = {}
    for location, messages in errors.items():
        flat = normalise(messages)
        out[str(location)] = {field: [translate(m) for m in items]
                              for field, items in flat.items()}
    return out


def error_payload(code: int, status: str, *, errors=None, message=None) -> dict:
    """The error body for ``code`` (see the module docstring)."""
    body = {"code": code, "status": status}
    explanation = message if message is not None else STATUS_MESSAGES.get(
        500 if code >= 500 else code)
    if explanation is not None:
        body["message"] = str(explanation)
    if errors:
        body["errors"] = normalise_errors(errors)
    return body


def error_response(code: int, status: str, *, errors=None, message=None, headers=None):
    """A JSON response in the one error shape."""
    response = jsonify(error_payload(code, status, errors=errors, message=message))
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def http_error_response(code: int, status: str, exc=None):
    """The JSON answer to an HTTP error ``exc`` under ``/api/``.

    Takes what flask-smorest's ``abort`` and webargs store in ``exc.data``
    (``message``, ``errors`` or ``messages``, ``headers``), keeps the
    protocol's headers (``Allow`` on 405) and asks for a bearer token on 401.
    """
    data = getattr(exc, "data", None) or {}
    headers = {}
    if exc is not None and hasattr(exc, "get_headers"):
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if code == 401:
        challenge = 'Bearer realm="grassroots"'
        if g.get("api_token_refused"):
            challenge += ', error="invalid_token"'
        headers["WWW-Authenticate"] = challenge
    # an exception may carry its own translated explanation (core.attachments)
    message = data.get("message") or getattr(exc, "message", None)
    return error_response(code, status, errors=data.get("errors") or data.get("messages"),
                          message=message, headers=headers)
