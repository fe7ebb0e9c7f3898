"""Selection on fabricated result.json files, and the sweep's phases with a stand-in executor.

No training here: a tuning run's score is whatever its result.json says, so the expected winner
is known by construction.
"""

import json
import math
import time
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from harness.cli import app
from harness.rundir.layout import run_dir_for, write_json
from harness.sweep import orchestration
from harness.sweep.executor import ExecutorOptions
from harness.sweep.plan import plan_sweep
from harness.sweep.selection import choose, write_selection
from harness.sweep.spec import parse_spec
from harness.sweep.table import plan_entries, state_text
from harness.sweep.worker import Job, Outcome

LRS = [1.0e-3, 2.0e-3, 3.0e-3]
SPEC = {
    "tasks": ["summarization"],
    "algos": ["reinforce", "ppo"],
    "seeds": [0, 1],
    "policy": "tiny",
    "budget": {"samples": 8},
    "tune": {
        "seeds": [100, 101],
        "grid": {"reinforce": {"lr": LRS}, "ppo": {"clip_eps": [0.1, 0.2, 0.3]}},
    },
}


def fabricate(config, score: float | None) -> None:
    """A finished run's result.json whose val eval/reward is `score` (None: a failed run)."""
    if score is not None:
        result = {"stop_reason": "samples", "eval_after": {"val": {"eval/reward": score}}}
        write_json(run_dir_for(config) / "result.json", result)


def test_the_best_mean_over_tuning_seeds_wins_and_a_non_finite_trial_ranks_last(tmp_path):
    plan = plan_sweep(parse_spec(SPEC, str(tmp_path)))
    scores = {  # (option value, seed) → val reward
        **{(LRS[0], 100): 0.2, (LRS[0], 101): 0.4},  # mean 0.3
        **{(LRS[1], 100): 0.5, (LRS[1], 101): 0.3},  # mean 0.4: the winner
        **{(LRS[2], 100): 0.9, (LRS[2], 101): math.nan},  # non-finite: ranks last
        **{(0.1, 100): 0.5, (0.1, 101): 0.5},  # ppo: 0.1 and 0.2 tie, the first wins
        **{(0.2, 100): 0.6, (0.2, 101): 0.4},
        **{(0.3, 100): None, (0.3, 101): 1.0},  # one seed failed
    }
    for run in plan.tuning:
        (value,) = run.settings.values()
        fabricate(run.config, scores[value, run.config.seed])
    choices = choose(plan, blocked={})
    assert [(c.algo, c.winner) for c in choices] == [("reinforce", 1), ("ppo", 0)]
    reinforce = choices[0].trials
    assert [t.score for t in reinforce] == [pytest.approx(0.3), pytest.approx(0.4), None]
    assert "non-finite eval/reward" in reinforce[2].problem
    assert choices[1].trials[2].problem.endswith("has no readable result.json")

    path = write_selection(plan, choices)
    assert path == tmp_path / "selection.json"
    selection = json.loads(path.read_text())
    assert {k: selection[k] for k in ("select", "split", "allow_unequal")} == {
        "select": "eval/reward",
        "split": "val",
        "allow_unequal": False,
    }
    algos = selection["tasks"]["summarization"]
    assert algos["reinforce"]["winner"] == {"lr": 2.0e-3} and algos["ppo"]["winner"] == {
        "clip_eps": 0.1
    }
    first = algos["reinforce"]["trials"][0]
    assert first["settings"] == {"lr": 1.0e-3} and first["seeds"] == [100, 101]
    assert first["scores"] == [0.2, 0.4] and first["score"] == pytest.approx(0.3)
    assert all(not p.startswith("/") for p in first["run_dirs"])
    assert (tmp_path / first["run_dirs"][0] / "result.json").exists()
    assert algos["reinforce"]["trials"][2]["score"] is None
    assert algos["ppo"]["trials"][2]["scores"] == [None, 1.0]


class StandIn:
    """An executor that 'runs' a job by writing its result.json at once (score from `scores`)."""

    def __init__(self, scores, outcome=None) -> None:
        self.scores, self.outcome = scores, outcome
        self.jobs: list[Job] = []
        self.ended: list[tuple[int, Outcome]] = []

    def submit(self, key: int, job: Job) -> None:
        self.jobs.append(job)
        outcome = self.outcome(job.config) if self.outcome else None
        if outcome is None:
            fabricate(job.config, self.scores(job.config))
            outcome = Outcome("done")
        self.ended.append((key, outcome))

    def finished(self, timeout: float):
        ended, self.ended = self.ended, []
        return ended

    def close(self, cancel: bool) -> None:
        pass


def lr_score(config) -> float:
    """The known optimum: lr 2e-3 for reinforce; the ppo trial with the largest clip_eps."""
    options = config.algo_config
    return -abs(options["lr"] - 2.0e-3) if config.algo == "reinforce" else options["clip_eps"]


def test_tuning_then_selection_then_winners_on_the_report_seeds_and_a_rerun_starts_nothing(
    tmp_path, monkeypatch
):
    plan = plan_sweep(parse_spec(SPEC, str(tmp_path)))
    stand_in = StandIn(lr_score)
    monkeypatch.setattr(orchestration, "open_executor", lambda options, gpus_per_run: stand_in)
    result = orchestration.run_sweep(plan, ExecutorOptions(workers=2), Console(quiet=True))
    assert not result.failed
    roles = [job.config.role for job in stand_in.jobs]
    assert roles == ["tune"] * 12 + ["report"] * 4  # trials are queued before report runs
    reports = [job.config for job in stand_in.jobs[12:]]
    assert [(c.algo, c.seed) for c in reports] == [
        ("reinforce", 0),
        ("reinforce", 1),
        ("ppo", 0),
        ("ppo", 1),
    ]
    assert [c.algo_config["lr"] for c in reports[:2]] == [2.0e-3, 2.0e-3]
    assert [c.algo_config["clip_eps"] for c in reports[2:]] == [0.3, 0.3]
    assert all(job.threads >= 1 for job in stand_in.jobs)
    assert (tmp_path / "selection.json").exists()

    again = StandIn(lr_score)
    monkeypatch.setattr(orchestration, "open_executor", lambda options, gpus_per_run: again)
    result = orchestration.run_sweep(plan, ExecutorOptions(), Console(quiet=True))
    assert again.jobs == [] and {e.state for e in result.entries} == {"skipped"}
    assert {e.reason for e in result.entries} == {"done already"}


class OneSlowTrial(StandIn):
    """Every job ends at once except ppo's last trial, which stays in flight for a few polls."""

    def __init__(self, selection: Path) -> None:
        super().__init__(lr_score)
        self.held: tuple[int, Outcome] | None = None
        self.polls = 0
        self.while_held: list[Job] = []
        self.selection, self.selection_while_held = selection, False

    def submit(self, key: int, job: Job) -> None:
        super().submit(key, job)
        if self.held is not None:
            self.while_held.append(job)
            self.selection_while_held |= self.selection.exists()
        config = job.config
        if config.role == "tune" and config.algo == "ppo" and config.seed == 101:
            if config.algo_config["clip_eps"] == 0.3:
                self.held = self.ended.pop()

    def finished(self, timeout: float):
        ended = super().finished(timeout)
        if self.held is not None:
            self.polls += 1
            if self.polls == 5:
                ended.append(self.held)
                self.held = None
        return ended


def test_an_algorithms_report_runs_start_while_another_algorithm_is_still_tuning(
    tmp_path, monkeypatch
):
    plan = plan_sweep(parse_spec(SPEC, str(tmp_path / "pipelined")))
    slow = OneSlowTrial(tmp_path / "pipelined" / "selection.json")
    monkeypatch.setattr(orchestration, "open_executor", lambda options, gpus_per_run: slow)
    result = orchestration.run_sweep(plan, ExecutorOptions(workers=2), Console(quiet=True))
    assert not result.failed and {e.state for e in result.entries} == {"done"}
    # reinforce's tuning had ended: its report runs used the worker ppo's last trial left free
    assert [(j.config.algo, j.config.role, j.config.seed) for j in slow.while_held] == [
        ("reinforce", "report", 0),
        ("reinforce", "report", 1),
    ]
    assert [j.config.algo_config["lr"] for j in slow.while_held] == [2.0e-3, 2.0e-3]
    assert not slow.selection_while_held  # written whole, once ppo is selected too
    ppo_reports = [
        j.config for j in slow.jobs if j.config.algo == "ppo" and j.config.role == "report"
    ]
    assert [c.algo_config["clip_eps"] for c in ppo_reports] == [0.3, 0.3]

    # the same selection as a sweep whose runs all end at once
    plain = plan_sweep(parse_spec(SPEC, str(tmp_path / "plain")))
    stand_in = StandIn(lr_score)
    monkeypatch.setattr(orchestration, "open_executor", lambda options, gpus_per_run: stand_in)
    orchestration.run_sweep(plain, ExecutorOptions(workers=2), Console(quiet=True))
    selected = [
        json.loads((tmp_path / d / "selection.json").read_text()) for d in ("pipelined", "plain")
    ]
    assert selected[0] == selected[1]
    assert list(selected[0]["tasks"]["summarization"]) == ["reinforce", "ppo"]


def test_an_algorithm_whose_trials_all_failed_starts_no_report_run_and_exit_code_is_1(
    tmp_path, monkeypatch
):
    spec_path = tmp_path / "spec.json"  # JSON is YAML
    spec_path.write_text(json.dumps({**SPEC, "out": str(tmp_path / "out")}))

    def ppo_fails(config):
        return Outcome("failed", "RuntimeError: boom") if config.algo == "ppo" else None

    stand_in = StandIn(lr_score, ppo_fails)
    monkeypatch.setattr(orchestration, "open_executor", lambda options, gpus_per_run: stand_in)
    result = CliRunner().invoke(app, ["sweep", str(spec_path)])
    assert result.exit_code == 1, result.output
    assert [(j.config.algo, j.config.role) for j in stand_in.jobs[12:]] == [
        ("reinforce", "report")
    ] * 2
    reason = "every tuning trial failed (RuntimeError: boom)"
    assert f"ppo · seed 0 · report · winner of 3 trials: {reason}" in result.output
    assert "next: bench report" in result.output
    selection = json.loads((tmp_path / "out" / "selection.json").read_text())
    assert selection["tasks"]["summarization"]["ppo"]["winner"] is None


def test_a_tuning_trial_locked_elsewhere_holds_back_that_algorithms_report_runs(
    tmp_path, monkeypatch
):
    plan = plan_sweep(parse_spec(SPEC, str(tmp_path)))

    def one_locked(config):
        if config.algo == "ppo" and config.seed == 101 and config.algo_config["clip_eps"] == 0.2:
            return Outcome("skipped", "locked by pid 7 on host h (since 2025-01-01 00:00:00)")
        return None

    stand_in = StandIn(lr_score, one_locked)
    monkeypatch.setattr(orchestration, "open_executor", lambda options, gpus_per_run: stand_in)
    result = orchestration.run_sweep(plan, ExecutorOptions(), Console(quiet=True))
    assert not result.failed
    assert [j.config.algo for j in stand_in.jobs if j.config.role == "report"] == ["reinforce"] * 2
    held = [e for e in result.entries if e.config.algo == "ppo" and e.config.role == "report"]
    assert {e.state for e in held} == {"skipped"}
    assert all("locked by pid 7 on host h" in e.reason for e in held)


def test_ctrl_c_cancels_the_executor_and_marks_the_runs_in_flight(tmp_path, monkeypatch):
    plan = plan_sweep(parse_spec(SPEC, str(tmp_path)))

    class Interrupted(StandIn):
        cancelled = None

        def finished(self, timeout: float):
            if len(self.jobs) == 2:  # Ctrl-C while the first two trials run
                raise KeyboardInterrupt
            return []

        def close(self, cancel: bool) -> None:
            self.cancelled = cancel

    stand_in = Interrupted(lr_score, lambda config: Outcome("done"))
    monkeypatch.setattr(orchestration, "open_executor", lambda options, gpus_per_run: stand_in)
    console = Console(record=True, width=200)
    with pytest.raises(KeyboardInterrupt):
        orchestration.run_sweep(plan, ExecutorOptions(workers=2), console)
    assert stand_in.cancelled is True
    text = console.export_text()
    assert text.count("failed (interrupted)") == 2
    assert "16 runs: 0 done, 2 failed, 0 skipped, 14 not started" in text
    assert not (tmp_path / "selection.json").exists()


def test_the_state_of_a_submitted_run_follows_its_lock_and_metrics(tmp_path):
    plan = plan_sweep(parse_spec(SPEC, str(tmp_path)))
    entry = replace(plan_entries(plan)[0], submitted=time.time())
    run_dir = run_dir_for(entry.config)
    assert state_text(entry).plain == "queued"  # submitted, but no worker holds it yet
    run_dir.mkdir(parents=True)
    (run_dir / "run.lock").write_text("{}")
    assert state_text(entry).plain == "running · starting"
    rows = [
        {"kind": "eval", "label": "before"},
        {"kind": "train", "update": 1, "samples_seen": 4, "train/reward": 0.1234},
    ]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"kin')
    assert state_text(entry).plain == "running · update 1 · samples 4/8 · reward 0.123"
