"""Running the rules: a trace in, its sequence at one level out, with the sample's attributes.

    raw        every recorded event, one step each
    socket     the socket rules: only the echo's sockets, symbolic fds, PORT
    canonical  the canonical rules on top: dialects folded, housekeeping dropped, merged

The attributes always come from the socket view, so they are the same whichever level is
asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.common.errors import HarnessError
from harness.common.vocabulary import ROLES
from harness.formats.model import RunRecord, Trace
from harness.normalize.attributes import Attributes
from harness.normalize.attributes_derive import derive_attributes
from harness.normalize.rules import LEVELS, Context, Rule, RuleSet, default_rules
from harness.normalize.steps import Step, step_from_event


class NormalizeError(HarnessError):
    """A rule failed on a trace: names the rule and the event."""


@dataclass(frozen=True, slots=True)
class Normalized:
    """One trace after normalization."""

    role: str  # server | client
    level: str  # raw | socket | canonical: the level of `steps`
    steps: tuple[Step, ...]  # the sequence at that level
    socket_view: tuple[Step, ...]  # the echo's sockets, nothing folded (attributes come from it)
    unrelated: tuple[Step, ...]  # calls on other sockets, set aside by the socket rules
    attributes: Attributes  # what the canonical level folds away
    complete: bool = True  # False: the trace was cut off (its file has no end)


def apply_rules(rules: tuple[Rule, ...], steps: tuple[Step, ...], ctx: Context,
                tallies: dict[str, list[Step]] | None = None
                ) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
    """Run rules in order; steps a rule marks `aside` leave the sequence for the aside list.
    The steps a rule with a `tally` leaves out are added to tallies[tally] (the attributes
    count them: "runtime probes")."""
    aside: list[Step] = []
    from harness.normalize.kinds import KINDS

    for rule in rules:
        try:
            result = KINDS[rule.kind].function(steps, rule, ctx)
        except Exception as e:
            raise NormalizeError(f"{rule.where} (kind {rule.kind}) failed: "
                                 f"{type(e).__name__}: {e}") from e
        tally = rule.params.get("tally")
        if tally and tallies is not None:
            kept = {s.seqs for s in result}
            tallies.setdefault(tally, []).extend(s for s in steps if s.seqs not in kept)
        steps = tuple(s for s in result if not s.aside)
        aside += [s for s in result if s.aside]
    return steps, tuple(aside)


def normalize(trace: Trace, run: RunRecord, role: str, level: str = "canonical",
              rules: RuleSet | None = None) -> Normalized:
    """Normalize one trace of one run (`run` gives the address and the message)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r} (levels: {', '.join(LEVELS)})")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    rules = rules or default_rules()
    ctx = Context(trace=trace, run=run, role=role, syscalls=rules.syscalls,
                  events={e.seq: e for e in trace.events})
    raw = tuple(step_from_event(e) for e in trace.events)
    socket_view, aside = apply_rules(rules.at("socket"), raw, ctx)
    # the canonical rules run whatever the level: what they fold away and count (tallies)
    # is part of the attributes, which are the same at every level
    tallies: dict[str, list[Step]] = {}
    canonical, more = apply_rules(rules.at("canonical"), socket_view, ctx, tallies)
    details: dict[str, tuple[str, ...]] = {}
    for rule in rules.at("canonical"):
        if rule.params.get("tally"):
            name = rule.params["tally"]
            details[name] = details.get(name, ()) + tuple(rule.params["tally_detail"])
    attributes = derive_attributes(socket_view, aside, trace, rules.syscalls, tallies, details,
                                   run)
    if level == "raw":
        steps = raw
    elif level == "socket":
        steps = socket_view
    else:
        steps = canonical
        aside += more
    return Normalized(role=role, level=level, steps=steps, socket_view=socket_view,
                      unrelated=aside, attributes=attributes, complete=trace.complete)
