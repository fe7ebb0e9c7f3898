"""Bad input to every command: one line naming the value, exit code 2, no traceback, no files.

Each case runs a command in a fresh working folder (with its own `--out` where the command has
one) and checks what a new user would see: `error: ...` on one line, containing the words that
name the bad value and what is valid, and nothing written anywhere in that folder.
"""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app

TINY = ["--policy", "tiny", "--samples", "8"]
RUN = ["run", "summarization", "--algo", "reinforce", *TINY]
SPEC = "tasks: [summarization]\nalgos: [reinforce]\npolicy: tiny\nbudget: {samples: 8}\n"

# Files a case may refer to, created in its working folder before it runs (then left alone).
FILES = {
    "bad.json": "{not json",
    "foreign.json": '{"task": "summarization", "algo": "reinforce", "colour": "red"}',
    "notes.txt": "not a directory",
    "broken.yaml": "name: [unclosed\n",
    "odd.yaml": "name: odd\nversion: 1\nflavour: sweet\n",
    "nocolumn.yaml": (
        "name: nocolumn\nversion: '1'\ndata: {source: rows.jsonl}\nprompt: '{question}'\n"
        "reference: '{answer}'\nreward: chrf\n"
    ),
    "rows.jsonl": '{"question": "a?", "reply": "b"}\n' * 12,
    "empty.jsonl": "",
    "spec_unknown.yaml": SPEC + "sedes: [0]\n",
    "spec_algo.yaml": SPEC.replace("reinforce", "reinforse"),
    "spec_broken.yaml": "tasks: [summarization\n",
    "spec_unequal.yaml": SPEC.replace("[reinforce]", "[reinforce, ppo]")
    + "tune: {seeds: [100], grid: {reinforce: {lr: [1.0e-4, 1.0e-3]}}}\n",
    "spec_overlap.yaml": SPEC
    + "seeds: [0]\ntune: {seeds: [0], grid: {reinforce: {lr: [1.0e-4]}}}\n",
    "spec_shared_grid.yaml": SPEC
    + "tune: {seeds: [100], grid: {reinforce: {rollout.kl_coef: [0.0, 0.1]}}}\n",
    "spec_value.yaml": SPEC + "overrides: {rollout.temperature: -1}\n",
    "spec_ok.yaml": SPEC,
    "infinite.json": '{"task": "summarization", "algo": "reinforce", "policy": "tiny",'
    ' "algo_config": {"lr": Infinity}}',
}
DIRS = ("emptydir", "notamodel")

CASES = [
    # bench run: names
    (["run", "summarisation", "--algo", "reinforce"], "did you mean 'summarization'"),
    (["run", "summarization", "--algo", "ppp"], "unknown algorithm 'ppp'"),
    (["run", "summarization", "--algo", "reinforce", "--policy", "notamodel"], "notamodel"),
    (["run", "summarization", "--algo", "reinforce", "--policy", "no-such/hub-model"], "hub-model"),
    ([*RUN, "--device", "tpu"], "unknown device 'tpu'"),
    ([*RUN, "--device", "cuda"], "device 'cuda' is not available"),
    ([*RUN, "--device", "cuda:3"], "device 'cuda:3' is not available"),
    # bench run: -o pairs and values
    ([*RUN, "-o", "temperature=-1"], "rollout.temperature must be > 0"),
    (["run", "summarization", "--algo", "trpo", *TINY, "-o", "max_kl=-0.1"], "algo.max_kl"),
    ([*RUN, "-o", "nonsense=1"], "unknown option 'nonsense'"),
    # non-finite numbers, in every spelling, never start a run
    ([*RUN, "-o", "lr=inf"], "option 'lr' expects a finite number, got 'inf'"),
    ([*RUN, "-o", "lr=-Infinity"], "expects a finite number, got '-Infinity'"),
    ([*RUN, "-o", "temperature=1e999"], "expects a finite number, got '1e999'"),
    ([*RUN, "-o", "kl_coef=NaN"], "expects a finite number, got 'NaN'"),
    (["run", "--config", "infinite.json"], "algo_config.lr must be a finite number, got inf"),
    ([*RUN, "-o", "lr"], "override 'lr' must look like key=value"),
    ([*RUN, "-o", "=3"], "override '=3' must look like key=value"),
    ([*RUN, "-o", "lr=fast"], "option 'lr' expects float, got 'fast'"),
    ([*RUN, "-o", "seed=1.5"], "option 'seed' expects int, got '1.5'"),
    ([*RUN, "-o", "dynamic_sampling=maybe"], "expects bool, got 'maybe'"),
    ([*RUN, "-o", "rollout.samples_per_prompt=1"], "needs rollout.samples_per_prompt ≥ 2"),
    ([*RUN, "-o", "kl_estimator=k4"], "rollout.kl_estimator must be one of k1, k2, k3"),
    ([*RUN, "-o", "kl_placement=loss", "-o", "kl_estimator=k1"], "k1 in the loss"),
    ([*RUN, "-o", "kl_estimator=k3"], "k3 in the reward"),
    ([*RUN, "-o", "loss_agg=mean"], "rollout.loss_agg must be one of"),
    (["run", "summarization", "--algo", "ppo", *TINY, "-o", "ratio_level=seq"], "ratio_level"),
    (["run", "summarization", "--algo", "ppo", *TINY, "-o", "clip_high=-1"], "algo.clip_high"),
    ([*RUN, "-o", "advantage=gea"], "did you mean 'gae'"),
    ([*RUN, "-o", "eval.split=test"], "eval.split was removed"),
    ([*RUN, "-o", "task.target=abstract"], "unknown target 'abstract'"),
    ([*RUN, "-o", "checkpoint.every=-2"], "checkpoint.every must be ≥ 0"),
    ([*RUN, "-o", "budget.samples=none"], "the budget has no limit"),
    (["run", "summarization", "--algo", "reinforce", "--samples", "0"], "budget.samples must be"),
    ([*RUN, "--seed", "-1"], "seed must be ≥ 0"),
    ([*RUN, "--out", "notes.txt/runs"], "cannot be created"),
    # bench run: config files, task files, data files
    ([*RUN, "-o", "max_prompt_tokens=4000"], "do not fit the context of policy 'tiny'"),
    (
        ["run", "sentiment", "--algo", "reinforce", *TINY, "-o", "task.reward_model=emptydir"],
        "'emptydir' is not a reward model folder",
    ),  # fmt: skip
    (["run", "--config", "missing.json"], "cannot read config file 'missing.json'"),
    (["run", "--config", "bad.json"], "cannot read config file 'bad.json'"),
    (["run", "--config", "foreign.json"], "does not match RunConfig"),
    (["run", "missing.yaml", "--algo", "reinforce"], "task file 'missing.yaml' does not exist"),
    (["run", "broken.yaml", "--algo", "reinforce"], "is not valid YAML"),
    (["run", "odd.yaml", "--algo", "reinforce"], "unknown keys ['flavour']"),
    ([*RUN, "-o", "task.source=empty.jsonl"], "empty.jsonl"),
    # bench validate
    (["validate", "nosuchtask"], "unknown task 'nosuchtask'"),
    (["validate", "odd.yaml"], "unknown keys ['flavour']"),
    (["validate", "nocolumn.yaml"], "answer"),
    # bench report
    (["report", "nowhere"], "no such file or directory: 'nowhere'"),
    (["report", "notes.txt"], "'notes.txt' is not a directory"),
    (["report", "emptydir"], "no run directories found"),
    # bench reward train
    (["reward", "train", "rm", "--data", "nosuch.jsonl"], "nosuch.jsonl"),
    (["reward", "train", "rm", "--data", "rows.jsonl", "--kind", "triples"], "triples"),
    (["reward", "train", "dialogue", "--epochs", "3"], "--epochs does not apply to 'dialogue'"),
    (["reward", "train", "dialogue", "--train-examples", "0"], "train_examples must be ≥ 1"),
    # bench sweep
    (["sweep", "nosuch.yaml"], "nosuch.yaml"),
    (["sweep", "spec_broken.yaml"], "spec_broken.yaml"),
    (["sweep", "spec_unknown.yaml"], "did you mean 'seeds'"),
    (["sweep", "spec_algo.yaml"], "unknown algorithm 'reinforse'"),
    (["sweep", "spec_unequal.yaml"], "(reinforce: 2, ppo: 1)"),
    (["sweep", "spec_overlap.yaml"], "overlap"),
    (["sweep", "spec_shared_grid.yaml"], "rollout.kl_coef"),
    (["sweep", "spec_value.yaml"], "rollout.temperature must be > 0"),
    (["sweep", "spec_ok.yaml", "--executor", "slurm"], "slurm"),
    (["sweep", "spec_ok.yaml", "--workers", "0"], "workers"),
    (["run", "summarization", "--algo", "reinforce", *TINY, "--log", "mlflow"], "mlflow"),
    # an output folder that cannot be created (a virtual filesystem): one line, not a traceback
    ([*RUN, "--out", "/proc/bench-runs"], "cannot use '/proc/bench-runs'"),
    # bench export, ls, show
    (["export", "nowhere"], "cannot read config file"),
    (["ls", "emptydir", "--sort", "bogus"], "bogus"),
    (["ls", "nowhere"], "nowhere"),
    (["show", "nowhere"], "nowhere"),
]


def make_files(folder: Path) -> None:
    """The files and folders the cases refer to."""
    for name, text in FILES.items():
        (folder / name).write_text(text)
    for name in DIRS:
        (folder / name).mkdir()


def snapshot(folder: Path) -> set[str]:
    """Every path below `folder`."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.mark.parametrize(
    ("args", "named"), CASES, ids=[f"{a[0]}-{i}-{a[-1]}" for i, (a, _) in enumerate(CASES)]
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    bench_cache, tmp_path, monkeypatch, args, named
):
    make_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    out = ["--out", "runs"] if args[0] in ("run", "sweep", "report") and "--out" not in args else []
    result = CliRunner().invoke(app, [*args, *out])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert named in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert snapshot(tmp_path) == before, sorted(snapshot(tmp_path) - before)


def test_the_table_covers_every_command_and_at_least_40_cases():
    commands = {args[0] for args, _ in CASES}
    assert {"run", "validate", "report", "reward", "sweep", "export", "ls", "show"} <= commands
    assert len(CASES) >= 40


def test_debug_shows_the_traceback_before_the_line(monkeypatch):
    monkeypatch.setenv("BENCH_DEBUG", "0")  # restored at teardown: --debug sets it to 1 here
    result = CliRunner().invoke(app, ["--debug", "run", "summarisation", "--algo", "reinforce"])
    assert result.exit_code == 2
    assert "Traceback" in result.output and "BenchError" in result.output
    assert result.output.strip().splitlines()[-1].startswith("error: unknown task")
