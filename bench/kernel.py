"""What the kernel costs: its pages, hook bus and audited writes against bare Flask and peewee.

Run by hand (not a test)::

    python bench/kernel.py --quick    # 20 sites, 200 users, 20,000 audit events: about 15 s
    python bench/kernel.py            # 200 sites, 2,000 users, 1,000,000 audit events

It builds an instance in a temporary SQLite database (``--keep DIR`` keeps it) with
ten synthetic plugins, each contributing one dashboard widget that reads five rows,
and then measures, in one run and on the same database:

* the dashboard and 50-row list pages (the inbox; the audit page when it exists),
  median and p95 against a bare Flask + Jinja page running the same queries and
  rendering the same rows (the bare app connects per request, as the kernel does);
* the hook bus's share of a dashboard request: time inside pluggy's hook execution
  minus time inside the implementations, over the whole request;
* SQL statements per page, and whether a list page's count grows with its rows (N+1);
* an audited write (``core.records.create`` of a small site-scoped row) against a bare
  single-row peewee transaction, both with ``synchronous=FULL``;
* ``audit verify`` throughput over every chain.

Targets (docs/performance.md): pages p95 ≤ 1.5× bare, hook bus ≤ 2 %, audited write
≤ 2× bare, verify ≥ 100,000 events/s. Requests go through Flask's test client, so the
figures are the application's own time, without a network or a WSGI server.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import importlib.metadata
import platform
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import peewee as pw
from flask import Blueprint, Flask, render_template

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import identity, records  # noqa: E402
from core.app import create_app  # noqa: E402
from core.audit import chain  # noqa: E402
from core.audit.models import AuditEvent, AuditHead  # noqa: E402
from core.context import Actor, acting_as  # noqa: E402
from core.models import SITE_KINDS, Membership, Notification, Site, User  # noqa: E402
from core.plugins import PluginInfo, hookimpl  # noqa: E402
from core.sitemodel import SiteModel  # noqa: E402
from core.storage import db, utcnow  # noqa: E402
from core.web.layout import Widget  # noqa: E402

PASSWORD = "bench-password-1234"
PLUGINS = 10
ROWS_PER_WIDGET = 5


@dataclasses.dataclass(frozen=True)
class Size:
    offices: int
    children: int
    users: int
    events: int
    requests: int
    writes: int


FULL = Size(offices=10, children=19, users=2000, events=1_000_000, requests=300, writes=2000)
QUICK = Size(offices=2, children=9, users=200, events=20_000, requests=60, writes=300)


class BenchNote(SiteModel):
    """The small site-scoped row the widgets read and the write benchmark inserts."""

    kind = pw.IntegerField()
    title = pw.CharField(max_length=200)

    class Meta:
        table_name = "bench_note"


WIDGET = """<ul class="rows">{% for r in rows %}<li>{{ r.title }}
<span class="muted">{{ r.created_at.strftime('%Y-%m-%d %H:%M') }}</span></li>{% endfor %}</ul>"""
BARE_DASHBOARD = """<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<title>{{ site.name }}</title><link rel="stylesheet" href="/static/grassroots.css"></head>
<body><header class="top"><a class="brand" href="/">基层治理平台</a></header><main id="main">
<h1>{{ site.name }}</h1><div class="widgets">{% for title, rows in widgets %}
<section class="widget half"><h2>{{ title }}</h2>""" + WIDGET + """</section>{% endfor %}
</div></main></body></html>"""
BARE_LIST = """<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<title>{{ title }}</title><link rel="stylesheet" href="/static/grassroots.css"></head>
<body><header class="top"><a class="brand" href="/">基层治理平台</a></header><main id="main">
<h1>{{ title }}</h1><div class="table-wrap"><table class="stack"><tbody>
{% for cells in rows %}<tr>{% for c in cells %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table></div><p class="muted">{{ total }}</p></main></body></html>"""


class BenchPlugin:
    """A synthetic plugin: one dashboard widget listing the site's five newest notes."""

    def __init__(self, number: int):
        self.number = number
        self.name = f"bench{number:02d}"

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name=self.name, title=f"基准插件{self.number}",
                          default_for=SITE_KINDS)

    @hookimpl
    def dashboard_widgets(self, site):
        rows = list(BenchNote.select(BenchNote.title, BenchNote.created_at)
                    .where(BenchNote.site == site, BenchNote.kind == self.number)
                    .order_by(BenchNote.id.desc()).limit(ROWS_PER_WIDGET))
        return [Widget(f"基准插件{self.number}", "bench/widget.html",
                       context={"rows": rows}, order=self.number)]

    @hookimpl
    def register_blueprints(self):
        if self.number != 1:
            return []
        # the widget template is found through a blueprint, as a real plugin's would be
        return [Blueprint("bench", __name__, template_folder=str(TEMPLATES))]


#: the widget's and the bare pages' templates, written beside the database by main()
TEMPLATES = Path()


def write_templates(folder: Path) -> None:
    global TEMPLATES
    TEMPLATES = folder / "templates"
    (TEMPLATES / "bench").mkdir(parents=True, exist_ok=True)
    (TEMPLATES / "bench" / "widget.html").write_text(
        "{% set rows = w.context.rows %}" + WIDGET, encoding="utf-8")
    (TEMPLATES / "bare_dashboard.html").write_text(BARE_DASHBOARD, encoding="utf-8")
    (TEMPLATES / "bare_list.html").write_text(BARE_LIST, encoding="utf-8")


# --------------------------------------------------------------------------- build


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclasses.dataclass
class Instance:
    app: Flask
    big: Site  # the site whose chain and inbox are long
    small: Site  # a site with few events and ten notifications
    reader: str  # supervisor of ``big``
    small_reader: str  # supervisor of ``small``


def build(size: Size, folder: Path) -> Instance:
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    (folder / "audit.key").write_bytes(b"11" * 32)
    app = create_app({
        "DATABASE_URL": url, "SECRET_KEY": "bench-" + "k" * 60,
        "PASSWORD_HASH_PROFILE": "test", "SESSION_COOKIE_SECURE": False,
        "AUDIT_KEY_FILE": str(folder / "audit.key"),
        "CHECKPOINT_DIR": str(folder / "checkpoints"), "UPLOAD_DIR": str(folder / "files"),
    }, extra_plugins=[(p.name, p) for p in (BenchPlugin(n) for n in range(1, PLUGINS + 1))])
    rng = random.Random(2026)
    with app.app_context(), acting_as(Actor(via="cli")):
        db.obj.connect(reuse_if_open=True)
        db.obj.execute_sql("PRAGMA synchronous=OFF")  # building only; measurements reconnect
        BenchNote.create_table()
        sites = []
        kinds = ("village", "urban_community", "health_station")
        for o in range(size.offices):
            office = identity.create_site(code=f"office{o}", name=f"第{o + 1}街道办事处",
                                          kind="street_office")
            sites.append(office)
            for c in range(size.children):
                sites.append(identity.create_site(
                    code=f"s{o}-{c}", name=f"第{o + 1}街道第{c + 1}社区",
                    kind=kinds[c % 3], parent=office))
        say(f"{len(sites)} sites")
        from core.auth import hash_password

        hashed = hash_password(PASSWORD)
        now = utcnow()
        User.insert_many([
            {"username": f"u{i}", "display_name": f"用户{i}", "password_hash": hashed,
             "password_changed_at": now, "created_at": now, "search": f"u{i}"}
            for i in range(size.users)]).execute()
        ids = [u for (u,) in User.select(User.id).tuples()]
        with db.obj.atomic():
            for batch in range(0, len(ids), 500):
                Membership.insert_many([
                    {"user": uid, "site": sites[i % len(sites)].id,
                     "role": ("staff", "staff", "staff", "supervisor")[i % 4], "created_at": now}
                    for i, uid in enumerate(ids[batch:batch + 500], start=batch)]).execute()
        big, small = sites[1], sites[2]
        for username, site in (("reader", big), ("small_reader", small)):
            user = identity.create_user(username=username, display_name=f"读者{username}",
                                        password_hash=hashed)
            identity.add_member(user, site, "supervisor")
            notes = 60 if site is big else 10
            Notification.insert_many([
                {"site": site.id, "user": user.id, "kind": "bench", "title": f"通知 {n}",
                 "body": "请按时完成本月工作。", "created_at": now, "url": ""}
                for n in range(notes)]).execute()
        say(f"{len(ids) + 2} users")
        with db.obj.atomic():
            BenchNote.insert_many([
                {"site": s.id, "kind": k, "title": f"第{k}类记录{n}", "version": 1,
                 "created_at": now, "updated_at": now}
                for s in sites for k in range(1, PLUGINS + 1) for n in range(8)]).execute()
        fill_audit(size.events, [s.id for s in sites], ids, big.id, rng)
        db.obj.close()
    return Instance(app, big, small, "reader", "small_reader")


def fill_audit(total: int, site_ids: list[int], user_ids: list[int], big_id: int,
               rng: random.Random) -> None:
    """Append ``total`` events to the sites' chains, hashing each one for real.

    Each event is hashed exactly as :func:`core.audit.log.append` would
    (:mod:`core.audit.chain`), but rows go in with ``executemany`` in batches.
    """
    from core.audit.log import deployment_id

    started = time.perf_counter()
    existing = AuditEvent.select().count()
    wanted = max(0, total - existing)
    heads = {h.chain_id: (h.seq, h.hash) for h in AuditHead.select()}
    alg, deployment = "sha256", deployment_id()
    # the big site gets a twentieth of the events, the others share the rest
    weights = [20 if s == big_id else 1 for s in site_ids]
    targets = rng.choices(site_ids, weights=weights, k=wanted)
    columns = [*chain.HEADER_FIELDS, "payload", "hash"]
    sql = (f"INSERT INTO core_audit_event ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)})")
    conn: sqlite3.Connection = db.obj.connection()
    clock = dt.datetime(2025, 1, 1)
    batch = []
    for n, site_id in enumerate(targets):
        seq, prev = heads.get(site_id, (0, chain.genesis(alg, deployment, site_id)))
        clock += dt.timedelta(milliseconds=31)
        body = {"before": {"title": f"记录{n}", "status": "draft"},
                "after": {"title": f"记录{n}", "status": "approved"}}
        header = {
            "chain_id": site_id, "seq": seq + 1,
            "ts_utc": clock.isoformat(timespec="microseconds") + "Z",
            "actor_id": rng.choice(user_ids), "actor_site_id": site_id, "site_id": site_id,
            "action": "bench_note.update", "object_type": "bench_note",
            "object_id": str(n), "result": "ok", "ip": "10.0.0.8",
            "request_id": f"{n:016x}", "payload_hash": chain.payload_hash(alg, body),
            "alg": alg, "prev_hash": prev,
        }
        digest = chain.event_hash(alg, header)
        batch.append((*(header[f] for f in chain.HEADER_FIELDS),
                      chain.canonical(body).decode("utf-8"), digest))
        heads[site_id] = (seq + 1, digest)
        if len(batch) == 20_000 or n == len(targets) - 1:
            with db.obj.atomic():
                conn.executemany(sql, batch)
            batch = []
            if (n + 1) % 200_000 == 0:
                say(f"  {n + 1:,} audit events")
    with db.obj.atomic():
        for chain_id, (seq, digest) in heads.items():
            AuditHead.insert(chain_id=chain_id, seq=seq, hash=digest).on_conflict(
                conflict_target=[AuditHead.chain_id],
                update={AuditHead.seq: seq, AuditHead.hash: digest}).execute()
    say(f"{AuditEvent.select().count():,} audit events "
        f"({wanted:,} generated in {time.perf_counter() - started:.1f} s)")


# ------------------------------------------------------------------------ measure


class QueryCounter:
    """Counts the SQL statements peewee sends (connection pragmas excluded)."""

    def __init__(self):
        self.count = 0
        database = db.obj
        original = database.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            self.count += 1
            return original(sql, params, *args, **kwargs)

        database.execute_sql = counting

    @contextlib.contextmanager
    def measure(self):
        start = self.count
        box = [0]
        yield box
        box[0] = self.count - start


def sign_in(app: Flask, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, f"{username} could not sign in"
    return client


def bare_app() -> Flask:
    """Plain Flask + Jinja over the same database, connecting per request like the kernel."""
    app = Flask("bare", template_folder=str(TEMPLATES))

    @app.before_request
    def connect():
        db.obj.connect(reuse_if_open=True)

    @app.teardown_request
    def close(exc):
        if not db.obj.is_closed():
            db.obj.close()

    @app.get("/dashboard/<int:site_id>")
    def dashboard(site_id):
        site = Site.get_by_id(site_id)
        widgets = []
        for number in range(1, PLUGINS + 1):
            rows = list(BenchNote.select(BenchNote.title, BenchNote.created_at)
                        .where(BenchNote.site == site, BenchNote.kind == number)
                        .order_by(BenchNote.id.desc()).limit(ROWS_PER_WIDGET))
            widgets.append((f"基准插件{number}", rows))
        return render_template("bare_dashboard.html", site=site, widgets=widgets)

    @app.get("/inbox/<int:user_id>/<int:site_id>")
    def inbox(user_id, site_id):
        query = Notification.select().where(Notification.user == user_id,
                                            Notification.site == site_id)
        rows = [(n.created_at.strftime("%Y-%m-%d %H:%M"), n.title, n.body,
                 "已读" if n.read_at else "未读")
                for n in query.order_by(Notification.created_at.desc(),
                                        Notification.id.desc()).limit(50)]
        return render_template("bare_list.html", title="收件箱", rows=rows,
                               total=query.count())

    @app.get("/audit/<int:site_id>")
    def audit(site_id):
        # the audit page's own query: one chain, newest first by its (chain_id, seq) index
        query = AuditEvent.select().where(AuditEvent.chain_id == site_id)
        events = list(query.order_by(AuditEvent.seq.desc()).limit(50))
        names = dict(User.select(User.id, User.display_name)
                     .where(User.id.in_({e.actor_id for e in events})).tuples())
        rows = [(e.ts_utc, names.get(e.actor_id, ""), e.action, e.object_type, e.object_id,
                 e.result) for e in events]
        return render_template("bare_list.html", title="审计日志", rows=rows,
                               total=query.count())

    return app


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclasses.dataclass
class Timing:
    label: str
    kernel: list[float]
    bare: list[float]

    def line(self, target: float | None = None) -> str:
        km, kp = statistics.median(self.kernel), percentile(self.kernel, 0.95)
        bm, bp = statistics.median(self.bare), percentile(self.bare, 0.95)
        ratio = kp / bp
        verdict = "" if target is None else ("  ok" if ratio <= target else "  MISSED")
        return (f"{self.label:<28} kernel {km * 1e3:7.2f} / {kp * 1e3:7.2f} ms   "
                f"bare {bm * 1e3:7.2f} / {bp * 1e3:7.2f} ms   "
                f"p95 ratio {ratio:4.2f}× (median {km / bm:4.2f}×){verdict}")


def compare(label: str, kernel_get, bare_get, n: int) -> Timing:
    """Interleave kernel and bare requests so both see the same machine state."""
    for _ in range(max(10, n // 10)):
        kernel_get()
        bare_get()
    kernel, bare = [], []
    for _ in range(n):
        start = time.perf_counter()
        kernel_get()
        kernel.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare_get()
        bare.append(time.perf_counter() - start)
    return Timing(label, kernel, bare)


def ok(response):
    assert response.status_code == 200, response.status_code
    return response


def hook_share(app: Flask, get, n: int) -> tuple[float, float]:
    """(hook calls incl. implementations, bus dispatch alone) as fractions of request time."""
    pm = app.extensions["grassroots"].bus.pm
    spent = {"hooks": 0.0, "impls": 0.0}
    depth = [0]
    starts = []

    def before(hook_name, hook_impls, kwargs):
        if depth[0] == 0:
            starts.append(time.perf_counter())
        depth[0] += 1

    def after(outcome, hook_name, hook_impls, kwargs):
        depth[0] -= 1
        if depth[0] == 0:
            spent["hooks"] += time.perf_counter() - starts.pop()

    wrapped = []
    for name in dir(pm.hook):
        caller = getattr(pm.hook, name)
        for impl in getattr(caller, "get_hookimpls", lambda: [])():
            original = impl.function

            def timed(*args, _f=original, **kwargs):
                start = time.perf_counter()
                try:
                    return _f(*args, **kwargs)
                finally:
                    spent["impls"] += time.perf_counter() - start

            impl.function = timed
            wrapped.append((impl, original))
    undo = pm.add_hookcall_monitoring(before, after)
    try:
        total = 0.0
        for _ in range(n):
            start = time.perf_counter()
            get()
            total += time.perf_counter() - start
    finally:
        undo()
        for impl, original in wrapped:
            impl.function = original
    return spent["hooks"] / total, (spent["hooks"] - spent["impls"]) / total


def audited_writes(app: Flask, site: Site, n: int) -> Timing:
    """``records.create`` of a BenchNote against a bare one-row peewee transaction."""
    kernel, bare = [], []
    with app.app_context(), acting_as(Actor(via="cli")):
        db.obj.close()
        db.obj.connect()  # a fresh connection: synchronous=FULL again
        for i in range(n + n // 10):
            start = time.perf_counter()
            records.create(BenchNote, site=site, kind=0, title=f"写入{i}")
            k = time.perf_counter() - start
            start = time.perf_counter()
            with db.obj.atomic():
                BenchNote.create(site=site, kind=0, title=f"裸写入{i}")
            b = time.perf_counter() - start
            if i >= n // 10:  # the first tenth warms up
                kernel.append(k)
                bare.append(b)
        db.obj.close()
    return Timing("audited write", kernel, bare)


def verify_throughput(app: Flask, folder: Path) -> tuple[int, float, str]:
    """(events, seconds, how) for verifying every chain."""
    with app.app_context():
        db.obj.connect(reuse_if_open=True)
        events = AuditEvent.select().count()
        try:
            from core.audit import verify
        except ImportError:
            verify = None
        start = time.perf_counter()
        if verify is not None:
            report = verify.verify_chains(checkpoint_dir=str(folder / "checkpoints"),
                                          key=(folder / "audit.key").read_bytes())
            assert report.ok, [c.problem for c in report.chains if not c.ok]
            how = "core.audit.verify.verify_chains"
        else:
            for event in AuditEvent.select().order_by(AuditEvent.chain_id, AuditEvent.seq):
                header = {f: getattr(event, f) for f in chain.HEADER_FIELDS}
                assert chain.event_hash(event.alg, header) == event.hash
            how = "chain recompute (core.audit.chain)"
        seconds = time.perf_counter() - start
        db.obj.close()
    return events, seconds, how


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    import os

    versions = ", ".join(f"{name} {importlib.metadata.version(name)}"
                         for name in ("flask", "peewee", "pluggy", "jinja2", "werkzeug"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [f"machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
            f" (load average at the end: {load})",
            f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {versions}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small instance, fewer requests")
    parser.add_argument("--keep", type=Path, help="build the database in this folder and keep it")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    folder = args.keep or Path(tempfile.mkdtemp(prefix="grassroots-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return run(size, folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def run(size: Size, folder: Path) -> int:
    write_templates(folder)
    say(f"building in {folder}: {size}")
    inst = build(size, folder)
    app = inst.app
    bare = bare_app().test_client()
    counter = QueryCounter()
    reader = sign_in(app, inst.reader)
    small_reader = sign_in(app, inst.small_reader)
    with app.app_context():
        db.obj.connect(reuse_if_open=True)
        reader_id = User.get(User.username == inst.reader).id
        db.obj.close()
    n = size.requests

    pages = [("dashboard (10 widgets)", "/", f"/dashboard/{inst.big.id}"),
             ("inbox, 50 rows", "/inbox/", f"/inbox/{reader_id}/{inst.big.id}")]
    has_audit = "audit.events" in app.view_functions
    if has_audit:
        pages.append(("audit page, 50 rows", "/audit/", f"/audit/{inst.big.id}"))

    say("measuring pages")
    results = []
    for label, path, bare_path in pages:
        timing = compare(label, lambda p=path: ok(reader.get(p)),
                         lambda p=bare_path: ok(bare.get(p)), n)
        with counter.measure() as kq:
            reader.get(path)
        with counter.measure() as bq:
            bare.get(bare_path)
        results.append((timing, kq[0], bq[0]))

    say("N+1 check")
    n_plus_one = []
    small_paths = [("inbox", "/inbox/", "10 vs 50 rows")]
    if has_audit:
        small_paths.append(("audit page", "/audit/", "few vs 50 rows"))
    for label, path, what in small_paths:
        with counter.measure() as big_q:
            reader.get(path)
        with counter.measure() as small_q:
            small_reader.get(path)
        grows = big_q[0] > small_q[0]
        n_plus_one.append(f"{label}: {small_q[0]} vs {big_q[0]} statements ({what})"
                          f"{'  N+1 SUSPECTED' if grows else '  no N+1'}")

    say("hook bus share")
    hooks_all, bus_only = hook_share(app, lambda: ok(reader.get("/")), n)

    say("audited writes")
    writes = audited_writes(app, inst.big, size.writes)

    say("audit verify")
    events, seconds, how = verify_throughput(app, folder)

    print()
    print("\n".join(machine()))
    print(f"instance: {size.offices * (size.children + 1)} sites, {size.users + 2:,} users, "
          f"{events:,} audit events, {PLUGINS} plugins with one widget each; "
          f"{n} timed requests per page (median / p95)")
    print()
    for timing, kq, bq in results:
        print(timing.line(1.5))
        print(f"{'':<28} statements per page: kernel {kq}, bare {bq}")
    print("\n".join(n_plus_one))
    print(f"hook bus on the dashboard: hook calls {hooks_all * 100:.1f} % of the request "
          f"(plugins' own work included), dispatch alone {bus_only * 100:.2f} %"
          f"{'  ok' if bus_only <= 0.02 else '  MISSED'} (target ≤ 2 %)")
    print(writes.line(2.0))
    km, bm = statistics.median(writes.kernel), statistics.median(writes.bare)
    print(f"{'':<28} median ratio {km / bm:.2f}× (target ≤ 2×; SECURITY §5 audit append ≤ 5×)")
    rate = events / seconds
    print(f"audit verify: {events:,} events in {seconds:.1f} s = {rate:,.0f} events/s "
          f"via {how}{'  ok' if rate >= 100_000 else '  MISSED'} (target ≥ 100,000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
