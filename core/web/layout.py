"""What plugins put into the layout: menu items and dashboard widgets."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class MenuItem:
    """One entry of the main menu (returned by the ``menu_items`` hook).

    :param endpoint: the Flask endpoint the entry links to.
    :param permission: shown only to users holding it (None: every member).
    :param order: position; lower first. Plugin order never decides.
    :param group: ``main`` for the site's work, ``admin`` for administration.
    """

    title: object
    endpoint: str
    permission: str | None = None
    order: int = 100
    group: str = "main"
    icon: str = ""


@dataclasses.dataclass(frozen=True)
class Widget:
    """One dashboard panel (returned by the ``dashboard_widgets`` hook).

    :param template: a template rendered with ``context`` inside the panel.
    """

    title: object
    template: str
    context: dict = dataclasses.field(default_factory=dict)
    permission: str | None = None
    order: int = 100
    size: str = "half"
