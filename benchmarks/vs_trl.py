"""Our REINFORCE + RLOO against TRL's RLOOTrainer on identical work, side by side.

    pip install -e ".[bench-trl]"
    python benchmarks/vs_trl.py                              # tiny GPT-2, then smollm2-135m
    python benchmarks/vs_trl.py --config tiny --warmup 3 --updates 10

The work, the same on both sides: one model folder both load (config `tiny`: a random-init
GPT-2, 2 layers, d = 128, with a 4,096-token BPE trained on the task corpus by
harness/policies/tiny.py's `train_tokenizer`; config `smollm2`: our default policy's cached
fp32 folder, see `model_folder`), the same summarization prompts in the same order (our chat
formatting, no prompt longer than `rollout.max_prompt_tokens`: checked token by token against
TRL's tokenisation), our ROUGE-L task reward (TRL calls it as a reward function), k = 4
completions per prompt, 8 prompts per update, 32 new tokens, temperature 1 with no
top-k/top-p, β = 0.05 with a k1 KL summed over the sequence and subtracted from its reward,
leave-one-out advantages, Adam (TRL: AdamW with weight decay 0) at lr 3e-5 constant, gradient
norm clipped to 1, fp32, CPU, forward/backward in micro-batches of 8 completions, one
optimizer step per update. TRL runs with its gradient checkpointing and bf16 defaults turned
off (we do neither).

Why the timing is fair: each side lives in its own process (its own peak RSS) and both stay
loaded for the whole run; they take turns update by update (A B A B ...), the waiting side
blocked on a pipe, so each update has the machine's cores to itself and any drift of the
machine (other load, clocks) falls on both sides alike. A side's time is everything between
two of its updates' ends (TRL: its data loader, callbacks and bookkeeping too), minus the
wait. Start-up and the first `--warmup` updates per side are left out; the median of the
rest is reported. ratio = TRL's seconds per update / ours (> 1: ours is faster).

Where the work differs, unavoidably or by design of each side:
- Old log-probs: ours are read from the logits `generate` returned while sampling; TRL runs an
  extra no-grad forward of the policy over all 32 rows. (Both need them for the k1 KL.)
- Prompts: we prefill each prompt once and repeat its KV cache k times; TRL's sampler repeats
  each prompt k times and `generate` prefills all 32 rows.
- Loss: TRL's clipped ratio objective with one iteration per batch (ratio 1) has the same
  gradient as our REINFORCE loss, −mean over sequences of A·Σ_t log π (seq-mean-token-sum).
  TRL 1.16 always computes log-probs (and an entropy metric) with its fused LM head, tiled
  over the vocabulary (no option turns it off; without a GPU the tiles run as torch ops): in a
  cProfile of TRL's side it took 57 % (tiny) and 40 % (smollm2) of the training step. We build
  the full logits, because we also compute the exact full-vocabulary KL to the reference every
  update, and we measure `train/kl_step` on 1 prompt in 8 after the step (an extra forward).
- Randomness: the two sides draw different samples, so smollm2's completion lengths differ;
  the table shows tokens per completion. The random-init tiny GPT-2 samples its
  end-of-sequence token about once in 4,096 tokens, so nearly every completion has all 32
  tokens on both sides.
- TRL keeps the model in train mode (dropout disabled with `disable_dropout`; the tiny GPT-2
  has none); ours samples and trains in eval mode. Same arithmetic.
"""

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess as Process
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from transformers import (
    PrinterCallback,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)

from harness.api.task import Example

if TYPE_CHECKING:  # trl is imported only in TRL's worker process
    from trl import RLOOConfig

K, PROMPTS, NEW_TOKENS, BETA, LR, MICRO_PROMPTS = 4, 8, 32, 0.05, 3e-5, 2
DEFAULTS = {"tiny": (3, 10), "smollm2": (2, 2)}  # (warm-up, timed) updates per side
TASK = "summarization"


@dataclass(frozen=True)
class Work:
    """What both sides run: the model folder, the prompts in update order, the update count."""

    folder: str
    examples: tuple[Example, ...]  # PROMPTS per update
    updates: int


@dataclass(frozen=True)
class Timing:
    """One update of one side: wall seconds and mean tokens per completion."""

    seconds: float
    tokens: float


def peak_rss_gb() -> float:
    """Peak resident memory of this process in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def quiet() -> None:
    """Progress bars and deprecation warnings of the libraries off: the tables are the output."""
    import warnings

    from transformers.utils import logging

    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.set_verbosity_error()
    logging.disable_progress_bar()


def ours(conn: Connection, work: Work) -> None:
    """Our pipeline as benchmarks/throughput.py runs it: one `train_step` per "go"."""
    from harness.launch import build_config
    from harness.loop.budget import Spent
    from harness.loop.setup import prepare
    from harness.loop.step import train_step
    from harness.rundir.layout import create_run_dir

    quiet()
    with tempfile.TemporaryDirectory() as out:
        config = build_config(
            TASK, "rloo", policy=work.folder, seed=0, out=out,
            samples=work.updates * PROMPTS * K,
            overrides=[
                "eval.prompts=1", f"rollout.prompts_per_update={PROMPTS}",
                f"rollout.samples_per_prompt={K}", f"rollout.max_new_tokens={NEW_TOKENS}",
                "rollout.temperature=1.0", f"rollout.kl_coef={BETA}", f"lr={LR}",
                f"rollout.micro_batch_prompts={MICRO_PROMPTS}",
            ],
        )  # fmt: skip
        setup = prepare(config, Console(quiet=True), create_run_dir(config))
        policy = setup.policy
        texts = [policy.format(e.prompt) for e in work.examples]
        ids = [policy.tokenizer(t, add_special_tokens=not policy.chat)["input_ids"] for t in texts]
        conn.send((texts, ids, config.rollout.max_prompt_tokens))
        state = setup.algorithm.init(policy.model, setup.algo_config)
        prompts, spent = iter(work.examples), Spent()
        for _ in range(work.updates):
            conn.recv()
            started = time.perf_counter()
            row = train_step(setup, state, lambda n: [next(prompts) for _ in range(n)], spent)
            conn.send(Timing(time.perf_counter() - started, row["train/length"]))
        setup.log.close()
    conn.send(peak_rss_gb())


class Lockstep(TrainerCallback):
    """TRL's side of the turns: wait for "go" before each optimizer step, report its time after."""

    def __init__(self, conn: Connection, updates: int, lengths: Callable[[], list[float]]) -> None:
        self.conn, self.updates, self.lengths, self.started = conn, updates, lengths, 0.0

    def wait(self) -> None:
        """Block until the parent says "go"; the step's clock starts then."""
        self.conn.recv()
        self.started = time.perf_counter()

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: object
    ) -> None:
        """Hold the first step until it is TRL's turn."""
        self.wait()

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **_: object
    ) -> None:
        """Report this step, then hold the next one until it is TRL's turn again."""
        self.conn.send(Timing(time.perf_counter() - self.started, self.lengths()[-1]))
        if state.global_step < self.updates:
            self.wait()


def trl_config(out: str, updates: int) -> "RLOOConfig":
    """RLOOConfig for the same work as ours (see the module docstring)."""
    from trl import RLOOConfig

    return RLOOConfig(
        output_dir=out, use_cpu=True, bf16=False, gradient_checkpointing=False, seed=0,
        per_device_train_batch_size=MICRO_PROMPTS * K,
        gradient_accumulation_steps=PROMPTS // MICRO_PROMPTS,  # one generation per step
        num_generations=K, max_completion_length=NEW_TOKENS, temperature=1.0, top_p=1.0,
        top_k=0, beta=BETA, num_iterations=1, learning_rate=LR, lr_scheduler_type="constant",
        optim="adamw_torch", weight_decay=0.0, max_grad_norm=1.0, max_steps=updates,
        shuffle_dataset=False, disable_dropout=True, use_vllm=False, logging_strategy="no",
        save_strategy="no", report_to="none", disable_tqdm=True,
    )  # fmt: skip


def theirs(conn: Connection, work: Work, texts: list[str], ids: list[list[int]]) -> None:
    """TRL's RLOOTrainer on the same folder, prompts and reward; one optimizer step per "go"."""
    from datasets import Dataset
    from trl import RLOOTrainer

    from harness.data.task_files import task_factory

    quiet()
    reward, examples = task_factory(TASK)().reward, work.examples

    def rouge(
        prompts: list[str], completions: list[str], row: list[int], **_: object
    ) -> list[float]:
        """Our task reward on (example, completion); `**_` takes TRL's extra keyword arguments."""
        del prompts
        return list(reward([examples[i] for i in row], [c.strip() for c in completions]))

    with tempfile.TemporaryDirectory() as out:
        dataset = Dataset.from_dict({"prompt": texts, "row": list(range(len(texts)))})
        trainer = RLOOTrainer(
            model=work.folder, reward_funcs=rouge, args=trl_config(out, work.updates),
            train_dataset=dataset,
        )  # fmt: skip
        if trainer.processing_class(text=texts)["input_ids"] != ids:
            raise SystemExit("TRL tokenises the prompts differently from ours: not the same work")
        trainer.remove_callback(PrinterCallback)  # its end-of-training line would break the table
        lengths = trainer._metrics["train"]
        trainer.add_callback(
            Lockstep(conn, work.updates, lambda: lengths["completions/mean_length"])
        )
        conn.send("ready")
        trainer.train()
    conn.send(peak_rss_gb())


def gpt2_folder(folder: Path) -> str:
    """Save the tiny configuration's random-init GPT-2 and its 4,096-token tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from harness.data.task_files import task_factory
    from harness.policies.tiny import TinyRecipe, train_tokenizer

    recipe = TinyRecipe(vocab_size=4096, hidden_size=128, layers=2, heads=4)
    tokenizer = train_tokenizer(task_factory(TASK)().examples("train"), recipe)
    torch.manual_seed(recipe.seed)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_embd=recipe.hidden_size, n_layer=recipe.layers,
        n_head=recipe.heads, n_positions=recipe.max_positions, resid_pdrop=0.0, embd_pdrop=0.0,
        attn_pdrop=0.0, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def model_folder(name: str, scratch: Path) -> str:
    """The folder both sides load for a configuration.

    smollm2: links to our cached fp32 folder, except its config.json, which loses the
    `quantization_config` the GGUF conversion leaves behind: the weights are plain fp32, but
    with that entry transformers flags the model as quantized and `Trainer` refuses to train it.
    """
    if name == "tiny":
        return gpt2_folder(scratch / "gpt2-tiny")
    from harness.data.task_files import task_factory
    from harness.policies import smollm2
    from harness.policies.cache import cache_root

    cached, _ = smollm2.build(task_factory(TASK)(), cache_root())
    folder = scratch / "smollm2"
    folder.mkdir()
    for path in cached.iterdir():
        (folder / path.name).symlink_to(path.resolve())
    config = json.loads((cached / "config.json").read_text())
    config.pop("quantization_config", None)
    (folder / "config.json").unlink()
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    return str(folder)


def work_for(name: str, scratch: Path, updates: int) -> Work:
    """The folder and the first `updates` × PROMPTS prompts of our seeded training stream."""
    from itertools import islice

    from harness.data.task_files import task_factory
    from harness.run.runner import prompt_stream

    stream = prompt_stream(task_factory(TASK)().examples("train"), seed=0)
    examples = tuple(islice(stream, updates * PROMPTS))
    return Work(model_folder(name, scratch), examples, updates)


def start(target: Callable[..., None], args: tuple) -> tuple[Connection, Process]:
    """A worker process running target(conn, *args), and our end of its pipe."""
    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe()
    process = spawn.Process(target=target, args=(child, *args))
    process.start()
    child.close()  # a crashed worker then shows up here as EOFError, not as a hang
    return parent, process


def alternate(work: Work) -> tuple[dict[str, list[Timing]], dict[str, float]]:
    """Start both sides, run their updates in turns (ours, TRL, ours, ...); timings, peak RSS."""
    conn_ours, proc_ours = start(ours, (work,))
    texts, ids, limit = conn_ours.recv()  # our formatted prompts and their token ids
    if max(len(row) for row in ids) > limit:
        raise SystemExit(f"a prompt is longer than max_prompt_tokens ({limit}): not the same work")
    conn_trl, proc_trl = start(theirs, (work, texts, ids))
    conn_trl.recv()  # "ready": TRL's trainer is built
    conns = {"ours": conn_ours, "TRL": conn_trl}
    timings: dict[str, list[Timing]] = {side: [] for side in conns}
    for _ in range(work.updates):
        for side, conn in conns.items():
            conn.send("go")
            timings[side].append(conn.recv())
    peaks = {side: conn.recv() for side, conn in conns.items()}
    for process in (proc_ours, proc_trl):
        process.join()
    return timings, peaks


def table(
    name: str, warmup: int, timings: dict[str, list[Timing]], peaks: dict[str, float]
) -> Table:
    """One table per configuration: median s/update, completions/s, tokens, peak RSS, ratio."""
    medians = {
        side: statistics.median(t.seconds for t in rows[warmup:]) for side, rows in timings.items()
    }
    timed = len(timings["ours"]) - warmup
    result = Table(title=f"{name}: {PROMPTS} prompts × {K}, {NEW_TOKENS} new tokens, "
                   f"median of {timed} updates after {warmup} warm-up, alternating")  # fmt: skip
    for column in ("side", "s/update", "min–max", "completions/s", "tok/compl", "peak RSS GB"):
        result.add_column(column, justify="right")
    for side, rows in timings.items():
        seconds = [t.seconds for t in rows[warmup:]]
        result.add_row(
            side, f"{medians[side]:.3f}", f"{min(seconds):.3f}–{max(seconds):.3f}",
            f"{PROMPTS * K / medians[side]:.2f}",
            f"{statistics.mean(t.tokens for t in rows[warmup:]):.1f}", f"{peaks[side]:.2f}",
        )  # fmt: skip
    result.caption = f"ratio TRL / ours = {medians['TRL'] / medians['ours']:.2f} (> 1: ours faster)"
    return result


def main() -> None:
    """Parse arguments, run each configuration A B A B, print one table each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=("tiny", "smollm2", "both"), default="both")
    parser.add_argument("--updates", type=int, help="timed updates per side (tiny 10, smollm2 2)")
    parser.add_argument("--warmup", type=int, help="untimed updates per side (tiny 3, smollm2 2)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # every folder is local; never reach the hub
    quiet()
    names = ("tiny", "smollm2") if args.config == "both" else (args.config,)
    console = Console(width=120)
    for name in names:
        warmup = DEFAULTS[name][0] if args.warmup is None else args.warmup
        updates = DEFAULTS[name][1] if args.updates is None else args.updates
        if updates < 1 or warmup < 0:
            raise SystemExit(f"--updates must be ≥ 1 and --warmup ≥ 0 (got {updates}, {warmup})")
        with tempfile.TemporaryDirectory() as scratch:
            timings, peaks = alternate(work_for(name, Path(scratch), warmup + updates))
        console.print(table(name, warmup, timings, peaks))


if __name__ == "__main__":
    main()
