"""Languages: Simplified and Traditional Chinese, chosen per user.

Babel cannot map browser tags to script locales (``negotiate_locale`` returns
None for zh-TW against zh_Hant; STYLE gotcha 5), so the map is explicit:
zh-TW, zh-HK, zh-MO and zh-Hant read Traditional, every other zh Simplified.
msgids are English; there is no bare ``zh`` catalog.
"""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_babel import get_locale, gettext, lazy_gettext, ngettext, pgettext

LOCALES = ("zh_Hans", "zh_Hant")
DEFAULT_LOCALE = "zh_Hans"
LOCALE_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文"}
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}

_ = gettext
_l = lazy_gettext

__all__ = ["LOCALES", "_", "_l", "gettext", "lazy_gettext", "locale_for_tag", "ngettext",
           "pgettext", "select_locale"]


def locale_for_tag(tag: str) -> str | None:
    """Map one Accept-Language tag to a catalog, or None for a non-Chinese tag.

    >>> locale_for_tag("zh-TW"), locale_for_tag("zh-Hant-HK"), locale_for_tag("zh-CN")
    ('zh_Hant', 'zh_Hant', 'zh_Hans')
    """
    parts = [p.lower() for p in tag.replace("_", "-").split("-") if p]
    if not parts or parts[0] != "zh":
        return None
    rest = parts[1:]
    if "hant" in rest:
        return "zh_Hant"
    if "hans" in rest:
        return "zh_Hans"
    if any(p in _TRADITIONAL_REGIONS for p in rest):
        return "zh_Hant"
    return "zh_Hans"


def select_locale() -> str:
    """The user's choice, then Accept-Language in quality order, then Simplified.

    Outside a request (the CLI, jobs) lazy strings read Simplified.
    """
    user = g.get("user")
    if user is not None and user.locale in LOCALES:
        return user.locale
    chosen = g.get("session_locale")
    if chosen in LOCALES:
        return chosen
    if not has_request_context():
        return DEFAULT_LOCALE
    for tag, _quality in request.accept_languages:
        found = locale_for_tag(tag)
        if found:
            return found
    return DEFAULT_LOCALE


def current_locale() -> str:
    locale = get_locale()
    return str(locale) if locale else DEFAULT_LOCALE
