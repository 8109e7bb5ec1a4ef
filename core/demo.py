"""The demo instance: a street office with a village, a community and a health station.

``build()`` creates, in the current database, the street office 和平街道办事处 with
东风村 (a village), 阳光社区 (an urban community) and 阳光社区卫生服务站 (a health
station) under it, each with its kind's default bundle; the office holds an
``approve`` grant over the village and the community and a ``read`` grant over the
station. It adds one demo person for every role, all sharing :data:`DEMO_PASSWORD`,
and enrols a TOTP secret for everyone who must use a second factor (platform
administrators, site administrators and leaders: SECURITY A6), so a person can add
the printed secret to an authenticator app.

Every demo account has ``is_demo`` set, which makes a production start refuse
(SECURITY A5). Running ``build()`` again changes nothing and returns the same
accounts with their stored secrets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from core import auth, identity, notifications
from core.models import Site, SiteGrant, User
from core.records import audited
from core.security import totp
from core.storage import transaction

#: the password of every demo account; it passes the default policy (SECURITY A1, A2)
DEMO_PASSWORD = "Heping-Demo-2026"  # noqa: S105 - published on purpose, demo only


@dataclasses.dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    kind: str
    parent: str | None = None
    #: the right the parent site holds over this one
    grant: str | None = None


SITES = (
    DemoSite("heping", "和平街道办事处", "street_office"),
    DemoSite("dongfeng", "东风村", "village", "heping", "approve"),
    DemoSite("yangguang", "阳光社区", "urban_community", "heping", "approve"),
    DemoSite("yangguang-station", "阳光社区卫生服务站", "health_station", "heping", "read"),
)


@dataclasses.dataclass(frozen=True)
class DemoPerson:
    username: str
    display_name: str
    #: what the person does, as printed next to the login
    job: str
    memberships: tuple[tuple[str, str], ...] = ()
    platform_admin: bool = False


PEOPLE = (
    DemoPerson("admin", "赵建国", "平台管理员 platform administrator", platform_admin=True),
    DemoPerson("zhanghua", "张华", "和平街道办事处 主任 (leader)", (("heping", "leader"),)),
    DemoPerson("zhouhong", "周红", "阳光社区 系统管理员 (site admin)",
               (("yangguang", "site_admin"),)),
    DemoPerson("liming", "李明", "阳光社区 党委书记、居委会主任 (leader)",
               (("yangguang", "leader"),)),
    DemoPerson("wangfang", "王芳", "阳光社区 网格员 (staff)", (("yangguang", "staff"),)),
    DemoPerson("chenjing", "陈静", "阳光社区 居务监督委员会主任 (supervisor)",
               (("yangguang", "supervisor"),)),
    DemoPerson("liuqiang", "刘强", "东风村 党支部书记、村委会主任 (leader)",
               (("dongfeng", "leader"),)),
    DemoPerson("sunli", "孙丽", "东风村 村委会委员 (staff)", (("dongfeng", "staff"),)),
    DemoPerson("yangmin", "杨敏", "阳光社区卫生服务站 站长 (leader)",
               (("yangguang-station", "leader"),)),
    DemoPerson("huangwei", "黄伟", "阳光社区卫生服务站 全科医生 (staff)",
               (("yangguang-station", "staff"),)),
)

#: the first messages in a demo person's inbox: (title, body)
WELCOME = (
    ("欢迎使用基层治理平台", "这是演示数据：站点、人员和消息都是虚构的。"),
    ("请检查本月工作安排", "在仪表板上查看本站点启用的各项工作。"),
)


class DemoRefused(RuntimeError):
    """The database holds real accounts; demo accounts with a published password would
    weaken it (SECURITY A5)."""


@dataclasses.dataclass(frozen=True)
class Login:
    """One demo account as printed for a person trying the demo."""

    username: str
    display_name: str
    job: str
    totp_secret: str | None


@dataclasses.dataclass(frozen=True)
class Demo:
    sites: dict[str, Site]
    users: dict[str, User]
    logins: tuple[Login, ...]
    password: str = DEMO_PASSWORD


def _site(spec: DemoSite, sites: dict[str, Site]) -> Site:
    existing = Site.get_or_none(Site.code == spec.code)
    if existing is not None:
        return existing
    return identity.create_site(code=spec.code, name=spec.name, kind=spec.kind,
                                parent=sites.get(spec.parent) if spec.parent else None)


def _grant(parent: Site, child: Site, right: str) -> None:
    row = SiteGrant.get_or_none(parent=parent, child=child)
    if row is None or row.right != right:
        identity.grant(parent, child, right)


def _person(spec: DemoPerson, sites: dict[str, Site], password: str) -> User:
    user = User.get_or_none(User.username == spec.username)
    if user is None:
        user = identity.create_user(username=spec.username, display_name=spec.display_name,
                                    password_hash=auth.hash_password(password),
                                    is_platform_admin=spec.platform_admin, is_demo=True)
        for site_code, role in spec.memberships:
            identity.add_member(user, sites[site_code], role)
        if auth.mfa_required(user):
            _enrol(user)
        for site_code, _role in spec.memberships[:1]:
            for title, body in WELCOME:
                notifications.notify(user, sites[site_code], kind="core.demo", title=title,
                                     body=body)
        user = User.get_by_id(user.id)
    return user


def _enrol(user: User) -> None:
    """Pre-enrol a second factor, as the person would on the account page."""
    with transaction():
        User.update(totp_secret=totp.new_secret()).where(User.id == user.id).execute()
        audited("auth.mfa_enrol", user, site=None, payload={"demo": True})


def build(password: str = DEMO_PASSWORD) -> Demo:
    """Create (or find) the demo sites and people; see the module docstring.

    Runs in an application context. Idempotent.

    :raises DemoRefused: when a non-demo account exists in the database.
    """
    if User.select().where(User.is_demo == False).exists():  # noqa: E712
        raise DemoRefused("the database has accounts that are not demo accounts")
    problems = auth.policy_violations(password)
    if problems:
        raise ValueError(f"the demo password breaks the policy: {[p.code for p in problems]}")
    sites: dict[str, Site] = {}
    for spec in SITES:
        sites[spec.code] = _site(spec, sites)
        if spec.parent and spec.grant:
            _grant(sites[spec.parent], sites[spec.code], spec.grant)
    users = {spec.username: _person(spec, sites, password) for spec in PEOPLE}
    logins = tuple(Login(spec.username, spec.display_name, spec.job,
                         users[spec.username].totp_secret) for spec in PEOPLE)
    return Demo(sites=sites, users=users, logins=logins, password=password)


def current_code(secret: str, now: dt.datetime | None = None) -> tuple[str, int]:
    """The TOTP code an authenticator app shows now, and the seconds it stays valid."""
    import pyotp

    now = now or dt.datetime.now(dt.UTC)
    step = totp.time_step(now)
    code = pyotp.TOTP(secret, digits=totp.DIGITS, interval=totp.STEP_SECONDS).generate_otp(step)
    return code, totp.STEP_SECONDS - int(now.timestamp()) % totp.STEP_SECONDS

