"""``grassroots plugin new NAME``: generate a plugin package and its tests (STYLE rule 9)."""

from __future__ import annotations

from pathlib import Path

import click

from core import scaffold
from core.cli import cli, fail


@cli.group("plugin")
def plugin():
    """Writing plugins."""


@plugin.command("new", with_appcontext=False)
@click.argument("name")
@click.option("--dir", "directory", default="plugins", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder that receives the plugin package.")
@click.option("--tests", "tests_directory", default="tests/plugins", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder that receives the plugin's tests.")
@click.option("--title", help="English title (the msgid); default: NAME capitalised.")
@click.option("--title-hans", prompt="Title in Simplified Chinese",
              help="The title in Simplified Chinese.")
@click.option("--title-hant", prompt="Title in Traditional Chinese",
              help="The title in Traditional Chinese.")
def new(name, directory, tests_directory, title, title_hans, title_hant):
    """Generate plugin NAME: models, migration, rules, schemas, pages, API, translations, tests."""
    try:
        written = scaffold.generate(name, directory, tests_directory, title=title,
                                    title_hans=title_hans, title_hant=title_hant)
    except scaffold.ScaffoldError as err:
        fail(str(err))
    for path in written:
        click.echo(f"created {path}")
    module = scaffold.module_path(directory, name)
    click.echo(f"\nNext: add `{name} = {module}` to the grassroots.plugins entry points "
               f"(setup.cfg), then run `pip install -e .` (see {directory / name / 'README.md'}).")
