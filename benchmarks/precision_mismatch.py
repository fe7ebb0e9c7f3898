"""bf16 against fp32: how far sampling-time and update-time log-probs disagree at θ = θ_old.

PPO and its presets (GRPO, DAPO, GSPO) and TRPO take θ_old's log-probs from the logits
`generate` recorded while sampling (a cached decode); the update recomputes them with a full
forward. In fp32 the two agree to round-off; under bf16 autocast they round differently, so at
the first epoch's first mini-batch, before any step, the ratio r = exp(log π_train − log
π_sample) is not 1. This script draws rollouts of a suite's shape from the start policy in each
precision and, on the sampled tokens, prints:

- mean and max |log π_sample − log π_train| (nats per token);
- the share of tokens whose ratio already lies outside PPO's (and GRPO's) clip range
  [1 − 0.2, 1 + 0.2] and DAPO's [1 − 0.2, 1 + 0.28] (PPO's `ppo/clipfrac` definition), and the
  share of completions whose sequence ratio exp(mean_t log r_t) lies outside GSPO's
  [1 − 3e-4, 1 + 4e-4]: the clip fraction that rounding alone would bind before the policy has
  moved;
- the KL floor: the exact per-token KL(π‖π_ref) the run logs at the start policy, where π and
  π_ref are the same weights (train/kl_exact's definition).

Each precision's rollouts come from the same prompts (the run's prompt stream, seed 0), and the
update's forward runs in the update's own micro-batches (rollout.micro_batch_prompts).

    python benchmarks/precision_mismatch.py                         # sentiment, smollm2-135m
    python benchmarks/precision_mismatch.py --updates 3 --json out.json
"""

import argparse
import json
import tempfile

import torch
from rich.console import Console
from rich.table import Table

from harness.api.batch import prompt_chunks
from harness.launch import build_config
from harness.loop.rollout import Rollout, sample_rollout
from harness.loop.setup import Setup, prepare
from harness.loop.step import token_scores
from harness.rl.logprobs import completion_logits, gather_logprobs
from harness.run.runner import prompt_stream
from harness.rundir.layout import create_run_dir

CLIP_RANGES = {"ppo": (0.2, 0.2), "dapo": (0.2, 0.28)}  # (ε_low, ε_high) on token ratios
SEQUENCE_CLIP = (3e-4, 4e-4)  # GSPO's (ε_low, ε_high) on s_i = exp(mean_t log r_t)


def train_logprobs(setup: Setup, rollout: Rollout) -> torch.Tensor:
    """log π of the sampled tokens (B, T) by the update's full forward, in its micro-batches."""
    cfg = setup.config.rollout
    parts = []
    with torch.no_grad():
        for prompts, rows in prompt_chunks(
            len(rollout.examples), rollout.samples_per_prompt, cfg.micro_batch_prompts
        ):
            ids = rollout.completion_ids[rows]
            logits = completion_logits(
                setup.policy.model, rollout.prompt_ids[prompts], rollout.prompt_mask[prompts],
                ids, rollout.completion_mask[rows],
            )  # fmt: skip
            parts.append(gather_logprobs(logits, ids, cfg.temperature))
    return torch.cat(parts)


def measure(
    task: str, policy: str, precision: str, updates: int, overrides: tuple[str, ...] = ()
) -> dict[str, float]:
    """The mismatch figures of `updates` rollouts from the start policy in `precision`."""
    with tempfile.TemporaryDirectory() as out:
        config = build_config(
            task, "ppo", policy=policy, seed=0, out=out,
            overrides=["eval.prompts=1", *overrides, f"precision={precision}"],
        )  # fmt: skip
        setup = prepare(config, Console(quiet=True), create_run_dir(config))
        setup.log.close()
        cfg = config.rollout
        prompts = prompt_stream(setup.task.examples("train"), config.seed)
        deltas, kls, sequences = [], [], []
        for _ in range(updates):
            examples = [next(prompts) for _ in range(cfg.prompts_per_update)]
            rollout = sample_rollout(
                setup.policy, examples, cfg.samples_per_prompt, setup.max_new_tokens,
                cfg.temperature, cfg.max_prompt_tokens,
            )  # fmt: skip
            scores = token_scores(setup, rollout)
            mask = rollout.completion_mask
            delta = (train_logprobs(setup, rollout) - scores.old_logprobs) * mask
            sequences.append(delta.sum(-1) / mask.sum(-1).clamp(min=1.0))
            deltas.append(delta[mask.bool()])
            kls.append(scores.kl_exact[mask.bool()])
    delta, kl, sequence = torch.cat(deltas), torch.cat(kls), torch.cat(sequences)
    ratio = torch.exp(delta)
    figures = {
        "tokens": len(delta),
        "mean_abs_delta": float(delta.abs().mean()),
        "max_abs_delta": float(delta.abs().max()),
        "kl_floor": float(kl.mean()),
    }
    for name, (low, high) in CLIP_RANGES.items():
        outside = (ratio < 1.0 - low) | (ratio > 1.0 + high)
        figures[f"clipfrac_{name}"] = float(outside.float().mean())
    low, high = SEQUENCE_CLIP
    seq_ratio = torch.exp(sequence)
    outside = (seq_ratio < 1.0 - low) | (seq_ratio > 1.0 + high)
    figures["clipfrac_gspo"] = float(outside.float().mean())  # a share of completions
    return figures


def main() -> None:
    """Measure each precision and print one table (and the figures as JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sentiment")
    parser.add_argument("--policy", default="smollm2-135m")
    parser.add_argument("--updates", type=int, default=3, help="rollouts per precision")
    parser.add_argument("-o", dest="overrides", action="append", default=[], help="key=value")
    parser.add_argument("--json", dest="json_path", help="write the figures here")
    args = parser.parse_args()
    extra = tuple(args.overrides)
    found = {p: measure(args.task, args.policy, p, args.updates, extra) for p in ("fp32", "bf16")}
    table = Table(title=f"log π_sample vs log π_train at θ = θ_old ({args.task}, {args.policy})")
    columns = ("tokens", "mean_abs_delta", "max_abs_delta", "clipfrac_ppo", "clipfrac_dapo",
               "clipfrac_gspo")  # fmt: skip
    headers = ("tokens", "mean |Δ|", "max |Δ|", "clip PPO", "clip DAPO", "clip GSPO", "KL floor")
    for column in ("precision", *headers):
        table.add_column(column, justify="right")
    for precision, figures in found.items():
        cells = [str(figures["tokens"])]
        cells += [f"{figures[c]:.2g}" for c in (*columns[1:], "kl_floor")]
        table.add_row(precision, *cells)
    Console().print(table)
    if args.json_path:
        with open(args.json_path, "w") as handle:
            json.dump(found, handle, indent=2)


if __name__ == "__main__":
    main()
