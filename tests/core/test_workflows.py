"""Declared workflows (core.workflows): only declared edges, by permission, audited.

A test-only site-scoped table stands in for a plugin's record: a case that is
drafted, submitted, approved or rejected (with a reason), reopened (with a
reason) and closed.
"""

from __future__ import annotations

import json
import threading

import peewee as pw
import pytest

from core.audit.models import AuditEvent
from core.context import Actor, acting_as
from core.identity import Access
from core.records import Conflict, create
from core.sitemodel import NotFound, SiteModel
from core.storage import db
from core.testing import make_site, make_user
from core.workflows import (
    REASON_MAX,
    NotAllowed,
    ReasonRequired,
    Transition,
    UnknownTransition,
    Workflow,
)

EDIT, APPROVE, ADMIN = "test.case.edit", "test.case.approve", "test.case.admin"


class Case(SiteModel):
    title = pw.CharField(max_length=100)
    status = pw.CharField(max_length=20)

    class Meta:
        table_name = "test_workflow_case"


CASE = Workflow("test_case", states=["draft", "submitted", "approved", "rejected", "closed"],
                transitions=[
                    Transition("submit", "draft", "submitted", EDIT),
                    Transition("approve", "submitted", "approved", APPROVE),
                    Transition("reject", "submitted", "rejected", APPROVE, reason_required=True),
                    Transition("reopen", ("approved", "rejected"), "draft", EDIT,
                               reason_required=True),
                    Transition("close", ("approved", "rejected"), "closed", ADMIN),
                ])
EDGES = [(t.name, source) for t in CASE.transitions.values() for source in t.sources]
NON_EDGES = [(name, state) for name in CASE.transitions for state in CASE.states
             if (name, state) not in EDGES]


@pytest.fixture
def table(app):
    Case.create_table()
    return Case


def access(site, *permissions) -> Access:
    return Access(site=site, roles=frozenset(), grant=None, permissions=frozenset(permissions))


def new_case(site, status="draft") -> Case:
    return create(Case, site=site, title="路灯不亮", status=status)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


# --- declaration ------------------------------------------------------------------------


@pytest.mark.parametrize(("transitions", "message"), [
    ([Transition("go", "draft", "done", EDIT)], "unknown state 'done'"),
    ([Transition("go", ("draft", "lost"), "open", EDIT)], "unknown state 'lost'"),
    ([Transition("go", "draft", "open", EDIT), Transition("go", "open", "draft", EDIT)],
     "declared twice"),
    ([Transition("go", "draft", "draft", EDIT)], "to itself"),
    ([Transition("go", "draft", "open", "")], "no permission"),
    ([Transition("go", (), "open", EDIT)], "no source state"),
])
def test_a_bad_declaration_is_refused(transitions, message):
    with pytest.raises(ValueError, match=message):
        Workflow("bad", ["draft", "open"], transitions)


def test_states_are_unique_and_the_first_is_initial():
    with pytest.raises(ValueError, match="listed twice"):
        Workflow("bad", ["draft", "draft"])
    with pytest.raises(ValueError, match="no states"):
        Workflow("bad", [])
    labelled = Workflow("labelled", {"open": "待办", "done": "已办"})
    assert labelled.initial == "open" and labelled.label("done") == "已办"
    assert CASE.initial == "draft"


# --- moves ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "source"), EDGES, ids=[f"{n}-from-{s}" for n, s in EDGES])
def test_every_declared_edge_moves_and_is_audited(table, site, name, source):
    user = make_user(site)
    case = new_case(site, source)
    transition = CASE.transitions[name]
    with acting_as(Actor(user_id=user.id, site_id=site.id, via="test")):
        CASE.move(case, name, access=access(site, EDIT, APPROVE, ADMIN), reason="核实无误")
    stored = Case.get_by_id(case.id)
    assert stored.status == transition.target
    assert stored.version == 2
    [event] = events(f"test_workflow_case.{name}")
    assert event.actor_id == user.id
    assert event.site_id == site.id and event.object_id == str(case.id)
    body = json.loads(event.payload)
    assert body["detail"] == {"transition": name, "from": source, "to": transition.target,
                              "reason": "核实无误"}
    assert body["before"] == {"status": source} and body["after"] == {"status": transition.target}


@pytest.mark.parametrize(("name", "state"), NON_EDGES,
                         ids=[f"{n}-from-{s}" for n, s in NON_EDGES])
def test_a_transition_not_declared_from_the_current_state_is_refused(table, site, name, state):
    case = new_case(site, state)
    with pytest.raises(UnknownTransition):
        CASE.move(case, name, access=access(site, EDIT, APPROVE, ADMIN), reason="x")
    assert Case.get_by_id(case.id).status == state
    assert events(f"test_workflow_case.{name}") == []


def test_an_unknown_transition_name_is_refused(table, site):
    with pytest.raises(UnknownTransition) as caught:
        CASE.move(new_case(site), "publish", access=access(site, EDIT))
    assert isinstance(caught.value, LookupError)


def test_a_move_without_the_permission_is_refused(table, site):
    case = new_case(site, "submitted")
    with pytest.raises(NotAllowed) as caught:
        CASE.move(case, "approve", access=access(site, EDIT))
    assert isinstance(caught.value, PermissionError)
    assert Case.get_by_id(case.id).status == "submitted"
    assert events("test_workflow_case.approve") == []


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_a_required_reason_must_be_given(table, site, reason):
    case = new_case(site, "submitted")
    with pytest.raises(ReasonRequired):
        CASE.move(case, "reject", access=access(site, APPROVE), reason=reason)
    assert Case.get_by_id(case.id).status == "submitted"
    CASE.move(case, "reject", access=access(site, APPROVE), reason=" 材料不全 ")
    [event] = events("test_workflow_case.reject")
    assert json.loads(event.payload)["detail"]["reason"] == "材料不全"


def test_a_reason_is_optional_where_not_required_but_never_too_long(table, site):
    case = new_case(site)
    with pytest.raises(ReasonRequired, match="longer"):
        CASE.move(case, "submit", access=access(site, EDIT), reason="长" * (REASON_MAX + 1))
    CASE.move(case, "submit", access=access(site, EDIT))
    [event] = events("test_workflow_case.submit")
    assert json.loads(event.payload)["detail"]["reason"] is None


def test_a_record_of_another_site_is_not_found(table, two_sites):
    mine, theirs = two_sites
    case = new_case(theirs)
    with pytest.raises(NotFound):
        CASE.move(case, "submit", access=access(mine, EDIT, APPROVE, ADMIN))
    with pytest.raises(NotFound):
        CASE.move(case, "submit", access=None)
    assert CASE.available(case, access(mine, EDIT)) == []
    assert Case.get_by_id(case.id).status == "draft"


def test_a_stale_version_is_a_conflict(table, site):
    case = new_case(site)
    with pytest.raises(Conflict):
        CASE.move(case, "submit", access=access(site, EDIT), expected_version=7)
    assert Case.get_by_id(case.id).status == "draft"
    assert case.status == "draft"  # the refused move left the object as stored
    stale = Case.get_by_id(case.id)
    CASE.move(case, "submit", access=access(site, EDIT))
    CASE.move(case, "approve", access=access(site, APPROVE))
    with pytest.raises(Conflict):
        CASE.move(stale, "submit", access=access(site, EDIT))


def test_a_platform_administrator_may_take_every_transition(table, site):
    admin = Access(site=site, roles=frozenset(), grant=None, permissions=frozenset(),
                   platform_admin=True)
    case = new_case(site, "approved")
    assert [t.name for t in CASE.available(case, admin)] == ["reopen", "close"]


def test_available_lists_what_the_user_may_do_now(table, site):
    case = new_case(site, "submitted")
    assert [t.name for t in CASE.available(case, access(site, APPROVE))] == ["approve", "reject"]
    assert CASE.available(case, access(site, EDIT)) == []
    assert CASE.available(case, None) == []
    CASE.move(case, "reject", access=access(site, APPROVE), reason="材料不全")
    assert [t.name for t in CASE.available(case, access(site, EDIT, ADMIN))] == ["reopen",
                                                                                 "close"]
    assert CASE.transitions["reject"].title == "reject"


def test_real_access_from_a_membership_decides(table, app):
    """The permission check is core.identity's: a member without it is refused."""
    site = make_site()
    staff = make_user(site, roles=("staff",))
    from core.identity import access as access_of

    case = new_case(site)
    with pytest.raises(NotAllowed):
        CASE.move(case, "submit", access=access_of(staff, site))


def test_twenty_parallel_identical_moves_make_exactly_one(table, site, app):
    case = new_case(site, "submitted")
    copies = 20
    barrier = threading.Barrier(copies)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt():
        with app.app_context(), acting_as(Actor(via="test")):
            try:
                mine = Case.get_by_id(case.id)
                barrier.wait(timeout=30)
                CASE.move(mine, "approve", access=access(site, APPROVE))
                outcome = "moved"
            except (Conflict, UnknownTransition) as err:
                outcome = type(err).__name__
            finally:
                if not db.obj.is_closed():
                    db.obj.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == copies
    assert outcomes.count("moved") == 1
    assert outcomes.count("Conflict") == copies - 1
    stored = Case.get_by_id(case.id)
    assert (stored.status, stored.version) == ("approved", 2)
    assert len(events("test_workflow_case.approve")) == 1
