"""Dialogue: write the next turn of a real human–human chat (chitchat-dataset, offline).

Context = the last `context_turns` turns, reference = the real next turn. The reward is a
learned reward model trained to tell the real next turn from a turn of another chat and from
hard negatives (`tasks/rewards/probes.py`: an echo of the last turn, an earlier turn, a far turn
of the same chat, a generic reply, the real reply truncated or said twice), built from this
task's training split and trained on first use (`tasks/rewards/learned.py`). Evaluations also
report `judge_rm`, a second reward model (the `dialogue-judge` recipe) with its own features,
its own mix of negatives, another seed and turns the task's reward model never read, and
`reference_reward`, the task's reward model's mean score of the real replies (not a ceiling: a
text can score above the real reply). Both models' cards (`bench reward card dialogue`) say how
often the real reply beats each probe family on val prompts, partial copies held out of both.
A hub alternative is DailyDialog (`-o task.source=li2017dailydialog/daily_dialog`, rows with a
`dialog` list of turns), or a local jsonl file with the same `dialog` column.
"""

import hashlib
import json
from collections.abc import Sequence
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
from tasks.rewards.training import load_recipe

# 6: both heads fit on the first 400 of their training pairs, same held-out pairs (first use);
# 5: hard negatives (probes.py families) for both models, the RM a copy-feature MLP head, the
# judge another frozen-encoder head (its own features and mix); 4: the RM reads the first 1,500
# of its 2,500 pairs (first use under 3 minutes; the judge is unchanged); 3: pairs reward
# models score σ(s − held-out mean) (version 2's RM read σ ≈ 1e-8 for every reply);
# 2: RM a head on a frozen encoder, judge a bf16 fine-tune, tiny 400 steps
VERSION = "6"
SHARES = {"train": (0, 90), "val": (90, 95), "test": (95, 100)}  # percent buckets of a chat hash
INSTRUCTION = "Write the next reply in this chat."
MAX_TURN_WORDS = 40


#: chitchat-dataset: chat context → next reply; reward learned RM (real vs other chat)
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
    the `dialogue-judge` recipe is trained at the first evaluation (≈ 1 min on 2 quiet CPU cores).
    """
    if context_turns < 1:
        raise BenchError(f"context_turns must be ≥ 1 (got {context_turns})")
    # by name: the recipes' module (tasks/rewards/dialogue_pairs.py) imports this one
    model = learned(path=reward_model, context=chat_context, recipe=load_recipe("dialogue"))
    judge = learned(path=judge_model, context=chat_context, recipe=load_recipe("dialogue-judge"))
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
        echo=True,
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
