"""`bench eval`: score a checkpoint trained anywhere with the evaluation `bench run` makes."""

from typing import Annotated

import typer

from harness.cli.app import app, console, one_line_errors


@app.command("eval")
@one_line_errors
def eval_command(
    task: Annotated[str, typer.Argument(help="task name (see `bench list`)")],
    policy: Annotated[
        str,
        typer.Option(
            "--policy",
            help="the checkpoint: registered name | hub id | local folder (a PEFT adapter"
            " with peft) | a folder of checkpoint-N/ subfolders (a series)",
        ),
    ],
    reference: Annotated[
        str | None,
        typer.Option(
            "--reference",
            help="the model the checkpoint started from: exact KL and Δ against it (its start"
            " row is reused or written); without it the KL columns are n/a",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="row label (default: the folder name); not an algorithm's"),
    ] = None,
    seed: Annotated[
        list[int] | None,
        typer.Option("--seed", help="evaluation seed, repeatable: seeds pool into one row"),
    ] = None,
    out: Annotated[str, typer.Option("--out", help="root of run directories")] = "runs",
    device: Annotated[str, typer.Option("--device", help="cpu | cuda | cuda:N")] = "cpu",
    precision: Annotated[str, typer.Option("--precision", help="fp32 | bf16 (autocast)")] = "fp32",
    override: Annotated[
        list[str] | None,
        typer.Option(
            "-o",
            "--override",
            help="eval.* | task.* | rollout.temperature | rollout.max_new_tokens |"
            " rollout.max_prompt_tokens = value",
        ),
    ] = None,
) -> None:
    """Evaluate a checkpoint trained elsewhere on val and test, as `bench run` evaluates its own."""
    from harness.run.external import evaluate_external
    from harness.run.external_config import ExternalRequest, external_configs

    request = ExternalRequest(
        task=task,
        policy=policy,
        reference=reference,
        name=name,
        seeds=tuple(seed or [0]),
        out=out,
        device=device,
        precision=precision,
        overrides=tuple(override or []),
    )
    evaluate_external(request, external_configs(request), console)
