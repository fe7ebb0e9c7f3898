"""The `bench` command line. Heavy imports (torch, transformers) happen inside commands only."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harness.api import registry
from harness.api.errors import BenchError
from harness.data.task_files import task_entries
from harness.launch import build_config

app = typer.Typer(
    help="rl-lm-bench: train and compare RL algorithms for language models under equal budgets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True)
DEBUG = "BENCH_DEBUG"  # set by `bench --debug`: errors also print their traceback


@app.callback()
def options(
    debug: Annotated[
        bool, typer.Option("--debug", help="on an error, also print the Python traceback")
    ] = False,
) -> None:
    """rl-lm-bench: train and compare RL algorithms for language models under equal budgets."""
    if debug:
        os.environ[DEBUG] = "1"


def fail(error: BenchError) -> None:
    """Print one line and exit with code 2 (bad input); the traceback only with --debug."""
    if os.environ.get(DEBUG) == "1":
        errors.print_exception()
    errors.print(
        f"[red]error:[/] {escape(str(error))}", markup=True, highlight=False, soft_wrap=True
    )
    raise typer.Exit(code=2)


@app.command("list")
def list_command() -> None:
    """List tasks, rewards, algorithms and policies."""
    for kind in registry.KINDS:
        console.print(f"[bold]{kind.capitalize()}[/]")
        found = task_entries() if kind == "tasks" else registry.entries(kind)
        for entry in found.values():
            console.print(f"  {entry.name:<14} {entry.description}", highlight=False)
            parts = preset_parts(entry.name) if kind == "algorithms" else None
            if parts:
                console.print(f"  {'':<14} = {parts}", highlight=False)
        if kind == "policies":
            console.print(
                f"  {'<hub id|path>':<14} any causal LM transformers can load", highlight=False
            )


def preset_parts(name: str) -> str | None:
    """A built-in preset's decomposition (its update and the parts it pins); else None."""
    from baselines.preset_table import PRESETS, parts_line  # torch-free

    return parts_line(name) if name in PRESETS else None


@app.command("run")
def run_command(
    task: Annotated[str | None, typer.Argument(help="task name (see `bench list`)")] = None,
    algo: Annotated[str | None, typer.Option("--algo", help="algorithm name")] = None,
    policy: Annotated[
        str | None, typer.Option("--policy", help="smollm2-135m | tiny | hub id | local folder")
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", help="budget: completions sampled")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="random seed")] = None,
    out: Annotated[str | None, typer.Option("--out", help="root of run directories")] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu | cuda | cuda:N")] = None,
    override: Annotated[
        list[str] | None,
        typer.Option("-o", "--override", help="key=value, e.g. -o rollout.kl_coef=0.1 -o lr=3e-5"),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="a config.json to replay (flags override it)")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="continue this config's run from its checkpoint (a finished one is left as is)",
        ),
    ] = False,
    keep_checkpoints: Annotated[
        bool, typer.Option("--keep-checkpoints", help="keep the last checkpoint when done")
    ] = False,
    save_policy: Annotated[
        bool,
        typer.Option("--save-policy", help="write the trained policy to RUN_DIR/policy (HF)"),
    ] = False,
    log: Annotated[
        list[str] | None,
        typer.Option("--log", help="also log to tensorboard | wandb (repeat or comma-separate)"),
    ] = None,
) -> None:
    """Train one algorithm on one task under a budget, evaluate before and after."""
    try:
        run_config = build_config(
            task,
            algo,
            policy=policy,
            samples=samples,
            seed=seed,
            out=out,
            device=device,
            overrides=[
                *(override or []),
                *(["checkpoint.keep=true"] if keep_checkpoints else []),
                *([f"log={','.join(log)}"] if log else []),
            ],
            config_file=config,
        )
        from harness.run.runner import execute

        execute(run_config, console, resume, save_policy)  # build_config resolved and checked it
    except BenchError as error:
        fail(error)
    except KeyboardInterrupt:
        errors.print("interrupted")
        raise typer.Exit(code=130) from None


@app.command("export")
def export_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory with a kept checkpoint")],
    out: Annotated[
        Path | None, typer.Option("--out", help="folder to write (default RUN_DIR/policy)")
    ] = None,
) -> None:
    """Write a run's checkpoint as a Hugging Face policy folder (`--policy PATH` loads it)."""
    try:
        from harness.run.export_run import export_checkpoint

        console.print(f"policy       {export_checkpoint(run_dir, out)}", highlight=False)
    except BenchError as error:
        fail(error)


@app.command("report")
def report_command(
    paths: Annotated[list[Path], typer.Argument(help="run directories or roots holding them")],
    out: Annotated[Path, typer.Option("--out", help="folder for the report files")] = Path(
        "report"
    ),
    allow_mixed: Annotated[
        bool,
        typer.Option(
            "--allow-mixed",
            help="report runs whose shared settings differ as separate rows (with a warning)",
        ),
    ] = False,
) -> None:
    """Build leaderboards (Markdown, CSV, JSON, HTML) from run directories; never imports torch."""
    try:
        from reports.build import build_report

        build_report(paths, out, allow_mixed, console)
    except BenchError as error:
        fail(error)


@app.command("ls")
def ls_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="run directories or roots (default: runs)")
    ] = None,
    sort: Annotated[
        str, typer.Option("--sort", help="task | algo | seed | reward | gain | kl | time")
    ] = "task",
    task: Annotated[str | None, typer.Option("--task", help="only this task's runs")] = None,
    algo: Annotated[str | None, typer.Option("--algo", help="only this algorithm's runs")] = None,
) -> None:
    """List run directories: status, samples, test reward change with its CI, KL, time; no torch."""
    try:
        from reports.browse import scan
        from reports.listing import check_sort, ls_table, select, sort_entries, summary_line

        check_sort(sort)
        entries, warnings = scan(paths or [Path("runs")])
        shown = sort_entries(select(entries, task, algo), sort)
        if shown:
            console.print(ls_table(shown, console.width))
        for line in warnings:
            console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False)
        console.print(summary_line(shown, warnings), highlight=False)
    except BenchError as error:
        fail(error)


@app.command("show")
def show_command(
    run_dir: Annotated[Path, typer.Argument(help="one run directory")],
    examples: Annotated[
        int, typer.Option("--examples", help="best and worst held-out samples to show", min=0)
    ] = 2,
) -> None:
    """Show one run: settings that differ from the defaults, reward curve, test change, samples."""
    try:
        from reports.show import show_lines

        for line in show_lines(run_dir, examples):
            console.print(line, highlight=False, markup=False)
    except BenchError as error:
        fail(error)


@app.command("sweep")
def sweep_command(
    spec: Annotated[Path, typer.Argument(help="sweep spec (YAML): tasks, algos, seeds, tune, ...")],
    out: Annotated[
        str | None, typer.Option("--out", help="output root (replaces the spec's out)")
    ] = None,
    executor: Annotated[str, typer.Option("--executor", help="local | ray")] = "local",
    address: Annotated[
        str | None, typer.Option("--address", help="Ray cluster address (default: a local Ray)")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="runs at a time")] = 1,
    threads: Annotated[
        int | None, typer.Option("--threads", help="torch threads per run (CPUs // workers)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check everything and print the plan; run nothing")
    ] = False,
) -> None:
    """Tune each algorithm on val, then run the winners on the report seeds (see README Sweeps)."""
    try:
        from harness.sweep.executor import ExecutorOptions
        from harness.sweep.orchestration import check_options, run_sweep
        from harness.sweep.plan import plan_sweep
        from harness.sweep.spec import read_spec
        from harness.sweep.table import plan_entries, sweep_table

        options = ExecutorOptions(executor, workers, threads, address)  # type: ignore[arg-type]
        check_options(options)
        plan = plan_sweep(read_spec(spec, out))
        if dry_run:
            entries = plan_entries(plan)
            console.print(sweep_table(entries, console.width, f"plan of {spec}", states=False))
            console.print(
                f"{len(entries)} runs: {len(plan.tuning)} tuning trials, "
                f"{len(entries) - len(plan.tuning)} report runs · output {plan.spec.out} · "
                "dry run: nothing was run or written",
                highlight=False,
            )
            return
        result = run_sweep(plan, options, console)
    except BenchError as error:
        fail(error)
    except KeyboardInterrupt:
        errors.print("interrupted")
        raise typer.Exit(code=130) from None
    if result.failed:
        raise typer.Exit(code=1)


@app.command("validate")
def validate_command(
    target: Annotated[str, typer.Argument(help="a task file (.yaml) or a task name")],
    count: Annotated[int, typer.Option("--count", help="examples to render")] = 3,
) -> None:
    """Check a task and render a few prompts and references, each scored against itself."""
    try:
        from harness.data.task_files import validate

        for line in validate(target, count):
            console.print(line, highlight=False, markup=False)
    except BenchError as error:
        fail(error)


reward_app = typer.Typer(help="Learned reward models.", no_args_is_help=True)
app.add_typer(reward_app, name="reward")


@reward_app.command("train")
def reward_train_command(
    name: Annotated[str, typer.Argument(help="model name; 'dialogue'/'sentiment' = the recipes")],
    data: Annotated[
        str | None, typer.Option("--data", help="chitchat | imdb | a .jsonl/.csv file")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="pairs | labels")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="folder (default $BENCH_CACHE/reward-models/NAME)")
    ] = None,
    max_examples: Annotated[
        int | None, typer.Option("--max-examples", help="subsample size (default 2000)")
    ] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="default 1")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="default 0")] = None,
) -> None:
    """Train an HF sequence classifier (Bradley–Terry on pairs, cross-entropy on labels)."""
    try:
        from tasks.rewards.training import train_from_cli

        card, folder = train_from_cli(name, data, kind, out, max_examples, epochs, seed)
        console.print(
            f"held-out accuracy {card['heldout_accuracy']:.3f} "
            f"({card['examples']['heldout']} held out) · saved {folder}",
            highlight=False,
        )
    except BenchError as error:
        fail(error)


def main() -> None:
    """Entry point for `python -m harness.cli`."""
    sys.exit(app())


if __name__ == "__main__":
    main()
