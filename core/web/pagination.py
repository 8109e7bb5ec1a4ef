"""Paging a query for list pages: every list pages (DEVELOPERS: lists page and search)."""

from __future__ import annotations

import dataclasses
import math

from flask import current_app, request, url_for


@dataclasses.dataclass
class Page:
    """One page of rows and the links to its neighbours."""

    items: list
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    def url(self, number: int) -> str:
        args = {**request.view_args, **request.args.to_dict(), "page": number}
        return url_for(request.endpoint, **args)


def paginate(query, size: int | None = None) -> Page:
    """The page named by ``?page=`` (1-based, clamped) of ``query``."""
    size = size or current_app.config["PAGE_SIZE"]
    total = query.count()
    pages = max(1, math.ceil(total / size))
    number = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    return Page(items=list(query.paginate(number, size)), number=number, size=size,
                total=total)
