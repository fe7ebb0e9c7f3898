"""Dialogue: write the next turn of a real human–human chat (chitchat-dataset, offline).

Context = the last `context_turns` turns, reference = the real next turn. The reward is a
learned reward model trained to tell the real next turn from a turn of another chat (built from
this task's training split; see `tasks/rewards/learned.py` for how it is trained on first use).
Evaluations also report `judge_rm`, a second reward model trained the same way (the
`dialogue-judge` recipe) on turns the task's reward model never read and with another seed,
and `reference_reward`, the task's reward model's score of the real replies (its ceiling).
A hub alternative is DailyDialog (`-o task.source=li2017dailydialog/daily_dialog`, rows with a
`dialog` list of turns), or a local jsonl file with the same `dialog` column.
"""

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError
from harness.api.task import Example, Generation, Reward, TaskSpec
from harness.data.records import load_records
from harness.data.splits import md5_bucket, share_of
from tasks.rewards.composite import composite
from tasks.rewards.judges import judged
from tasks.rewards.learned import learned
from tasks.rewards.lexical import BleuReward, rouge_f
from tasks.rewards.training import Recipe, Record, RewardTrainConfig, load_data

# 4: the RM reads the first 1,500 of its 2,500 pairs (first use under 3 minutes; the judge is
# unchanged); 3: pairs reward models score σ(s − held-out mean) (version 2's RM read σ ≈ 1e-8 for
# every reply); 2: RM a head on a frozen encoder, judge a bf16 fine-tune, tiny 400 steps
VERSION = "4"
RESERVED_PAIRS = 2500  # the RM's pairs up to version 3: the judge reads none of their turns
SHARES = {"train": (0, 90), "val": (90, 95), "test": (95, 100)}  # percent buckets of a chat hash
INSTRUCTION = "Write the next reply in this chat."
MAX_TURN_WORDS = 40
Turn = tuple[str, int]  # (chat id, turn index): where a text the reward models read comes from


def dialogue(
    source: str = "chitchat",
    context_turns: int = 3,
    max_reply_words: int = 30,
    train_size: int = 2000,
    reward_model: str = "dialogue",
    length_penalty: float = 0.0,
    max_new_tokens: int = 32,
    hub_config: str | None = None,
    judge_model: str = "dialogue-judge",
) -> TaskSpec:
    """The next-turn dialogue task.

    source: 'chitchat' (embedded), a local .jsonl/.csv path or a hub id with a `dialog` column.
    reward_model: a recipe name ('dialogue': trained on first use, cached) or a folder saved by
    `bench reward train`. length_penalty > 0 subtracts that much per word beyond max_reply_words.
    judge_model: the second reward model behind `judge_rm` (a recipe name or a saved folder);
    the `dialogue-judge` recipe is trained at the first evaluation (≈ 1.5 min on 2 quiet CPU cores).
    """
    if context_turns < 1:
        raise BenchError(f"context_turns must be ≥ 1 (got {context_turns})")
    model = learned(path=reward_model, context=chat_context, recipe=REWARD_RECIPE)
    judge = learned(path=judge_model, context=chat_context, recipe=JUDGE_RECIPE)
    reward: Reward = model
    if length_penalty > 0:
        reward = composite({"learned": (1.0, model)}, length_penalty, max_reply_words)

    def load_split(split: str) -> list[Example]:
        chats = (
            chitchat_split(split) if source == "chitchat" else hub_chats(source, split, hub_config)
        )
        return next_turn_examples(chats, context_turns, max_reply_words)

    return TaskSpec(
        name="dialogue",
        version=VERSION,
        description="chitchat-dataset: chat context → the next reply; reward: learned RM",
        load_split=load_split,
        reward=reward,
        score_metrics=judged(dialogue_metrics, model, {"judge_rm": judge}),
        generation=Generation(max_new_tokens=max_new_tokens),
        train_size=train_size,
    )


def render_prompt(turns: Sequence[str]) -> str:
    """The instruction, the chat with alternating A/B speakers, and the next speaker's cue."""
    speakers = "AB" if len(turns) % 2 == 0 else "BA"
    lines = [f"{speakers[i % 2]}: {turn}" for i, turn in enumerate(turns)]
    return f"{INSTRUCTION}\n\n" + "\n".join(lines) + f"\n{speakers[len(turns) % 2]}:"


def chat_of(prompt: str) -> str:
    """The chat lines inside a rendered prompt (what the reward model sees as context)."""
    body = prompt.removeprefix(f"{INSTRUCTION}\n\n")
    return body.rsplit("\n", 1)[0]


def chat_context(example: Example) -> str:
    """What the reward model sees before a reply: the chat lines of the example's prompt."""
    return chat_of(example.prompt)


def clip(text: str, words: int = MAX_TURN_WORDS) -> str:
    """A turn cut to its first `words` words."""
    parts = " ".join(text.split()).split(" ")
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


@cache
def chitchat_chats() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(chat id, turns) of every chat in chitchat-dataset; a turn joins one sender's messages."""
    spec = find_spec("chitchat_dataset")
    if spec is None or not spec.submodule_search_locations:
        raise BenchError(
            "chitchat-dataset is missing; install it with: pip install chitchat-dataset"
        )
    path = Path(spec.submodule_search_locations[0]) / "dataset.json"
    data = json.loads(path.read_text())
    return tuple(
        (chat_id, tuple(" ".join(m["text"] for m in turn) for turn in chat["messages"]))
        for chat_id, chat in data.items()
    )


def split_of(chat_id: str) -> str:
    """The split of a chat, from a hash of its id (all turns of a chat share a split)."""
    return share_of(md5_bucket(chat_id), SHARES)


def chitchat_split(split: str) -> list[tuple[str, tuple[str, ...]]]:
    """The chats of one split, in a hash order."""
    chats = [chat for chat in chitchat_chats() if split_of(chat[0]) == split]
    return sorted(chats, key=lambda chat: hashlib.sha1(chat[0].encode()).hexdigest())


def hub_chats(source: str, split: str, hub_config: str | None) -> list[tuple[str, tuple[str, ...]]]:
    """Chats from a hub/local source with a `dialog` column (DailyDialog's layout)."""
    rows: list[dict[str, Any]] = load_records(source, split, hub_config)
    if rows and "dialog" not in rows[0]:
        raise BenchError(f"column 'dialog' not in data (columns: {', '.join(sorted(rows[0]))})")
    return [(str(row.get("id", i)), tuple(map(str, row["dialog"]))) for i, row in enumerate(rows)]


def next_turn_examples(
    chats: Sequence[tuple[str, Sequence[str]]], context_turns: int, max_reply_words: int
) -> list[Example]:
    """One example per chat: the first turn from the 4th on whose reply is short enough.

    One example per chat keeps the examples independent (no chat in two prompts of a batch).
    """
    examples = []
    for chat_id, turns in chats:
        for t in range(max(3, context_turns), len(turns)):
            reply = " ".join(turns[t].split())
            if 0 < len(reply.split()) <= max_reply_words:
                context = [clip(turn) for turn in turns[t - context_turns : t]]
                examples.append(Example(f"{chat_id}:{t}", render_prompt(context), (reply,)))
                break
    return examples


def dialogue_metrics(examples: Sequence[Example], completions: Sequence[str]) -> dict[str, float]:
    """Mean sentence BLEU (0..1) and ROUGE-L against the real reply.

    Named `sentence_bleu`, not `bleu`: translation's `bleu` is corpus BLEU on sacrebleu's 0..100
    scale. Distinct-n, self-BLEU and length come from the shared evaluation for every task.
    The task's metrics add `judge_rm` and `reference_reward` (see the module docstring).
    """
    bleu = BleuReward()(examples, completions)
    rouge_l = rouge_f(examples, completions, ("rougeL",))["rougeL"]
    return {
        "sentence_bleu": sum(bleu) / max(len(bleu), 1),
        "rougeL": sum(rouge_l) / max(len(rouge_l), 1),
    }


def train_chats() -> list[tuple[str, tuple[str, ...]]]:
    """The training chats the reward models read: those with a 3-turn context and a reply."""
    return [chat for chat in chitchat_split("train") if len(chat[1]) >= 4]


def pair_record(turns: Sequence[str], t: int, other: str) -> Record:
    """(the 3 turns before turn t, turn t, another chat's turn) as a reward-model pair."""
    context = chat_of(render_prompt([clip(turn) for turn in turns[t - 3 : t]]))
    return Record(context, clip(turns[t]), other=clip(other))


def window(chat_id: str, t: int) -> set[Turn]:
    """The turns of its own chat a pair with reply turn t reads: the 3-turn context and t."""
    return {(chat_id, s) for s in range(t - 3, t + 1)}


def reward_pairs(seed: int) -> list[tuple[Record, frozenset[Turn]]]:
    """The reward model's candidate pairs, one per training chat, with the turns each reads."""
    chats = train_chats()
    order = random.Random(seed)
    pairs = []
    for i, (chat_id, turns) in enumerate(chats):
        t = order.randrange(3, len(turns))
        other_id, other = chats[(i + order.randrange(1, len(chats))) % len(chats)]
        k = order.choice(range(len(other)))  # the draw order.choice(other) makes
        read = frozenset(window(chat_id, t) | {(other_id, k)})
        pairs.append((pair_record(turns, t, other[k]), read))
    return pairs


def reward_records(seed: int) -> list[Record]:
    """Reward-model pairs from the training chats: (context, real reply, another chat's reply)."""
    return [record for record, _ in reward_pairs(seed)]


def reward_model_turns() -> set[Turn]:
    """Every turn the reward model's reserved pairs read (trained on or held out).

    The reserve is the RM's data up to task version 3 (`RESERVED_PAIRS`); since version 4 the RM
    reads its first 1,500 (a prefix: `random.sample` with one seed), so the judge's data, and
    with it the cached judge, stay what they were.
    """
    reserved = replace(REWARD_RECIPE.config, max_examples=RESERVED_PAIRS)
    data = set(load_data(reserved, REWARD_RECIPE.records))
    pairs = reward_pairs(REWARD_RECIPE.config.seed)
    return set().union(*(read for record, read in pairs if record in data))


def judge_pairs(seed: int) -> list[tuple[Record, frozenset[Turn]]]:
    """Pairs that read no turn of the reward model's data: one per training chat that has a
    free 4-turn window, against a free turn of another chat.

    The reward model's reserve holds 2,500 of the 2,911 chats long enough and its negatives touch
    most of the rest, so whole chats cannot be set apart without retraining it (and changing
    published numbers); but a pair reads only 5 turns and most chats (median 25 turns) keep a
    window it never read, so the two models share no turn.
    """
    used = reward_model_turns()
    chats = train_chats()
    turns_of = dict(chats)
    spare = [(c, k) for c, turns in chats for k in range(len(turns)) if (c, k) not in used]
    order = random.Random(seed)
    pairs = []
    for chat_id, turns in chats:
        free = [t for t in range(3, len(turns)) if used.isdisjoint(window(chat_id, t))]
        if not free:
            continue
        t = order.choice(free)
        other_id, k = order.choice(spare)
        while other_id == chat_id:
            other_id, k = order.choice(spare)
        read = frozenset(window(chat_id, t) | {(other_id, k)})
        pairs.append((pair_record(turns, t, turns_of[other_id][k]), read))
    return pairs


def judge_records(seed: int) -> list[Record]:
    """The judge's pairs: (context, real reply, another chat's reply), disjoint from the RM's."""
    return [record for record, _ in judge_pairs(seed)]


REWARD_RECIPE = Recipe(  # a head on frozen MiniLM: 0.820 held out on 1,500 pairs (0.842 on 2,500;
    name="dialogue",  # the fine-tuned one of version 1: 0.744)
    config=RewardTrainConfig(
        kind="pairs", data="chitchat", max_examples=1500, max_length=128, encoder="frozen"
    ),
    records=reward_records,
)
JUDGE_RECIPE = Recipe(  # other turns, another seed and another kind of model: a fine-tuned
    name="dialogue-judge",  # cross-encoder, so it does not share the reward model's blind spots
    config=replace(
        REWARD_RECIPE.config,
        data="chitchat-judge",
        seed=1,
        max_examples=1000,
        encoder="finetune",
        precision="bf16",
    ),
    records=judge_records,
)
