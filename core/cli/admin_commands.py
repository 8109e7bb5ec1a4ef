"""Sites, users, memberships, plugins and settings from the command line."""

from __future__ import annotations

import json

import click
from marshmallow import ValidationError

from core import bundles, identity, settings
from core.auth import hash_password, policy_violations
from core.cli import cli, fail
from core.kernel import bus
from core.models import ROLES, SITE_KINDS, Site, User
from core.security.passwords import generate_initial_password
from core.storage import utcnow


def find_site(code: str) -> Site:
    site = Site.get_or_none(Site.code == code)
    if site is None:
        fail(f"no site with code {code!r}")
    return site


def find_user(username: str) -> User:
    user = User.get_or_none(User.username == username)
    if user is None:
        fail(f"no user {username!r}")
    return user


@cli.group()
def site():
    """Sites: the street office, villages, communities and stations."""


@site.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice(SITE_KINDS), required=True)
@click.option("--parent", "parent_code", help="code of the parent site")
def site_create(code, name, kind, parent_code):
    """Create a site with its kind's default bundle."""
    parent = find_site(parent_code) if parent_code else None
    try:
        created = identity.create_site(code=code, name=name, kind=kind, parent=parent)
    except identity.IdentityError as err:
        fail({"parent_kind": f"a {kind} cannot sit under a {parent and parent.kind}",
              "code_taken": f"the code {code!r} is taken"}.get(err.code, err.code))
    click.echo(f"created {created.code} ({created.kind}) with plugins: "
               f"{', '.join(sorted(bundles.enabled_plugins(created))) or '-'}")


@site.command("list")
def site_list():
    """List every site as a tree."""

    def show(node, depth):
        click.echo(f"{'  ' * depth}{node.code}\t{node.kind}\t{node.name}")
        for child in Site.select().where(Site.parent == node).order_by(Site.code):
            show(child, depth + 1)

    for root in Site.select().where(Site.parent.is_null()).order_by(Site.code):
        show(root, 0)


@cli.group()
def user():
    """Users."""


@user.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="the person's name")
@click.option("--platform-admin", is_flag=True)
@click.option("--password", help="an initial password (default: generated and printed)")
def user_create(username, display_name, platform_admin, password):
    """Create a user with an initial password that must be changed at first sign-in."""
    import datetime as dt

    if password:
        problems = policy_violations(password, extra_words=[username])
        if problems:
            fail(f"password refused: {', '.join(p.code for p in problems)}")
    initial = password or generate_initial_password()
    try:
        identity.create_user(username=username, display_name=display_name,
                             password_hash=hash_password(initial),
                             is_platform_admin=platform_admin, must_change_password=True,
                             initial_password_expires_at=utcnow() + dt.timedelta(hours=72))
    except identity.IdentityError:
        fail(f"the username {username!r} is taken")
    click.echo(f"created {username}; initial password (valid 72 hours): {initial}"
               if not password else f"created {username}")


@cli.group()
def member():
    """Memberships: a user's role in a site."""


@member.command("add")
@click.argument("username")
@click.argument("site_code")
@click.argument("role", type=click.Choice(ROLES))
def member_add(username, site_code, role):
    """Give USERNAME the ROLE in SITE_CODE."""
    identity.add_member(find_user(username), find_site(site_code), role)
    click.echo(f"{username} is {role} of {site_code}")


@cli.group()
def plugins():
    """Installed plugins and the sites they are enabled for."""


@plugins.command("list")
def plugins_list():
    """Every installed plugin: version, requirements, hooks and enabled sites."""
    hub = bus()
    for name in hub.names:
        info = hub.infos[name]
        hooks = sorted(h.name for h in hub.pm.get_hookcallers(hub.pm.get_plugin(name)) or ())
        sites = sorted(s.code for s in Site.select() if name in bundles.enabled_plugins(s))
        click.echo(f"{name} {info.version}\trequires: {', '.join(info.requires) or '-'}\t"
                   f"hooks: {', '.join(hooks)}\tsites: {', '.join(sites) or '-'}")


def _bundle_message(err: bundles.BundleError) -> str:
    if err.code == "unknown":
        return f"no installed plugin {err.plugin!r}"
    if err.code == "requires":
        return f"{err.plugin} requires {', '.join(err.others)}; enable that first"
    return f"{err.plugin} is required by {', '.join(err.others)}; disable that first"


@plugins.command("enable")
@click.argument("name")
@click.argument("site_code")
def plugins_enable(name, site_code):
    """Enable plugin NAME for SITE_CODE."""
    try:
        bundles.enable(find_site(site_code), name)
    except bundles.BundleError as err:
        fail(_bundle_message(err))
    click.echo(f"enabled {name} for {site_code}")


@plugins.command("disable")
@click.argument("name")
@click.argument("site_code")
def plugins_disable(name, site_code):
    """Disable plugin NAME for SITE_CODE (its data is kept)."""
    try:
        bundles.disable(find_site(site_code), name)
    except bundles.BundleError as err:
        fail(_bundle_message(err))
    click.echo(f"disabled {name} for {site_code}")


@cli.group("settings")
def settings_group():
    """Per-site settings of the kernel and the plugins."""


@settings_group.command("show")
@click.option("--site", "site_code", required=True)
@click.option("--plugin", help="only this plugin")
def settings_show(site_code, plugin):
    """Print value, default and citation of every setting."""
    target = find_site(site_code)
    names = [plugin] if plugin else sorted(_schemas())
    for name in names:
        try:
            rows = settings.describe(target, name)
        except settings.UnknownSetting:
            fail(f"no settings for {name!r}")
        for row in rows:
            mark = "*" if row.overridden else " "
            click.echo(f"{mark} {name}.{row.key} = {json.dumps(row.value, ensure_ascii=False)}"
                       f"\t(default {json.dumps(row.default, ensure_ascii=False)}; "
                       f"{row.citation})")


def _schemas():
    from core.kernel import kernel

    return kernel().settings_schemas


@settings_group.command("set")
@click.option("--site", "site_code", required=True)
@click.argument("key")
@click.argument("value")
def settings_set(site_code, key, value):
    """Set KEY (``plugin.name``) to VALUE for a site; refused values name the rule."""
    target = find_site(site_code)
    if "." not in key:
        fail("KEY must be plugin.setting, e.g. core.mfa_for_leaders")
    plugin, name = key.split(".", 1)
    try:
        raw = json.loads(value)
    except ValueError:
        raw = value
    try:
        stored = settings.change(target, plugin, name, raw)
    except settings.UnknownSetting:
        fail(f"no setting {key!r}")
    except ValidationError as err:
        messages = "; ".join(f"{k}: {' '.join(map(str, v if isinstance(v, list) else [v]))}"
                             for k, v in err.messages.items())
        fail(f"refused: {messages}")
    click.echo(f"{key} = {json.dumps(stored, ensure_ascii=False)} for {site_code}")
