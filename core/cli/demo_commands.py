"""``grassroots demo``: build the demo data and serve it over plain HTTP on loopback."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from core import demo
from core.cli import cli, fail


def _print_logins(built: demo.Demo, url: str) -> None:
    click.echo(f"\nGrassroots demo (基层治理平台 演示): {url}\n")
    click.echo(f"Every demo account's password: {built.password}\n")
    width = max(len(login.username) for login in built.logins)
    for login in built.logins:
        click.echo(f"  {login.username:<{width}}  {login.display_name}  {login.job}")
        if login.totp_secret:
            code, left = demo.current_code(login.totp_secret)
            click.echo(f"  {'':<{width}}  second factor: TOTP secret {login.totp_secret} "
                       f"(code now {code}, {left} s left)")
    click.echo("\nAdd a TOTP secret to an authenticator app (manual entry, time-based), or run "
               "`grassroots demo codes` for the current codes. A code works once; after using "
               "one, wait for the next.\n")


@cli.group("demo", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="serve the demo after building it")
@click.pass_context
@with_appcontext  # a group's own callback gets no app context from FlaskGroup
def demo_group(ctx, host, port, serve):
    """Build the demo sites and accounts (idempotent), print the logins and serve.

    Refuses to run on a database with real (non-demo) accounts: the demo
    password is published.
    """
    if ctx.invoked_subcommand is not None:
        return
    try:
        built = demo.build()
    except demo.DemoRefused as err:
        fail(f"{err}; run the demo on its own instance (GRASSROOTS_INSTANCE=/some/empty/dir)")
    url = f"http://{host}:{port}"
    _print_logins(built, url)
    if serve:
        from core.cli.security_commands import serve_demo

        app = current_app._get_current_object()
        app.config["BASE_URL"] = url  # links in messages point at this server
        serve_demo(app, host, port)


@demo_group.command("codes")
def demo_codes():
    """Print the current second-factor code of every demo account that has one."""
    from core.models import User

    users = (User.select().where(User.is_demo == True, User.totp_secret.is_null(False))  # noqa: E712
             .order_by(User.username))
    if not users.exists():
        fail("no demo accounts with a second factor; run `grassroots demo` first")
    for user in users:
        code, left = demo.current_code(user.totp_secret)
        click.echo(f"{user.username}\t{code}\t({left} s left)\t{user.display_name}")
