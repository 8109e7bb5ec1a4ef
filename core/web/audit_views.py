"""The audit log page for leaders, supervisors and platform administrators."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
