"""``grassroots check --deploy`` and ``grassroots run`` (SECURITY A5, D5)."""

from __future__ import annotations

import click
from flask import current_app

from core import deploy_check
from core.cli import cli


@cli.command("check")
@click.option("--deploy", is_flag=True, required=True,
              help="check that this instance may serve in production")
def check(deploy):
    """Exit 1 with one line per problem when the instance may not serve in production."""
    found = deploy_check.problems(current_app)
    for line in found:
        click.echo(line, err=True)
    if found:
        raise SystemExit(1)
    click.echo("ready for production")


@cli.command("run")
@click.option("--demo", is_flag=True,
              help="skip the production check and serve with Flask's development server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int,
              help="gunicorn worker processes (production only)")
def run(demo, host, port, workers):
    """Serve Grassroots: gunicorn after the production check, or the demo server.

    Without ``--demo`` the command refuses, like ``check --deploy``, while
    any demo account, unused initial password, debug mode, weak or missing
    secret or open secret file exists (SECURITY A5, D5).
    """
    app = current_app._get_current_object()
    if demo:
        serve_demo(app, host, port)
        return
    found = deploy_check.problems(app)
    for line in found:
        click.echo(line, err=True)
    if found:
        click.echo("refusing to start; fix the lines above or use --demo on a demo instance",
                   err=True)
        raise SystemExit(1)
    serve_production(app, host, port, workers)


def serve_demo(app, host: str, port: int) -> None:
    """Flask's development server over plain HTTP (so the cookie is not ``Secure``)."""
    from werkzeug.serving import run_simple

    app.config.update(DEMO=True, SESSION_COOKIE_SECURE=False)
    run_simple(host, port, app, threaded=True, use_reloader=False)


def serve_production(app, host: str, port: int, workers: int) -> None:
    """gunicorn with ``workers`` processes; every worker serves the checked ``app``."""
    from gunicorn.app.base import BaseApplication

    from core.storage import db

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")

        def load(self):
            return app

    # workers fork from this process: none may inherit its database connection
    if not db.obj.is_closed():
        db.obj.close()
    Server().run()
