"""`bench sweep`: tune every algorithm alike on val, then run the winners on the report seeds."""

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from harness.api.errors import BenchError
from harness.cli.app import app, console, one_line_errors


@app.command("sweep")
@one_line_errors
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
        int | None,
        typer.Option(
            "--threads",
            help="torch threads per run (default: the spec's threads, else CPUs // workers)",
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option("--device", help="cpu | cuda | cuda:N (replaces the spec's device)"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check everything and print the plan; run nothing")
    ] = False,
    estimate: Annotated[
        bool,
        typer.Option(
            "--estimate",
            help="measure a few updates and one evaluation per algorithm, print the sweep's "
            "predicted training and evaluation hours; writes nothing to the output root",
        ),
    ] = False,
) -> None:
    """Tune each algorithm on val, then run the winners on the report seeds (see docs/sweeps.md)."""
    from harness.sweep.executor import ExecutorOptions
    from harness.sweep.orchestration import check_options, run_sweep
    from harness.sweep.plan import plan_sweep
    from harness.sweep.spec import read_spec
    from harness.sweep.table import plan_entries, sweep_table

    if estimate:
        refuse_with_estimate(dry_run=dry_run, out=out, executor=executor, address=address)
    options = ExecutorOptions(executor, workers, threads, address)  # type: ignore[arg-type]
    check_options(options)
    sweep_spec = read_spec(spec, out)
    plan = plan_sweep(sweep_spec if device is None else replace(sweep_spec, device=device))
    if threads is None:  # the spec may pin it; --threads overrides
        options = replace(options, threads=plan.spec.threads)
    if dry_run:
        entries = plan_entries(plan)
        console.print(sweep_table(entries, console.width, f"plan of {spec}", states=False))
        console.print(
            f"{len(entries)} runs: {plan.tuning_rows()} tuning trials, "
            f"{len(entries) - plan.tuning_rows()} report runs · output {plan.spec.out} · "
            "dry run: nothing was run or written",
            highlight=False,
        )
        return
    if estimate:
        from harness.sweep.calibration import estimate_sweep

        estimate_sweep(plan, options, console)
        return
    result = run_sweep(plan, options, console)
    if result.failed:
        raise typer.Exit(code=1)


def refuse_with_estimate(
    dry_run: bool, out: str | None, executor: str, address: str | None
) -> None:
    """--estimate calibrates here and writes nothing: refuse the options that contradict it."""
    given = [
        name
        for name, used in (
            ("--dry-run", dry_run),
            ("--out", out is not None),
            (f"--executor {executor}", executor != "local"),
            ("--address", address is not None),
        )
        if used
    ]
    if given:
        raise BenchError(
            f"--estimate cannot be combined with {', '.join(given)}: it runs a short calibration "
            "on this machine and writes nothing to the output root"
        )
