"""Declared state machines for records: a status moves only along a declared edge.

ARCHITECTURE "Workflows": every state machine of the rules (a service case, a
member's pipeline, a voucher, an escalated problem) is declared once by its
plugin, with the states, the allowed transitions, the permission each needs
and whether it needs a reason. A move checks all of that, changes the status
through :func:`core.records.update` (version-checked, so of two people moving
the same record at once exactly one succeeds and the other gets
:class:`core.records.Conflict`) and is audited with the actor, the states
before and after, and the reason::

    CASE = Workflow("service_case", states={"open": _l("Open"), "closed": _l("Closed")},
                    transitions=[Transition("close", "open", "closed", "service.case.close",
                                            reason_required=True, label=_l("Close"))])
    CASE.move(case, "close", access=g.access, reason=form["reason"],
              expected_version=form["version"])

Errors are typed so that a view maps them: :class:`UnknownTransition` → 404,
:class:`NotAllowed` → 403, :class:`ReasonRequired` → 422 (the form shows the
reason field again), ``Conflict`` → 409, and a record of another site →
:class:`core.sitemodel.NotFound` (404, SECURITY Z2).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import peewee as pw

from core.records import object_type, update
from core.sitemodel import NotFound

if TYPE_CHECKING:
    from core.identity import Access

#: the longest reason kept; a longer one is refused rather than cut
REASON_MAX = 2000


class WorkflowError(Exception):
    """A refused move; ``transition`` names the edge asked for."""

    def __init__(self, workflow: str, transition: str, message: str):
        super().__init__(f"{workflow}.{transition}: {message}")
        self.workflow, self.transition = workflow, transition


class UnknownTransition(WorkflowError, LookupError):
    """No such transition, or none from the record's current state (HTTP 404)."""


class NotAllowed(WorkflowError, PermissionError):
    """The user lacks the transition's permission in the record's site (HTTP 403)."""


class ReasonRequired(WorkflowError, ValueError):
    """The transition needs a reason and none was given, or it is too long (HTTP 422)."""


@dataclasses.dataclass(frozen=True)
class Transition:
    """One edge: from ``source`` (one state or several) to ``target``.

    :param permission: the permission name the user needs in the record's site.
    :param reason_required: the move is refused without a non-blank reason.
    :param label: the button's text (a lazy string); defaults to ``name``.
    """

    name: str
    source: str | tuple[str, ...]
    target: str
    permission: str
    reason_required: bool = False
    label: object = None

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,) if isinstance(self.source, str) else tuple(self.source)

    @property
    def title(self):
        return self.label if self.label is not None else self.name


class Workflow:
    """The states and transitions of one kind of record, validated at declaration.

    :param name: names the workflow in errors (e.g. ``service_case``).
    :param states: the state names, or a mapping of name → label; the first
        is :attr:`initial`.
    :param transitions: the edges; names are unique, every source and target
        is a declared state, and no edge leads from a state to itself.
    :param field: the model field holding the state.
    :raises ValueError: for an unknown state, a duplicate state or transition
        name, a transition without permission, or a self-loop.
    """

    def __init__(self, name: str, states: Iterable[str] | Mapping[str, object],
                 transitions: Iterable[Transition] = (), *, field: str = "status"):
        self.name, self.field = name, field
        if isinstance(states, Mapping):
            self.states = dict(states)
        else:
            listed = list(states)
            if len(set(listed)) != len(listed):
                raise ValueError(f"workflow {name}: a state is listed twice")
            self.states = {state: state for state in listed}
        if not self.states:
            raise ValueError(f"workflow {name}: no states")
        self.transitions: dict[str, Transition] = {}
        for transition in transitions:
            self._check(transition)
            self.transitions[transition.name] = transition

    def _check(self, transition: Transition) -> None:
        where = f"workflow {self.name}, transition {transition.name!r}"
        if transition.name in self.transitions:
            raise ValueError(f"{where}: declared twice")
        if not transition.sources:
            raise ValueError(f"{where}: no source state")
        for state in (*transition.sources, transition.target):
            if state not in self.states:
                raise ValueError(f"{where}: unknown state {state!r}")
        if transition.target in transition.sources:
            raise ValueError(f"{where}: leads from {transition.target!r} to itself")
        if not transition.permission:
            raise ValueError(f"{where}: no permission")

    @property
    def initial(self) -> str:
        """The first declared state: where a new record starts."""
        return next(iter(self.states))

    def label(self, state: str):
        """The display label of ``state``."""
        return self.states[state]

    def state_of(self, obj: pw.Model) -> str:
        return getattr(obj, self.field)

    def available(self, obj: pw.Model, access: Access | None) -> list[Transition]:
        """The transitions the user may take on ``obj`` now, in declaration order (buttons)."""
        if access is None or _site_id(obj) != access.site.id:
            return []
        state = self.state_of(obj)
        return [t for t in self.transitions.values()
                if state in t.sources and access.can(t.permission)]

    def move(self, obj: pw.Model, transition_name: str, *, access: Access | None,
             reason: str | None = None, expected_version: int | None = None) -> pw.Model:
        """Take ``transition_name`` on ``obj`` as the user of ``access``; returns ``obj``.

        Checks, in order: the record is in ``access``'s site; the transition
        exists from the current state; the permission; the reason. Then writes
        the new state through :func:`core.records.update` with the action
        ``<table>.<transition>`` and ``{"transition", "from", "to", "reason"}``
        in the audit payload (the actor comes from the request, core.context).

        :param expected_version: the version the user saw (from the form);
            None uses ``obj.version``.
        :raises NotFound: ``obj`` belongs to another site, or ``access`` is None.
        :raises UnknownTransition: no such edge from the current state.
        :raises NotAllowed: the user lacks the permission.
        :raises ReasonRequired: a required reason is blank, or any reason too long.
        :raises core.records.Conflict: someone changed the record first.
        """
        if access is None or _site_id(obj) != access.site.id:
            raise NotFound(f"{type(obj).__name__} {obj.get_id()!r}")
        if "version" not in type(obj)._meta.fields:
            raise TypeError(f"workflow {self.name}: {type(obj).__name__} has no version field")
        current = self.state_of(obj)
        transition = self.transitions.get(transition_name)
        if transition is None or current not in transition.sources:
            raise UnknownTransition(self.name, transition_name,
                                    f"no such transition from {current!r}")
        if not access.can(transition.permission):
            raise NotAllowed(self.name, transition_name, f"needs {transition.permission}")
        reason = (reason or "").strip() or None
        if transition.reason_required and reason is None:
            raise ReasonRequired(self.name, transition_name, "a reason is required")
        if reason is not None and len(reason) > REASON_MAX:
            raise ReasonRequired(self.name, transition_name,
                                 f"the reason is longer than {REASON_MAX} characters")
        try:
            return update(obj, expected_version=expected_version,
                          action=f"{object_type(obj)}.{transition.name}",
                          payload={"transition": transition.name, "from": current,
                                   "to": transition.target, "reason": reason},
                          **{self.field: transition.target})
        except Exception:
            # update() sets the field before its version check; a refused move
            # leaves the caller's object as stored
            setattr(obj, self.field, current)
            raise


def _site_id(obj: pw.Model) -> int | None:
    return obj.__data__.get("site")
