"""The blueprint class every API module uses, the kernel's and the plugins'.

``core.api.Blueprint`` is flask-smorest's blueprint with two kernel rules:

* JSON bodies are type-strict (:func:`core.api.schemas.json_type_errors`):
  the same schema serves the lenient HTML form and the exact JSON API.
* Lists page with smorest's pagination: ``?page=`` (from 1) and
  ``?page_size=`` (1 to 100, default 50); the response carries the
  ``X-Pagination`` header, e.g. ``{"total": 120, "total_pages": 3, "page": 2,
  "first_page": 1, "last_page": 3, "previous_page": 1, "next_page": 3}``.
  Use ``@blp.paginate(QueryPage)`` and return a peewee query.
"""

from __future__ import annotations

import flask_smorest
from flask_smorest import Page
from webargs.flaskparser import FlaskParser

from core.api.schemas import check_json_types

#: the paging convention of every list (docs/api.md)
PAGINATION = {"page": 1, "page_size": 50, "max_page_size": 100}


class JsonParser(FlaskParser):
    """webargs' Flask parser, refusing JSON values of the wrong type (422)."""

    def _load_location_data(self, *, schema, req, location):
        data = super()._load_location_data(schema=schema, req=req, location=location)
        if location == "json":
            check_json_types(schema, data)
        return data


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint with the kernel's parser and paging defaults."""

    ARGUMENTS_PARSER = JsonParser()
    DEFAULT_PAGINATION_PARAMETERS = PAGINATION


class QueryPage(Page):
    """Pages a peewee query: one COUNT, then only the rows of the asked page.

    A page past the end is empty without querying, so a huge ``?page=`` never
    reaches the database as an out-of-range OFFSET.
    """

    @property
    def item_count(self) -> int:
        return self.collection.count()

    @property
    def items(self) -> list:
        params = self.page_params
        if params.first_item >= params.item_count:
            return []
        return list(self.collection.paginate(params.page, params.page_size))
