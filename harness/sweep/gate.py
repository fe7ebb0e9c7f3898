"""When a sweep's report runs may start: each algorithm's as soon as its own tuning has ended.

An algorithm's winner depends only on its own trials, so its report runs need not wait for the
other algorithms' tuning; waiting would leave workers idle while the slowest algorithm's last
trials finish. The selection is the same whatever the order in which the groups end: each is
scored from its own result.json files once all of its trials have ended. selection.json is
written once every group is decided, as before: an interrupted sweep never leaves one that
lists only some algorithms.
"""

from collections.abc import Mapping
from dataclasses import replace

from harness.sweep.plan import Plan
from harness.sweep.selection import Choice, choose, write_selection
from harness.sweep.table import Entry, settings_text

Group = tuple[str, str]
"""(task, algo): the runs that one selection decides"""


class ReportGate:
    """Decides each (task, algo) once its tuning trials have ended; hands back its report runs.

    Only for a sweep with tuning: without it, every report run may start at once.

    `entries` is the sweep's table (tuning trials first, then report runs in the plan's
    candidate order), updated by the sweep as runs end; the gate writes the report rows.
    """

    def __init__(self, plan: Plan, entries: list[Entry]) -> None:
        self.plan = plan
        self.entries = entries
        self.choices: dict[Group, Choice] = {}

    def ready(self) -> list[int]:
        """Keys of the report runs that may start now (each returned once)."""
        ended = [g for g in self.plan.candidates if g not in self.choices and self.tuned(g)]
        if not ended:
            return []
        blocked = blocked_tuning(self.plan, self.entries)
        for choice in choose(self.plan, blocked, first_failures(self.plan, self.entries), ended):
            self.choices[choice.task, choice.algo] = choice
            assign_winner(self.plan, self.entries, choice, blocked)
        if len(self.choices) == len(self.plan.candidates):  # never a partial selection.json
            write_selection(self.plan, self.decided())
        return [
            key
            for group in ended
            for key in report_keys(self.plan, group)
            if self.entries[key].state == "queued"
        ]

    def decided(self) -> list[Choice]:
        """The choices made so far, in the plan's order."""
        return [self.choices[g] for g in self.plan.candidates if g in self.choices]

    def tuned(self, group: Group) -> bool:
        """True when every tuning trial of `group` has ended (done, failed or skipped)."""
        return all(
            entry.state != "queued"
            for run, entry in zip(self.plan.tuning, self.entries, strict=False)
            if (run.config.task, run.config.algo) == group
        )


def report_keys(plan: Plan, group: Group) -> range:
    """Positions of a group's report runs in the sweep's table."""
    seeds = len(plan.spec.seeds)
    start = len(plan.tuning) + list(plan.candidates).index(group) * seeds
    return range(start, start + seeds)


def blocked_tuning(plan: Plan, entries: list[Entry]) -> dict[Group, str]:
    """(task, algo) whose tuning is incomplete because a trial is locked by another process."""
    blocked: dict[Group, str] = {}
    for run, entry in zip(plan.tuning, entries, strict=False):
        if entry.state == "skipped" and entry.reason.startswith("locked"):
            key = (run.config.task, run.config.algo)
            blocked.setdefault(key, f"tuning trial seed {run.config.seed} is {entry.reason}")
    return blocked


def first_failures(plan: Plan, entries: list[Entry]) -> dict[Group, str]:
    """(task, algo) → the reason its first failed tuning trial gave."""
    found: dict[Group, str] = {}
    for run, entry in zip(plan.tuning, entries, strict=False):
        if entry.state == "failed":
            found.setdefault((run.config.task, run.config.algo), entry.reason)
    return found


def assign_winner(
    plan: Plan, entries: list[Entry], choice: Choice, blocked: Mapping[Group, str]
) -> None:
    """Give a group's report rows the winning settings, or the reason they cannot run."""
    keys = report_keys(plan, (choice.task, choice.algo))
    if choice.winner is None:
        state = "skipped" if (choice.task, choice.algo) in blocked else "failed"
        for key in keys:
            entries[key] = replace(entries[key], state=state, reason=choice.reason)
        return
    runs = plan.report_runs(choice.task, choice.algo, choice.winner)
    for key, run in zip(keys, runs, strict=True):
        entries[key] = Entry(run.config, settings_text(run.settings))
