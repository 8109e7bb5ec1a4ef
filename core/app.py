"""The application factory.

``create_app(config)`` reads ``instance/config.py`` (or the mapping given),
connects the database, builds and validates the plugin manager, registers
every installed plugin's blueprints and API, and installs the web shell.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

from core import migrate
from core.audit import log as audit_log
from core.kernel import Kernel
from core.plugins import HookBus, build_plugin_manager, flatten
from core.storage import db, init_database

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    "DATABASE_URL": None,
    "PLUGINS": None,
    "TRACE_HOOKS": False,
    "THEME": "default",
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "SESSION_COOKIE_SECURE": True,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    "LOGIN_IP_MAX_FAILURES": 50,
    "PASSWORD_MIN_LENGTH": 12,
    "PASSWORD_CLASSES_REQUIRED": 0,
    "PASSWORD_MAX_AGE_DAYS": 0,
    "PASSWORD_HASH_PROFILE": "production",
    "AUDIT_HASH": "sha256",
    "BASE_URL": "http://localhost:5000",
    "PROXY_COUNT": 0,
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "PAGE_SIZE": 50,
    "DEMO": False,
    "AUTO_MIGRATE": True,
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_SSL_STRICT": False,
    "API_TITLE": "Grassroots",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "BABEL_DEFAULT_LOCALE": "zh_Hans",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
}


def instance_dir() -> Path:
    return Path(os.environ.get("GRASSROOTS_INSTANCE", ROOT / "instance")).resolve()


def _read_secret(path: Path) -> bytes | None:
    return path.read_bytes().strip() if path.exists() else None


def create_app(config: dict | None = None, extra_plugins=()) -> Flask:
    """Build a Grassroots application.

    :param config: settings that override ``instance/config.py`` and the defaults.
    :param extra_plugins: ``(name, module)`` pairs registered besides the
        installed plugins (test plugins, benchmarks).
    """
    instance = instance_dir()
    instance.mkdir(parents=True, exist_ok=True)
    app = Flask("grassroots", instance_path=str(instance), instance_relative_config=True,
                static_folder=None)
    app.config.update(DEFAULTS)
    app.config["DATABASE_URL"] = f"sqlite:///{instance / 'grassroots.sqlite'}"
    app.config["UPLOAD_DIR"] = str(instance / "files")
    app.config["CHECKPOINT_DIR"] = str(instance / "checkpoints")
    app.config["AUDIT_KEY_FILE"] = str(instance / "audit.key")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("GRASSROOTS")
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        secret = _read_secret(instance / "secret.key")
        app.config["SECRET_KEY"] = secret.decode() if secret else None

    init_database(app.config["DATABASE_URL"])
    pm = build_plugin_manager(app.config["PLUGINS"], extra=extra_plugins,
                              trace=bool(app.config["TRACE_HOOKS"]))
    hub = HookBus(pm)
    permissions = {p.name: p for p in flatten(pm.hook.register_permissions())}
    schemas = {}
    for impl in pm.hook.register_settings.get_hookimpls():
        schema = impl.function()
        if schema is not None:
            schemas[impl.plugin_name] = schema
    app.extensions["grassroots"] = Kernel(bus=hub, permissions=permissions,
                                          settings_schemas=schemas)
    audit_key = _read_secret(Path(app.config["AUDIT_KEY_FILE"])) or b""
    audit_log.configure(alg=app.config["AUDIT_HASH"], pi_key=audit_key,
                        pi_fields=flatten(pm.hook.personal_data_fields()))

    if app.config["AUTO_MIGRATE"]:
        with db.obj.connection_context():
            migrate.upgrade(hub)

    pm.hook.register_commands(cli=app.cli)
    _install_templates(app)
    from core.web import shell

    shell.install(app, hub)
    return app


def _install_templates(app: Flask) -> None:
    """Themes override any template by path; ``default:name`` reaches the original."""
    theme = app.config["THEME"]
    default = ROOT / "themes" / "default" / "templates"
    paths = [str(ROOT / "themes" / theme / "templates")] if theme != "default" else []
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader([*paths, str(default)]),
        PrefixLoader({"default": FileSystemLoader(str(default))}, delimiter=":"),
    ])
