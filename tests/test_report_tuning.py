"""A sweep's tuning trials: never rows, counted once, and shown from selection.json."""

import copy
import io
import json
from pathlib import Path

import pytest
from report_fixtures import make_anchor, make_run
from rich.console import Console

from reports.build import build_report
from reports.tuning import BadSelection, budget_note, read_selection, trial_cells

TUNE = {"role": "tune", "algo_config.lr": 1e-05}
SELECTION = {
    "select": "eval/reward",
    "split": "val",
    "allow_unequal": False,
    "tasks": {
        "summarization": {
            "reinforce": {
                "trials": [
                    {"settings": {"lr": 1e-05}, "seeds": [100, 101], "scores": [0.12, 0.14],
                     "score": 0.13, "run_dirs": ["summarization/reinforce/seed100-abc123"]},
                    {"settings": {"lr": 0.0001}, "seeds": [100, 101], "scores": [0.2, None],
                     "score": None, "run_dirs": []},
                ],
                "winner": {"lr": 1e-05},
            },
            "ppo": {
                "trials": [
                    {"settings": {"lr": 1e-05, "clip": 0.2}, "seeds": [100, 101],
                     "scores": [0.25, 0.27], "score": 0.26, "run_dirs": []},
                    {"settings": {"lr": 3e-05, "clip": 0.2}, "seeds": [100, 101],
                     "scores": [0.3, 0.32], "score": 0.31, "run_dirs": []},
                ],
                "winner": {"lr": 3e-05, "clip": 0.2},
            },
        }
    },
}  # fmt: skip
TABLE = [
    "| algo | trial settings | tuning seeds | val score per seed | mean val score | winner ✓ |",
    "|---|---|---|---|---|---|",
    "| reinforce | lr=1e-05 | 100, 101 | 0.1200, 0.1400 | 0.1300 |"
    " ✓ bottom edge: a smaller lr may do better |",
    "| reinforce | lr=0.0001 | 100, 101 | 0.2000, failed | failed |  |",
    "| ppo | lr=1e-05, clip=0.2 | 100, 101 | 0.2500, 0.2700 | 0.2600 |  |",
    "| ppo | lr=3e-05, clip=0.2 | 100, 101 | 0.3000, 0.3200 | 0.3100 |"
    " ✓ top edge: a larger lr may do better |",
]
NOTE = (
    "2 trials per algorithm, selected on val by eval/reward; 2 winners at an edge of their grid,"
    " where a value beyond may do better (flagged in the winner column)"
)
LEFT_OUT = "3 tuning runs (role tune) are not rows; see Tuning"


def report(paths: list[Path], out: Path) -> str:
    """Run `bench report` on `paths` into `out`; return what it printed."""
    text = io.StringIO()
    build_report(paths, out, False, Console(file=text, width=400))
    return text.getvalue()


@pytest.fixture()
def sweep(tmp_path: Path) -> Path:
    """A sweep folder: ppo report runs × 3 seeds, start × 3, three tune runs, selection.json.

    The tune runs differ from the report runs in budget and lr, and one failed (no test split):
    pooled, they would refuse the report or add rows.
    """
    root = tmp_path / "sweep"
    for seed in (0, 1, 2):
        make_run(root, "ppo", seed, 0.3 + seed / 100)
        make_anchor(root, "start", seed)
    make_run(root, "ppo", 100, 0.9, config_changes=TUNE)
    make_run(root, "ppo", 101, 0.9, config_changes=TUNE | {"budget.samples": 32})
    failed = make_run(root, "reinforce", 102, 0.9, config_changes=TUNE)
    result = json.loads((failed / "result.json").read_text())
    result.update(eval_after=None, stop_reason="nonfinite")
    (failed / "result.json").write_text(json.dumps(result))
    (root / "selection.json").write_text(json.dumps(SELECTION))
    return root


def test_tune_runs_are_not_rows_and_are_counted_once(sweep: Path, tmp_path: Path) -> None:
    printed = report([sweep.parent], tmp_path / "out")
    assert printed.count(LEFT_OUT) == 1 and "warning" not in printed
    assert "report       6 runs · 1 task(s) · 2 rows · 0 skipped" in printed
    data = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    rows = {row["row"]: row for row in data["tables"][0]["rows"]}
    assert sorted(rows) == ["ppo", "start"] and data["warnings"] == []
    assert rows["ppo"]["seeds"] == [0, 1, 2] and rows["ppo"]["role"] == "report"
    assert rows["start"]["seeds"] == [0, 1, 2] and rows["start"]["role"] == "baseline"
    assert data["tables"][0]["conditions"]["budget.samples"] == 64
    assert data["tuning"]["left_out"] == 3 and data["tuning"]["line"] == LEFT_OUT
    markdown = (tmp_path / "out" / "leaderboard.md").read_text()
    assert markdown.count(LEFT_OUT) == 1 and f"*{LEFT_OUT}.*" in markdown
    csv = (tmp_path / "out" / "leaderboard.csv").read_text().splitlines()
    assert len(csv) == 3 and all(",tune," not in line for line in csv)
    html = (tmp_path / "out" / "index.html").read_text()
    assert html.count(LEFT_OUT) == 1


def test_tuning_table_in_markdown_json_and_html(sweep: Path, tmp_path: Path) -> None:
    report([sweep], tmp_path / "out")
    lines = (tmp_path / "out" / "leaderboard.md").read_text().splitlines()
    start = lines.index("## Tuning")
    assert lines[start + 2] == "From `selection.json`."  # relative to the report root
    assert lines[start + 4 : start + 8] == ["### summarization", "", NOTE, ""]
    assert lines[start + 8 : start + 14] == TABLE
    tuning = json.loads((tmp_path / "out" / "leaderboard.json").read_text())["tuning"]
    (selection,) = tuning["selections"]
    assert selection["file"] == "selection.json"
    assert selection["notes"] == {"summarization": NOTE}
    assert selection["extend_edges"] == 0  # absent from the file: no extra trials
    algos = selection["tasks"]["summarization"]
    assert algos["reinforce"]["edges"] == {"lr": "bottom"} and algos["ppo"]["edges"] == {
        "lr": "top"
    }
    assert algos["reinforce"]["trials"][0]["extension"] == 0
    for algo in algos.values():
        for trial in algo["trials"]:
            del trial["extension"]
        del algo["edges"]
    assert {key: selection[key] for key in SELECTION} == SELECTION
    html = (tmp_path / "out" / "index.html").read_text()
    assert '<section id="tuning"><h2>Tuning</h2>' in html and "From selection.json." in html
    winner = "".join(
        f'<td class="label">{cell}</td>'
        for cell in (
            *("ppo", "lr=3e-05, clip=0.2", "100, 101", "0.3000, 0.3200", "0.3100"),
            "✓ top edge: a larger lr may do better",
        )
    )
    assert f'<tr class="best">{winner}</tr>' in html
    assert '<td class="label">0.2000, failed</td><td class="label">failed</td>' in html


def test_unequal_budgets_and_non_finite_scores(tmp_path: Path) -> None:
    data = copy.deepcopy(SELECTION)
    data["allow_unequal"] = True
    reinforce = data["tasks"]["summarization"]["reinforce"]
    reinforce["trials"].append(reinforce["trials"][0] | {"settings": {"lr": 0.001}})
    path = tmp_path / "selection.json"
    path.write_text(json.dumps(data).replace("0.13", "NaN"))
    selection = read_selection(path, "selection.json")
    assert budget_note(selection, "summarization") == (
        "unequal tuning budgets allowed: reinforce 3 trials, ppo 2; selected on val by eval/reward;"
        " 2 winners at an edge of their grid, where a value beyond may do better (flagged in the"
        " winner column)"
    )
    trials = selection.tasks["summarization"][0].trials
    assert [trial.score for trial in trials] == [None, None, None]
    data["allow_unequal"] = False
    path.write_text(json.dumps(data))
    assert budget_note(read_selection(path, "selection.json"), "summarization") == (
        "unequal tuning budgets (allow_unequal is false): reinforce 3 trials, ppo 2;"
        " selected on val by eval/reward; 2 winners at an edge of their grid, where a value beyond"
        " may do better (flagged in the winner column)"
    )


def test_a_malformed_selection_is_a_one_line_warning(sweep: Path, tmp_path: Path) -> None:
    bad = copy.deepcopy(SELECTION)
    bad["tasks"]["summarization"]["ppo"]["trials"][1]["score"] = "high"
    (sweep / "selection.json").write_text(json.dumps(bad))
    (sweep / "summarization" / "selection.json").write_text('{"select": ')
    printed = report([sweep], tmp_path / "out")
    lines = [line for line in printed.splitlines() if line.startswith("warning:")]
    where = "tasks.summarization.ppo.trials[1].score"
    assert lines == [
        f'warning: skipped selection.json: {where} should be a number or null, not "high"',
        "warning: skipped summarization/selection.json: "
        "selection.json is not valid JSON (Expecting value: line 1 column 12 (char 11))",
    ]
    markdown = (tmp_path / "out" / "leaderboard.md").read_text()
    assert "## Tuning" not in markdown and f"> **warning:** {lines[0][9:]}  " in markdown
    no_tuning = "no readable selection.json, so no Tuning section"
    assert f"*3 tuning runs (role tune) are not rows; {no_tuning}.*" in markdown
    data = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert data["tuning"]["selections"] == [] and len(data["warnings"]) == 2


def extended_selection() -> dict:
    """Two grid trials and two extra trials per algorithm (tune.extend_edges: 2)."""

    def trial(settings: dict, score: float, extension: int) -> dict:
        return {"settings": settings, "seeds": [100], "scores": [score], "score": score,
                "run_dirs": [], "extension": extension}  # fmt: skip

    reinforce = [  # the extension kept winning: still at the top edge after 2 extra trials
        trial({"lr": 1e-05}, 0.1, 0), trial({"lr": 0.0001}, 0.2, 0),
        trial({"lr": 0.001}, 0.3, 1), trial({"lr": 0.01}, 0.4, 2),
    ]  # fmt: skip
    ppo = [  # the first extra trial lost: the winner is inside, and then refined
        trial({"lr": 1e-05, "norm": True}, 0.1, 0), trial({"lr": 0.0001, "norm": True}, 0.3, 0),
        trial({"lr": 0.001, "norm": True}, 0.2, 1), trial({"lr": 0.000316, "norm": True}, 0.25, 2),
    ]  # fmt: skip
    return {
        "select": "eval/reward", "split": "val", "allow_unequal": False, "extend_edges": 2,
        "tasks": {"summarization": {
            "reinforce": {"trials": reinforce, "winner": {"lr": 0.01}},
            "ppo": {"trials": ppo, "winner": {"lr": 0.0001, "norm": True}},
        }},
    }  # fmt: skip


def test_extra_trials_are_marked_and_only_a_winner_still_at_an_edge_is_flagged(tmp_path: Path):
    path = tmp_path / "selection.json"
    path.write_text(json.dumps(extended_selection()))
    selection = read_selection(path, "selection.json")
    assert selection.extend_edges == 2
    assert budget_note(selection, "summarization") == (
        "4 trials per algorithm (2 in the grid, 2 extra: tune.extend_edges), selected on val by"
        " eval/reward; 1 winner at an edge of its grid and extra trials, where a value beyond may"
        " do better (flagged in the winner column)"
    )
    reinforce, ppo = selection.tasks["summarization"]
    assert reinforce.edges == {"lr": "top"} and ppo.edges == {}  # a boolean is never an edge
    rows = [trial_cells(entry, trial) for entry in (reinforce, ppo) for trial in entry.trials]
    assert [row[1] for row in rows] == [
        "lr=1e-05",
        "lr=0.0001",
        "lr=0.001 (extra trial 1)",
        "lr=0.01 (extra trial 2)",
        "lr=1e-05, norm=true",
        "lr=0.0001, norm=true",
        "lr=0.001, norm=true (extra trial 1)",
        "lr=0.000316, norm=true (extra trial 2)",
    ]
    assert [row[-1] for row in rows] == [
        *("", "", "", "✓ top edge: a larger lr may do better"),
        *("", "✓", "", ""),
    ]


def test_a_winner_at_the_edges_of_two_keys_names_both_and_a_bad_extension_is_refused(
    tmp_path: Path,
) -> None:
    data = copy.deepcopy(SELECTION)
    ppo = data["tasks"]["summarization"]["ppo"]
    ppo["trials"][1]["settings"]["clip"] = 0.1  # now the winner's clip is the smallest
    ppo["winner"] = {"lr": 3e-05, "clip": 0.1}
    path = tmp_path / "selection.json"
    path.write_text(json.dumps(data))
    entry = read_selection(path, "selection.json").tasks["summarization"][1]
    assert trial_cells(entry, entry.trials[1])[-1] == (
        "✓ top edge: a larger lr may do better; bottom edge: a smaller clip may do better"
    )
    data["tasks"]["summarization"]["ppo"]["trials"][0]["extension"] = -1
    path.write_text(json.dumps(data))
    with pytest.raises(BadSelection, match=r"trials\[0\]\.extension should be an integer ≥ 0"):
        read_selection(path, "selection.json")
