"""The ``grassroots`` command: one click group that plugins extend.

Plugins add their commands through the ``register_commands`` hook, which the
factory calls with ``app.cli``; Flask's group lists those beside the kernel's.
Every command runs in an application context. Bad input ends with a one-line
error and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from core.app import create_app
from core.context import Actor, set_actor


def _make_app():
    app = create_app()
    set_actor(Actor(via="cli"))
    return app


cli = FlaskGroup(create_app=_make_app, add_default_commands=False, add_version_option=False,
                 load_dotenv=False, set_debug_flag=False,
                 help="Grassroots (基层治理平台) administration.")


def fail(message: str) -> None:
    """Stop the command with a one-line error (exit 1)."""
    raise click.ClickException(message)


from core.cli import (  # noqa: E402,F401 - importing a module registers its commands
    admin_commands,
    audit_commands,
    backup_commands,
    calendar_commands,
    db_commands,
    demo_commands,
    i18n_commands,
    obligation_commands,
    plugin_commands,
    security_commands,
)
