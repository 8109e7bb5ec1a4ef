"""Migrations: ``grassroots db upgrade|status`` and the models-versus-migrations drift check.

Tests build their database by running the migrations (STYLE rule 12), so the
drift check compares what the migrations made with what the models say.
"""

from __future__ import annotations

import peewee as pw

from core import PluginInfo, hookimpl
from core.cli import cli
from core.migrate import KERNEL_MIGRATIONS
from core.models import Site
from core.storage import db
from core.testing import schema_drift

KERNEL_SCRIPTS = sorted(p.stem for p in KERNEL_MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


def test_db_upgrade_then_status_on_an_empty_database(app_with_plugins, tmp_path):
    app = app_with_plugins(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite'}",
                           AUTO_MIGRATE=False)
    runner = app.test_cli_runner()

    pending = runner.invoke(cli, ["db", "status"])
    assert pending.exit_code == 1
    assert [f"pending  core/{name}" for name in KERNEL_SCRIPTS] == [
        line for line in pending.output.splitlines() if line.endswith(tuple(KERNEL_SCRIPTS))]

    upgrade = runner.invoke(cli, ["db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    assert [f"applied core/{name}" for name in KERNEL_SCRIPTS] == [
        line for line in upgrade.output.splitlines() if line.startswith("applied core/")]
    assert Site.table_exists()

    status = runner.invoke(cli, ["db", "status"])
    assert status.exit_code == 0, status.output
    assert "pending" not in status.output

    again = runner.invoke(cli, ["db", "upgrade"])
    assert (again.exit_code, again.output) == (0, "up to date\n")


def test_db_status_lists_every_kernel_migration_as_applied(runner):
    result = runner.invoke(cli, ["db", "status"])
    assert result.exit_code == 0, result.output
    for name in KERNEL_SCRIPTS:
        assert f"applied  core/{name}" in result.output.splitlines()


def test_migrations_and_models_agree(app):
    """The drift check: kernel models and every installed plugin's register_models()."""
    drift = schema_drift(app.extensions["grassroots"].bus)
    assert not drift, f"models and migrations differ; write a migration for:\n{drift}"


class Saying(pw.Model):
    """A plugin model that gained a column its migration does not add."""

    text = pw.CharField()
    author = pw.CharField(default="")

    class Meta:
        database = db
        table_name = "motto_saying"


MOTTO_MIGRATION = """from peewee import *


def up(migrator, db):
    class Saying(Model):
        text = CharField()

        class Meta:
            table_name = "motto_saying"

    db.bind([Saying])
    db.create_tables([Saying])
"""


class Motto:
    def __init__(self, migrations):
        self.migrations = migrations

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="motto", title="Motto")

    @hookimpl
    def register_migrations(self):
        return self.migrations

    @hookimpl
    def register_models(self):
        return [Saying]


def test_the_drift_check_sees_a_column_without_a_migration(app_with_plugins, tmp_path):
    (tmp_path / "0001_initial.py").write_text(MOTTO_MIGRATION)
    app = app_with_plugins(("motto", Motto(str(tmp_path))))
    drift = schema_drift(app.extensions["grassroots"].bus)
    assert str(drift) == "add column motto_saying.author"
