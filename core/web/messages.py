"""Translated messages for kernel rules that the pages and the API share."""

from __future__ import annotations

from core.i18n import _


def password_messages(problems) -> list[str]:
    """One sentence per password-policy violation, naming the rule (SECURITY A1, A2)."""
    out = []
    for p in problems:
        if p.code == "too_short":
            out.append(_("The password must have at least %(min)s characters.", **p.params))
        elif p.code == "too_long":
            out.append(_("The password may have at most %(max)s characters.", **p.params))
        elif p.code == "common":
            out.append(_("This password is among the most common ones; choose another."))
        elif p.code == "context":
            out.append(_("The password must not be built on a name of this system, a site "
                         "or yourself."))
        elif p.code == "classes":
            out.append(_("The password must mix at least %(required)s of: lower-case "
                         "letters, capitals, digits, other characters.",
                         required=p.params["required"]))
    return out
