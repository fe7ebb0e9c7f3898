"""When a sweep's report runs may start: each algorithm's as soon as its own tuning has ended.

An algorithm's winner depends only on its own trials, so its report runs need not wait for the
other algorithms' tuning; waiting would leave workers idle while the slowest algorithm's last
trials finish. The selection is the same whatever the order in which the groups end: each is
scored from its own result.json files once all of its trials have ended. selection.json is
written once every group is decided, as before: an interrupted sweep never leaves one that
lists only some algorithms.

With tune.extend_edges: N, a group whose grid has ended is not decided yet: the gate adds one
extra trial from its current winner (harness/sweep/edges.py), waits for it, and again, N times,
for every group alike; only then is the group decided and its report runs released. The extra
trials' rows are placeholders in the table (after every grid trial, before the report runs)
until the gate fills them in. A resumed sweep recomputes the same points from the same
result.json files, so a finished extra trial is found by its config, as any run is.
"""

from collections.abc import Mapping
from dataclasses import replace

from harness.api.errors import BenchError
from harness.sweep.edges import next_point, scale_of
from harness.sweep.plan import ExtraTrial, Plan, PlannedRun, extra_trial
from harness.sweep.selection import Choice, choose, write_selection
from harness.sweep.table import Entry, extra_text, settings_text

Group = tuple[str, str]
"""(task, algo): the runs that one selection decides"""


class ReportGate:
    """Decides each (task, algo) once its tuning trials have ended; hands back its next runs.

    Only for a sweep with tuning: without it, every report run may start at once.

    `entries` is the sweep's table (tuning trials first, then the extra trials' rows, then report
    runs in the plan's candidate order), updated by the sweep as runs end; the gate writes the
    extra trials' and the report rows.
    """

    def __init__(self, plan: Plan, entries: list[Entry]) -> None:
        self.plan = plan
        self.entries = entries
        self.choices: dict[Group, Choice] = {}
        self.extra: dict[Group, list[ExtraTrial]] = {group: [] for group in plan.candidates}

    def ready(self) -> list[int]:
        """Keys of the runs that may start now, extra trials or report runs (each returned once)."""
        ended = [g for g in self.plan.candidates if g not in self.choices and self.tuned(g)]
        if not ended:
            return []
        blocked = blocked_tuning(self.plan, self.entries)
        failures = first_failures(self.plan, self.entries)
        keys: list[int] = []
        for choice in choose(self.plan, blocked, failures, ended, self.extra):
            group = (choice.task, choice.algo)
            if choice.winner is not None and len(self.extra[group]) < self.plan.extra_trials:
                keys += self.extend(choice)
                continue
            self.choices[group] = choice
            skip_extra_rows(self.plan, self.entries, group, len(self.extra[group]), choice.reason)
            assign_winner(self.plan, self.entries, choice, blocked, self.extra[group])
            keys += [k for k in report_keys(self.plan, group) if self.entries[k].state == "queued"]
        if len(self.choices) == len(self.plan.candidates):  # never a partial selection.json
            write_selection(self.plan, self.decided())
        return keys

    def extend(self, choice: Choice) -> list[int]:
        """Add the group's next extra trial and fill in its rows; their keys."""
        group = (choice.task, choice.algo)
        extra = next_trial(self.plan, choice, len(self.extra[group]) + 1)
        self.extra[group].append(extra)
        keys = extra_keys(self.plan, group, extra.round)
        label = extra_text(extra.round, self.plan.extra_trials)
        for key, run in zip(keys, extra.tune, strict=True):
            self.entries[key] = Entry(run.config, f"{settings_text(run.settings)} · {label}")
        return list(keys)

    def decided(self) -> list[Choice]:
        """The choices made so far, in the plan's order."""
        return [self.choices[g] for g in self.plan.candidates if g in self.choices]

    def tuned(self, group: Group) -> bool:
        """True when every tuning trial of `group` added so far has ended (done, failed or
        skipped)."""
        grid = [
            key
            for key, run in enumerate(self.plan.tuning)
            if (run.config.task, run.config.algo) == group
        ]
        added = [
            key
            for r in range(len(self.extra[group]))
            for key in extra_keys(self.plan, group, r + 1)
        ]
        return all(self.entries[key].state != "queued" for key in grid + added)


def next_trial(plan: Plan, choice: Choice, round_: int) -> ExtraTrial:
    """The group's extra trial number `round_`, placed from its current winner (edges.py)."""
    assert plan.spec.tune is not None and choice.winner is not None
    (values,) = plan.spec.tune.grid[choice.algo].values()  # one key: checked at spec load
    scale = scale_of(values)
    assert scale is not None
    (name,) = choice.trials[0].settings
    tried = {float(t.settings[name]): t.score for t in choice.trials}
    built: dict[float, ExtraTrial] = {}

    def allowed(value: float) -> bool:  # a value the run configs refuse is never tried
        try:
            built[value] = extra_trial(plan, choice.task, choice.algo, round_, {name: value})
        except BenchError:
            return False
        return True

    winner = float(choice.trials[choice.winner].settings[name])
    value, _ = next_point(tried, winner, scale, allowed)
    return built.get(value) or extra_trial(plan, choice.task, choice.algo, round_, {name: value})


def report_keys(plan: Plan, group: Group) -> range:
    """Positions of a group's report runs in the sweep's table."""
    seeds = len(plan.spec.seeds)
    start = plan.tuning_rows() + list(plan.candidates).index(group) * seeds
    return range(start, start + seeds)


def extra_keys(plan: Plan, group: Group, round_: int) -> range:
    """Positions of a group's extra trial number `round_` (one row per tuning seed)."""
    assert plan.spec.tune is not None
    seeds = len(plan.spec.tune.seeds)
    slot = list(plan.candidates).index(group) * plan.extra_trials + round_ - 1
    start = len(plan.tuning) + slot * seeds
    return range(start, start + seeds)


def skip_extra_rows(plan: Plan, entries: list[Entry], group: Group, done: int, why: str) -> None:
    """Mark the extra-trial rows a decided group never used (no winner to extend) as skipped."""
    for round_ in range(done + 1, plan.extra_trials + 1):
        for key in extra_keys(plan, group, round_):
            entries[key] = replace(entries[key], state="skipped", reason=f"not added: {why}")


def blocked_tuning(plan: Plan, entries: list[Entry]) -> dict[Group, str]:
    """(task, algo) whose tuning is incomplete because a trial is locked by another process."""
    blocked: dict[Group, str] = {}
    for entry in entries[: plan.tuning_rows()]:
        if entry.state == "skipped" and entry.reason.startswith("locked"):
            key = (entry.config.task, entry.config.algo)
            blocked.setdefault(key, f"tuning trial seed {entry.config.seed} is {entry.reason}")
    return blocked


def first_failures(plan: Plan, entries: list[Entry]) -> dict[Group, str]:
    """(task, algo) → the reason its first failed tuning trial gave."""
    found: dict[Group, str] = {}
    for entry in entries[: plan.tuning_rows()]:
        if entry.state == "failed":
            found.setdefault((entry.config.task, entry.config.algo), entry.reason)
    return found


def assign_winner(
    plan: Plan,
    entries: list[Entry],
    choice: Choice,
    blocked: Mapping[Group, str],
    extra: list[ExtraTrial],
) -> None:
    """Give a group's report rows the winning settings, or the reason they cannot run."""
    keys = report_keys(plan, (choice.task, choice.algo))
    if choice.winner is None:
        state = "skipped" if (choice.task, choice.algo) in blocked else "failed"
        for key in keys:
            entries[key] = replace(entries[key], state=state, reason=choice.reason)
        return
    grid = plan.trial_count(choice.task, choice.algo)
    runs: tuple[PlannedRun, ...] = (
        plan.report_runs(choice.task, choice.algo, choice.winner)
        if choice.winner < grid
        else extra[choice.winner - grid].report
    )
    for key, run in zip(keys, runs, strict=True):
        entries[key] = Entry(run.config, settings_text(run.settings))
