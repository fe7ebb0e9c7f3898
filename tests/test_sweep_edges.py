"""Edge winners and tune.extend_edges: the spec checks, the next point by hand, equal extra
trials for every algorithm with a stand-in executor, resume, and the sweep's edge lines."""

import json
import math

import pytest
from rich.console import Console
from test_sweep_selection import StandIn
from test_sweep_spec import GOOD, changed, sweep, tune

from harness.sweep import orchestration
from harness.sweep.edges import next_point, rounded, scale_of, winner_edges
from harness.sweep.executor import ExecutorOptions
from harness.sweep.plan import plan_sweep
from harness.sweep.spec import parse_spec
from harness.sweep.table import plan_entries

EXTEND = {  # reinforce: a log grid whose top edge keeps winning; ppo: a linear grid
    "tasks": ["summarization"],
    "algos": ["reinforce", "ppo"],
    "seeds": [0, 1],
    "policy": "tiny",
    "budget": {"samples": 8},
    "tune": {
        "seeds": [100, 101],
        "grid": {
            "reinforce": {"lr": [1.0e-3, 2.0e-3, 4.0e-3]},
            "ppo": {"clip_eps": [0.1, 0.2, 0.3]},
        },
        "extend_edges": 2,
    },
}


def extended(reinforce: dict, ppo: dict | None) -> dict:
    """GOOD's tune section with extend_edges: 1 and these grids (None: ppo has no grid)."""
    return tune(extend_edges=1, grid={"reinforce": reinforce, **({"ppo": ppo} if ppo else {})})


REFUSED = {
    "negative": (tune(extend_edges=-1), ["tune.extend_edges must be an integer ≥ 0", "got -1"]),
    "boolean": (tune(extend_edges=True), ["tune.extend_edges must be an integer ≥ 0"]),
    "categorical": (
        extended({"lr": [1e-3, 2e-3]}, {"ratio_level": ["token", "sequence"]}),
        ["cannot extend tune.grid.ppo.ratio_level", "categorical", "set tune.extend_edges: 0"],
    ),
    "number as text": (
        extended({"lr": ["1e-3", "2e-3"]}, {"lr": [1e-3, 2e-3]}),
        ["tune.grid.reinforce.lr", "YAML reads 1e-3 as text: write it with a dot"],
    ),
    "integers": (
        extended({"lr": [1e-3, 2e-3]}, {"epochs": [1, 2]}),
        ["tune.grid.ppo.epochs: its values (1, 2) are integers"],
    ),
    "one value": (
        extended({"lr": [1e-3]}, {"lr": [1e-3]}),
        ["tune.grid.reinforce.lr: it has one value (0.001), so no step"],
    ),
    "no step": (
        extended({"lr": [1e-3, 2e-3, 4e-3]}, {"clip_low": [-0.1, 0.1, 0.2]}),
        ["tune.grid.ppo.clip_low", "neither equally spaced nor all positive"],
    ),
    "two keys": (
        extended({"lr": [1e-3, 2e-3], "max_grad_norm": [0.5, 1.0]}, {"lr": [1e-3, 2e-3]}),
        ["tune.grid.reinforce has 2 keys (lr, max_grad_norm)", "one-key numeric grid"],
    ),
    "no grid": (
        extended({"lr": [1e-3, 2e-3]}, None),
        ["tune.grid.ppo has no grid", "the same extra trials"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_grid_that_cannot_be_extended_is_refused_in_one_line_exit_2(tmp_path, case):
    edits, fragments = REFUSED[case]
    result, out = sweep(tmp_path, changed(tune=edits))
    message = result.output.strip()
    assert result.exit_code == 2 and len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, message
    assert not out.exists()


def test_extend_edges_0_is_the_spec_without_it():
    assert parse_spec(changed(tune=tune(extend_edges=0))) == parse_spec(GOOD)
    assert parse_spec(GOOD).tune.extend_edges == 0


def test_the_scale_of_a_grid():
    assert scale_of([1e-5, 1e-4, 1e-3]) == "log"  # equal ratios
    assert scale_of([1e-5, 3e-5, 1e-4]) == "log"  # the 1-3-10 pattern: positive, unequal gaps
    assert scale_of([3e-4, 1e-3]) == "log"  # two positive values: a ratio
    assert scale_of([0.1, 0.2, 0.3]) == "linear"  # 3+ equally spaced
    assert scale_of([-1.0, 1.0]) == "linear"
    assert scale_of([0.0, 0.01, 0.1]) is None


def anything(value: float) -> bool:
    return True


def test_the_next_point_beyond_an_edge_by_hand():
    one_three_ten = {1e-5: 0.1, 3e-5: 0.2, 1e-4: 0.3}
    # top: 1e-4 × (1e-4 / 3e-5) = 3.333…e-4, to 3 significant digits
    assert next_point(one_three_ten, 1e-4, "log", anything) == (3.33e-4, "top")
    # bottom: 1e-5 / (3e-5 / 1e-5) = 3.333…e-6
    assert next_point(one_three_ten, 1e-5, "log", anything) == (3.33e-6, "bottom")
    decades = {1e-5: 0.1, 1e-4: 0.2, 1e-3: 0.3}
    assert next_point(decades, 1e-3, "log", anything) == (1e-2, "top")
    # linear: 0.3 + 0.1 (0.39999999999999997 in floats, rounded back to 0.4), 0.1 - 0.1
    linear = {0.1: 0.3, 0.2: 0.2, 0.3: 0.1}
    assert next_point({**linear, 0.3: 0.9}, 0.3, "linear", anything) == (0.4, "top")
    assert next_point(linear, 0.1, "linear", anything) == (0.0, "bottom")


def test_an_inside_winner_or_an_edge_with_no_valid_beyond_is_refined_by_hand():
    one_three_ten = {1e-5: 0.1, 3e-5: 0.3, 1e-4: 0.2}
    # between 3e-5 and its better neighbour 1e-4: √(3e-5 · 1e-4) = 5.477…e-5
    assert next_point(one_three_ten, 3e-5, "log", anything) == (5.48e-5, "refine")
    # the better neighbour is the smaller one: √(1e-5 · 3e-5) = 1.732…e-5
    assert next_point({**one_three_ten, 1e-5: 0.25}, 3e-5, "log", anything) == (1.73e-5, "refine")
    # a failed neighbour (None) scores lowest; a tie goes to the smaller neighbour
    assert next_point({**one_three_ten, 1e-4: None}, 3e-5, "log", anything)[0] == 1.73e-5
    assert next_point({0.1: 0.2, 0.2: 0.3, 0.3: 0.2}, 0.2, "linear", anything) == (0.15, "refine")
    # lr 0 is refused by the run config: refine towards the one neighbour, (0.1 + 0.2) / 2
    positive = lambda value: value > 0  # noqa: E731
    assert next_point({0.1: 0.3, 0.2: 0.2, 0.3: 0.1}, 0.1, "linear", positive) == (0.15, "refine")


def test_a_new_value_keeps_enough_digits_to_stay_in_its_interval():
    assert rounded(3.3333e-4, 1e-4, math.inf) == 3.33e-4
    assert rounded(1.00025, 1.0002, math.inf) == 1.0003  # 1.0 (3 or 4 digits) is not beyond
    assert rounded(0.15000000000000002, 0.1, 0.2) == 0.15


def test_edges_of_a_winner():
    tried = [{"lr": 1e-5, "clip": 0.1, "norm": True, "mode": "a"},
             {"lr": 1e-4, "clip": 0.2, "norm": False, "mode": "b"},
             {"lr": 1e-4, "clip": 0.3, "norm": True, "mode": "a"}]  # fmt: skip
    assert winner_edges(tried, tried[1]) == {"lr": "top"}  # clip 0.2 inside; bool, text never
    assert winner_edges(tried, tried[0]) == {"lr": "bottom", "clip": "bottom"}
    assert winner_edges([{"lr": 1e-5, "x": 2}], {"lr": 1e-5, "x": 2}) == {}  # one value: no edge


def rising_lr_best_clip_022(config) -> float:
    """reinforce: the larger lr, the better (its top edge keeps winning); ppo: clip 0.22 best."""
    options = config.algo_config
    return options["lr"] if config.algo == "reinforce" else -abs(options["clip_eps"] - 0.22)


def run_with(stand_in, plan, monkeypatch, workers: int = 2, console: Console | None = None):
    monkeypatch.setattr(orchestration, "open_executor", lambda options, gpus_per_run: stand_in)
    console = console or Console(quiet=True)
    return orchestration.run_sweep(plan, ExecutorOptions(workers=workers), console)


def test_every_algorithm_gets_the_same_extra_trials_before_its_report_runs(tmp_path, monkeypatch):
    plan = plan_sweep(parse_spec(EXTEND, str(tmp_path)))
    stand_in = StandIn(rising_lr_best_clip_022)
    console = Console(record=True, width=300)
    result = run_with(stand_in, plan, monkeypatch, console=console)
    assert not result.failed and {e.state for e in result.entries} == {"done"}
    configs = [job.config for job in stand_in.jobs]
    tuned = {
        algo: [(c.algo_config["lr" if algo == "reinforce" else "clip_eps"], c.seed)
               for c in configs if c.algo == algo and c.role == "tune"]
        for algo in ("reinforce", "ppo")
    }  # fmt: skip
    assert len(tuned["reinforce"]) == len(tuned["ppo"]) == (3 + 2) * 2  # equal effort
    # reinforce: beyond the top edge, × 2 each time: 8e-3, then 1.6e-2 (it kept winning)
    assert [value for value, _ in tuned["reinforce"][6:]] == [8e-3, 8e-3, 1.6e-2, 1.6e-2]
    # ppo: 0.2 wins inside (0.3 scores better than 0.1): (0.2 + 0.3) / 2 = 0.25 wins; then its
    # better neighbour is 0.2: (0.2 + 0.25) / 2 = 0.225
    assert [value for value, _ in tuned["ppo"][6:]] == [0.25, 0.25, 0.225, 0.225]
    reports = [c for c in configs if c.role == "report"]
    assert configs[-len(reports) :] == reports  # after every tuning trial
    assert [(c.algo, c.seed) for c in reports] == [
        ("reinforce", 0), ("reinforce", 1), ("ppo", 0), ("ppo", 1)
    ]  # fmt: skip
    assert [c.algo_config["lr"] for c in reports[:2]] == [1.6e-2, 1.6e-2]
    assert [c.algo_config["clip_eps"] for c in reports[2:]] == [0.225, 0.225]

    selection = json.loads((tmp_path / "selection.json").read_text())
    assert selection["extend_edges"] == 2
    algos = selection["tasks"]["summarization"]
    assert [t["extension"] for t in algos["reinforce"]["trials"]] == [0, 0, 0, 1, 2]
    assert [t["settings"]["clip_eps"] for t in algos["ppo"]["trials"]] == [
        0.1,
        0.2,
        0.3,
        0.25,
        0.225,
    ]
    assert algos["reinforce"]["winner"] == {"lr": 1.6e-2}
    assert algos["ppo"]["winner"] == {"clip_eps": 0.225}

    text = console.export_text()
    assert text.count("\nedge ") == 1  # ppo's winner is inside
    assert (
        "edge         summarization · reinforce: lr=0.016 is the largest value of its grid and 2"
        " extra trials (the top edge): a larger value may do better\n"
    ) in text
    assert "best of 5 trials" in text

    again = StandIn(rising_lr_best_clip_022)
    rerun = run_with(again, plan, monkeypatch)
    assert again.jobs == [] and {e.reason for e in rerun.entries} == {"done already"}
    assert json.loads((tmp_path / "selection.json").read_text()) == selection


def test_a_sweep_killed_during_its_extra_trials_resumes_without_running_a_finished_trial(
    tmp_path, monkeypatch
):
    plan = plan_sweep(parse_spec(EXTEND, str(tmp_path / "killed")))

    class KilledInRound2(StandIn):
        def submit(self, key, job) -> None:
            if job.config.algo_config.get("lr") == 1.6e-2:  # reinforce's second extra trial
                raise KeyboardInterrupt
            super().submit(key, job)

    first = KilledInRound2(rising_lr_best_clip_022)
    with pytest.raises(KeyboardInterrupt):
        run_with(first, plan, monkeypatch, workers=1)
    assert not (tmp_path / "killed" / "selection.json").exists()
    ran = {(job.config.algo, job.config.seed, str(job.config.algo_config)) for job in first.jobs}
    assert any(job.config.algo_config.get("lr") == 8e-3 for job in first.jobs)  # round 1 ran

    resumed = StandIn(rising_lr_best_clip_022)
    run_with(resumed, plan, monkeypatch)
    again = {
        (job.config.algo, job.config.seed, str(job.config.algo_config)) for job in resumed.jobs
    }
    assert not ran & again  # nothing finished ran twice
    assert len(ran) + len(again) == 2 * (5 * 2 + 2)  # every run once: 5 trials × 2 seeds + 2

    plain = plan_sweep(parse_spec(EXTEND, str(tmp_path / "plain")))
    run_with(StandIn(rising_lr_best_clip_022), plain, monkeypatch)
    selected = [
        json.loads((tmp_path / d / "selection.json").read_text()) for d in ("killed", "plain")
    ]
    assert selected[0] == selected[1]


def test_an_edge_with_no_valid_point_beyond_is_refined_and_effort_stays_equal(
    tmp_path, monkeypatch
):
    plan = plan_sweep(parse_spec(EXTEND, str(tmp_path)))

    def small_clip(config) -> float:  # ppo: the smallest clip wins; 0.0 is not a valid clip_eps
        options = config.algo_config
        return options["lr"] if config.algo == "reinforce" else -options["clip_eps"]

    stand_in = StandIn(small_clip)
    run_with(stand_in, plan, monkeypatch)
    ppo = [j.config.algo_config["clip_eps"] for j in stand_in.jobs if j.config.algo == "ppo"]
    # 0.1 - 0.1 = 0.0 is refused: (0.1 + 0.2) / 2 = 0.15, which loses; 0.1 is still the bottom
    # edge, and the step there is now 0.05: 0.1 - 0.05 = 0.05
    assert ppo[6:10] == [0.15, 0.15, 0.05, 0.05] and len(ppo) == 10 + 2


def test_an_algorithm_whose_grid_failed_gets_no_extra_trial_and_no_report_run(
    tmp_path, monkeypatch
):
    from harness.sweep.worker import Outcome

    plan = plan_sweep(parse_spec(EXTEND, str(tmp_path)))

    def ppo_fails(config):
        return Outcome("failed", "RuntimeError: boom") if config.algo == "ppo" else None

    stand_in = StandIn(rising_lr_best_clip_022, ppo_fails)
    result = run_with(stand_in, plan, monkeypatch)
    assert result.failed
    assert sum(j.config.algo == "ppo" for j in stand_in.jobs) == 6  # its grid only
    not_added = [e for e in result.entries if e.reason.startswith("not added")]
    assert len(not_added) == 4 and {e.state for e in not_added} == {"skipped"}
    assert all("every tuning trial failed (RuntimeError: boom)" in e.reason for e in not_added)
    assert sum(j.config.algo == "reinforce" for j in stand_in.jobs) == 10 + 2


def test_the_dry_run_table_holds_a_row_per_extra_trial(tmp_path):
    plan = plan_sweep(parse_spec(EXTEND, str(tmp_path)))
    entries = plan_entries(plan)
    assert plan.tuning_rows() == 2 * 5 * 2 and len(entries) == 20 + 4
    assert [e.settings for e in entries[12:16]] == ["extra trial 1 of 2"] * 2 + [
        "extra trial 2 of 2"
    ] * 2
    assert {e.settings for e in entries[20:]} == {"winner of 5 trials"}


def test_without_extend_edges_an_edge_winner_gets_one_line_with_the_hint(tmp_path, monkeypatch):
    spec = {**EXTEND, "tune": {**EXTEND["tune"], "extend_edges": 0}}
    plan = plan_sweep(parse_spec(spec, str(tmp_path)))
    console = Console(record=True, width=300)
    run_with(StandIn(rising_lr_best_clip_022), plan, monkeypatch, console=console)
    edges = [line for line in console.export_text().splitlines() if line.startswith("edge ")]
    assert edges == [
        "edge         summarization · reinforce: lr=0.004 is the largest value of its grid (the"
        " top edge): a larger value may do better; tune.extend_edges: N tries up to N values"
        " beyond it"
    ]
    selection = json.loads((tmp_path / "selection.json").read_text())
    assert "extend_edges" not in selection  # as before the option existed
    assert all("extension" not in t for a in selection["tasks"]["summarization"].values()
               for t in a["trials"])  # fmt: skip
