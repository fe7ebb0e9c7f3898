"""`bench ls` and `bench show` on synthetic run directories (tests/report_fixtures.py); no torch."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from report_fixtures import make_anchor, make_partial_run, make_run, write_jsonl
from rich.console import Console
from typer.testing import CliRunner

from harness import cli
from harness.cli import results as report_commands
from harness.metrics.stats import Interval
from reports.browse import Entry, scan
from reports.listing import ls_table, sort_entries
from reports.show import show_lines

runner = CliRunner()
GAIN = {"mean": 0.1, "low": 0.05, "high": 0.15, "n": 4, "metric": "eval/reward"}
WIDE = {"mean": 0.05, "low": -0.02, "high": 0.12, "n": 4, "metric": "eval/reward"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Two finished report runs with a CI, an interrupted one, a tuning trial, an anchor row,
    an unfinished run, a running one, a corrupt result.json, a schema-99 result.json and a
    folder that is no run directory; a saved policy/ inside a run is not a run of its own."""
    runs = tmp_path / "runs"
    ppo = make_run(runs, "ppo", 0, reward=0.3, kl=0.02, heldout_gain=GAIN, eval_seconds=2.5)
    (ppo / "policy").mkdir()
    (ppo / "policy" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    make_run(runs, "reinforce", 0, reward=0.2, kl=0.01, heldout_gain=WIDE, eval_seconds=2.5)
    make_run(runs, "reinforce", 1, reward=0.25, kl=0.005, stop_reason="interrupted")
    make_run(runs, "ppo", 7, reward=0.4, kl=0.03, config_changes={"role": "tune"}, updates=1)
    make_anchor(runs, "start", 0)
    make_partial_run(runs, "trpo", 0, updates=1)
    make_partial_run(runs, "trpo", 1, updates=2, locked=True)
    corrupt = make_run(runs, "ppo", 2, reward=0.3)
    (corrupt / "result.json").write_text('{"schema_version": 4, "task": ')
    newer = make_run(runs, "ppo", 3, reward=0.3)
    result = json.loads((newer / "result.json").read_text())
    (newer / "result.json").write_text(json.dumps(result | {"schema_version": 99}))
    (runs / "notes").mkdir()
    (runs / "notes" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    return runs


def by_key(entries: list[Entry]) -> dict[tuple[str, int | None], Entry]:
    """Entries by (algo, seed)."""
    return {(e.algo, e.seed): e for e in entries}


def test_scan_reads_every_kind_of_run_directory(root: Path) -> None:
    entries, warnings = scan([root])
    found = by_key(entries)
    assert set(found) == {
        ("ppo", 0), ("ppo", 2), ("ppo", 3), ("ppo", 7), ("reinforce", 0), ("reinforce", 1),
        ("start", 0), ("trpo", 0), ("trpo", 1),
    }  # fmt: skip
    ppo = found["ppo", 0]
    assert (ppo.status, ppo.stop_reason, ppo.role, ppo.task) == (
        "finished", "samples", "report", "summarization"
    )  # fmt: skip
    assert (ppo.samples, ppo.before, ppo.after, ppo.kl) == (64, 0.1, 0.3, 0.02)
    assert ppo.gain == Interval(0.1, 0.05, 0.15, 4)
    # training 10 s + four evaluations (before/after × val/test) of 2.5 s each
    assert (ppo.train_seconds, ppo.wall_seconds) == (10.0, 20.0)
    assert found["reinforce", 1].stop_reason == "interrupted" and found["reinforce", 1].gain is None
    assert (found["ppo", 7].role, found["ppo", 7].samples) == ("tune", 32)
    assert found["start", 0].role == "baseline"  # an anchor row, on disk
    partial = found["trpo", 0]
    assert (partial.status, partial.samples, partial.budget, partial.before) == (
        "unfinished", 32, 64, 0.1
    )  # fmt: skip
    assert (partial.after, partial.train_seconds, partial.wall_seconds) == (None, 4.0, 8.0)
    assert (found["trpo", 1].status, found["trpo", 1].host, found["trpo", 1].samples) == (
        "running", None, 64
    )  # fmt: skip
    assert (found["ppo", 2].status, found["ppo", 3].status) == ("corrupt", "unreadable")
    # one warning each: corrupt, unreadable, unfinished and foreign; none for the running run
    # nor for the policy/ folder inside a run
    assert len(warnings) == 4
    problems = sorted(line.split(": ", 1)[1].split(" (")[0] for line in warnings)
    assert problems == [
        "corrupt: result.json is not valid JSON",
        "not a run directory",
        "unfinished: no result.json",
        "unreadable: result.json has schema_version 99; this reporter reads 3, 4, 5",
    ]


def test_sort_orders_by_the_column_and_puts_missing_values_last(root: Path) -> None:
    entries, _ = scan([root])

    def order(column: str) -> list[tuple[str, int | None]]:
        return [(e.algo, e.seed) for e in sort_entries(entries, column)]

    assert order("reward")[:5] == [
        ("ppo", 7), ("ppo", 0), ("reinforce", 1), ("reinforce", 0), ("start", 0)
    ]  # fmt: skip
    assert order("gain")[:2] == [("ppo", 0), ("reinforce", 0)]
    assert order("kl")[:4] == [("start", 0), ("reinforce", 1), ("reinforce", 0), ("ppo", 0)]
    assert order("seed")[:2] == [("ppo", 0), ("reinforce", 0)]
    assert order("algo")[0] == ("ppo", 0) and order("algo")[-1] == ("trpo", 1)
    assert order("time")[0] == ("start", 0)  # an anchor row spends no training time


def ls(root: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    """`bench ls` on a console wide enough for any temporary path: exit code and lines."""
    monkeypatch.setattr(report_commands, "console", Console(width=500, soft_wrap=True))
    result = runner.invoke(cli.app, ["ls", str(root), *args])
    assert "Traceback" not in result.output
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


def test_ls_prints_a_row_per_run_and_a_warning_per_bad_folder(root, monkeypatch) -> None:
    code, lines = ls(root, monkeypatch=monkeypatch)
    assert code == 0
    rows = [line for line in lines if " summarization " in line]
    assert len(rows) == 9
    ppo = next(line for line in rows if "/ppo/seed0-" in line).split()
    # task, algo, role, seed, status, samples, before → after, gain [CI], KL, time (train), path
    assert ppo[:14] == [
        "summarization", "ppo", "(report)", "0", "finished", "(samples)", "64", "0.100", "→",
        "0.300", "+0.100", "[+0.050,", "+0.150]", "0.0200",
    ]  # fmt: skip
    assert ppo[14:16] == ["0:20", "(0:10)"]
    running = next(line for line in rows if "/trpo/seed1-" in line).split()
    assert running[4:8] == ["running", "64/64", "0.100", "→"]
    start = next(line for line in rows if "/start/seed0-" in line).split()
    assert start[1:6] == ["start", "(anchor)", "0", "finished", "(anchor)"]  # on disk: "baseline"
    assert sum(line.startswith("warning: ") for line in lines) == 4
    assert (
        lines[-1]
        == "9 runs: 5 finished, 1 corrupt, 1 unreadable, 1 unfinished, 1 running · 4 warnings"
    )


def test_ls_filters_by_task_and_algorithm(root, monkeypatch) -> None:
    code, lines = ls(
        root, "--algo", "reinforce", "--task", "summarization", monkeypatch=monkeypatch
    )
    assert code == 0
    rows = [line for line in lines if " summarization " in line]
    assert len(rows) == 2 and all(" reinforce (report) " in row for row in rows)
    assert lines[-1] == "2 runs: 2 finished · 4 warnings"
    code, lines = ls(root, "--algo", "reinforc", monkeypatch=monkeypatch)
    assert code == 2
    assert lines[-1].startswith("error: unknown algorithm 'reinforc'; did you mean 'reinforce'?")


def test_a_bad_sort_column_is_one_line_with_exit_code_2(root, monkeypatch) -> None:
    code, lines = ls(root, "--sort", "rewards", monkeypatch=monkeypatch)
    assert code == 2
    assert lines == [
        "error: unknown sort column 'rewards'; did you mean 'reward'? "
        "(sort columns: algo, gain, kl, reward, seed, task, time)"
    ]


def test_show_prints_config_diff_curve_change_and_extreme_samples(tmp_path: Path) -> None:
    run = make_run(
        tmp_path, "ppo", 0, reward=0.3, kl=0.02, updates=4, heldout_gain=GAIN,
        config_changes={
            "budget.samples": 128, "rollout.advantage": "group-norm",
            "algo_config": {"clip_eps": 0.2},
        },
    )  # fmt: skip
    prompt = "Summarize this abstract. " + "word " * 40
    rewards = {"A": 0.2, "B": 0.9, "C": 0.1, "D": 0.5, "E": 0.9}
    write_jsonl(
        run / "samples" / "eval_after_test.jsonl",
        [{"id": k, "prompt": prompt, "generation": f"text {k}\n", "reward": r}
         for k, r in rewards.items()],
    )  # fmt: skip
    lines = show_lines(run, examples=2)
    assert lines[1] == "run of       summarization · ppo (report) · seed 0 · policy tiny"
    assert lines[2:] == [
        "status       finished (samples) · 128 samples · 0:10 training + evaluation"
        " (0:10 training)",
        "config       8 settings differ from the defaults",
        "  policy               tiny        (default smollm2-135m)",
        "  budget.samples       128         (default 768)",
        "  rollout.temperature  1.0         (default 0.7)",
        "  rollout.kl_coef      0.05        (default 0.01)",
        "  rollout.advantage    group-norm  (default rloo)",
        "  eval.prompts         4           (default 100)",
        "  eval.every           1           (default 8)",
        "  eval.batch_prompts   4           (default 16)",
        "task options source=aclsum, reward=rougeL, max_new_tokens=48",
        "algo config  clip_eps=0.2",
        "train reward ▁▃▅█  0.150 → 0.300 (per update, 4 updates)",
        "test reward  0.100 → 0.300 (sampled) · KL 0.0200 (exact, per token)",
        "test Δ       +0.1000 [95% CI +0.0500, +0.1500] paired bootstrap over 4 prompts"
        " (CI excludes 0)",
        "best test samples (2 of 5, samples/eval_after_test.jsonl)",
        f"  0.900  B  prompt: {(prompt[:99]).strip()}…",
        "         → text B",
        f"  0.900  E  prompt: {(prompt[:99]).strip()}…",
        "         → text E",
        "worst test samples (2 of 5, samples/eval_after_test.jsonl)",
        f"  0.100  C  prompt: {(prompt[:99]).strip()}…",
        "         → text C",
        f"  0.200  A  prompt: {(prompt[:99]).strip()}…",
        "         → text A",
    ]


def test_show_of_a_tuning_trial_says_it_has_no_test_split(tmp_path: Path) -> None:
    run = make_run(tmp_path, "ppo", 100, config_changes={"role": "tune"})
    result = json.loads((run / "result.json").read_text())
    for evaluation in ("eval_before", "eval_after"):  # as a tuning trial writes it: val only
        result[evaluation] = {"val": result[evaluation]["val"]}
    (run / "result.json").write_text(json.dumps(result | {"heldout_gain": None}))
    lines = show_lines(run)
    note = "n/a (a tuning trial is evaluated on val only: see result.json's eval_after.val)"
    assert f"test reward  {note}" in lines and f"test Δ       {note}" in lines


def test_show_of_an_unfinished_run_and_of_bad_paths(root: Path) -> None:
    partial = next((root / "summarization" / "trpo").glob("seed0-*"))
    lines = show_lines(partial)
    assert (
        lines[2]
        == "status       unfinished · 32/64 samples · 0:08 training + evaluation (0:04 training)"
    )
    assert lines[3].startswith("warning      unfinished: no result.json (32 of 64 samples)")
    assert "train reward ▁  0.150 → 0.150 (per update, 1 update)" in lines
    assert "test Δ       n/a (unfinished)" in lines
    assert lines[-1] == "samples      none (samples/eval_after_test.jsonl is missing or empty)"
    for path, message in (
        (root, f"error: '{root}' is not a run directory; `bench ls {root}` lists those below it"),
        (root / "notes", f"error: '{root / 'notes'}' is not a run directory (config.json is no"),
        (root / "nowhere", f"error: no such run directory: '{root / 'nowhere'}'"),
    ):
        result = runner.invoke(cli.app, ["show", str(path)])
        assert result.exit_code == 2 and result.output.startswith(message), result.output


def test_ls_and_show_do_not_import_torch(root: Path) -> None:
    run = next((root / "summarization" / "ppo").glob("seed0-*"))
    code = (
        "import sys; from typer.testing import CliRunner; from harness.cli import app; "
        f"r = CliRunner(); assert r.invoke(app, ['ls', {str(root)!r}]).exit_code == 0; "
        f"assert r.invoke(app, ['show', {str(run)!r}]).exit_code == 0; "
        "assert r.invoke(app, ['ls', '--help']).exit_code == 0; "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_ls_fits_a_narrow_terminal_without_breaking_paths(root, monkeypatch) -> None:
    monkeypatch.chdir(root.parent)  # paths relative to here: runs/summarization/ppo/seed0-…
    entries, _ = scan([Path("runs")])
    ppo = [e for e in entries if e.algo == "ppo" and e.status == "finished"]

    def shown(width: int) -> list[str]:
        console = Console(width=width, record=True)
        console.print(ls_table(ppo, width))
        return [line.rstrip() for line in console.export_text().splitlines()]

    path = next(str(e.path.relative_to(root.parent)) for e in ppo if e.seed == 0)
    assert path.startswith("runs/summarization/ppo/seed0-")
    # natural widths: 172 with a task column, 156 without; two lines per run: 141 and 125
    layouts = {width: shown(width) for width in (172, 160, 141, 130, 124)}
    # one line per run, with the task column, then without it (the title names the one task)
    assert len(layouts[172]) == 4 and layouts[172][0].split()[:3] == ["task", "algo", "(role)"]
    assert layouts[160][0] == "task summarization" and len(layouts[160]) == 5
    assert layouts[160][3].split()[:5] == ["ppo", "(report)", "0", "finished", "(samples)"]
    # then two lines per run, each two-part cell split at its space; paths stay whole
    assert layouts[141][1].split() == ["task", "(role)", "seed", "status", "samples", "reward",
                                       "[95%", "CI]", "KL", "(train)", "path"]  # fmt: skip
    two = layouts[130]
    assert two[0] == "task summarization" and len(two) == 4 + 2 * 2
    assert two[4].split()[:4] == ["ppo", "0", "finished", "64"]
    assert two[5].split()[:3] == ["(report)", "(samples)", "→"]
    assert two[4].endswith(path)
    # narrower still: three lines per run
    assert layouts[124][:3] == [
        path,
        "  summarization · ppo (report) · seed 0 · finished (samples) · samples 64",
        "  test reward 0.100 → 0.300 · Δ +0.100 [+0.050, +0.150] · KL 0.0200 · time 0:20 (0:10)",
    ]
