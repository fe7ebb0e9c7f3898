"""`bench run` and `bench export`: train one run, and write its policy out.

`bench run` is the Python API's two calls (harness/launch.py): `build_config`, then `run`.
"""

from pathlib import Path
from typing import Annotated

import typer

from harness import launch
from harness.cli.app import app, console, one_line_errors


@app.command("run")
@one_line_errors
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
    precision: Annotated[
        str | None,
        typer.Option("--precision", help="fp32 | bf16 (autocast; faster, never pooled with fp32)"),
    ] = None,
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
    run_config = launch.build_config(
        task,
        algo,
        policy=policy,
        samples=samples,
        seed=seed,
        out=out,
        device=device,
        overrides=[
            *([f"precision={precision}"] if precision else []),
            *(override or []),
            *(["checkpoint.keep=true"] if keep_checkpoints else []),
            *([f"log={','.join(log)}"] if log else []),
        ],
        config_file=config,
    )
    launch.run(run_config, console, resume=resume, export=save_policy)


@app.command("export")
@one_line_errors
def export_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory with a kept checkpoint")],
    out: Annotated[
        Path | None, typer.Option("--out", help="folder to write (default RUN_DIR/policy)")
    ] = None,
) -> None:
    """Write a run's checkpoint as a Hugging Face policy folder (`--policy PATH` loads it)."""
    from harness.run.export import export_checkpoint

    console.print(f"policy       {export_checkpoint(run_dir, out)}", highlight=False)
