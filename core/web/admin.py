"""Administration pages: the site tree, users, memberships, plugins and settings."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
