"""Dialogue's reward-model data, card probes and recipes (task versions 5 and 6).

Both models read (context, real reply, another chat's turn) pairs from the training chats plus
hard negatives (`probes.py`); both are cards' subjects on the val prompts, where the `partial_copy`
family, in neither model's data, tests whether "do not copy" generalised.
- The reward model (`dialogue`): one pair per training chat, as up to version 4 (the same
  draws, so its held-out ordinary pairs are version 4's), each with five hard negatives: echo,
  an earlier turn, a far turn of the same chat, a generic reply from one half of
  `GENERIC_REPLIES` and the reply truncated or said twice; an MLP head on `copy+context`.
- The judge (`dialogue-judge`): turns the reward model's reserve never read, seed 1, three of
  the five families per pair (its own mix), the other half of `GENERIC_REPLIES`, and another
  feature set (`copy+turns`: no embedding of the whole context), so the two do not share a
  head, data or negatives (they do share the frozen MiniLM encoder).

Version 6 fits each head on the first 400 of its training pairs (version 5: all 1,200 and 800),
holding out the same pairs: from 300-400 pairs on, both heads' held-out accuracy and card
figures were within noise of all the pairs' (docs/tasks-and-rewards.md), and embedding the rest
took ≈ 50 s of the task's first use.
"""

import random
from collections.abc import Sequence
from dataclasses import replace

from tasks.dialogue import chat_of, chitchat_split, clip, next_turn_examples, render_prompt
from tasks.rewards import probes
from tasks.rewards.cards import Probe
from tasks.rewards.training import Recipe, Record, RewardTrainConfig, load_data

RESERVED_PAIRS = 2500  # the RM's pairs up to version 3: the judge reads none of their turns
HARD = ("echo", "earlier_turn", "same_chat", "generic", "truncated")  # both models train on
JUDGE_FAMILIES_PER_PAIR = 3  # of HARD, drawn per pair: the judge's own mix
Turn = tuple[str, int]  # (chat id, turn index): where a text the reward models read comes from


def train_chats() -> list[tuple[str, tuple[str, ...]]]:
    """The training chats the reward models read: those with a 3-turn context and a reply."""
    return [chat for chat in chitchat_split("train") if len(chat[1]) >= 4]


def far_turns(size: int, t: int, context_turns: int = 3) -> list[int]:
    """Turns of a chat of `size` turns at least 2 from reply turn t and outside its context."""
    return [s for s in range(size) if abs(s - t) >= 2 and not t - context_turns <= s < t]


def hard_negatives(
    turns: Sequence[str],
    t: int,
    families: Sequence[str],
    rng: random.Random,
    generic: Sequence[str],
) -> tuple[tuple[tuple[str, str], ...], set[int]]:
    """((family, text) negatives of reply turn t, the far turns they read); families absent
    for this reply (a generic real reply, no far turn) are skipped."""
    context = [clip(turn) for turn in turns[t - 3 : t]]
    reply = clip(turns[t])
    negatives, read = [], set()
    for family in families:
        if family == "echo":
            text = probes.echo(context)
        elif family == "earlier_turn":
            text = probes.earlier_turn(context, rng)
        elif family == "same_chat":
            far = far_turns(len(turns), t)
            s = rng.choice(far) if far else None
            text = None if s is None else clip(turns[s])
            read |= set() if s is None else {s}
        elif family == "generic":
            text = probes.generic(reply, rng, generic)
        else:
            text = probes.truncated(reply)
        if text is not None:
            negatives.append((family, text))
    return tuple(negatives), read


def pair_record(turns: Sequence[str], t: int, other: str) -> Record:
    """(the 3 turns before turn t, turn t, another chat's turn) as a reward-model pair."""
    context = chat_of(render_prompt([clip(turn) for turn in turns[t - 3 : t]]))
    return Record(context, clip(turns[t]), other=clip(other))


def window(chat_id: str, t: int) -> set[Turn]:
    """The turns of its own chat a pair with reply turn t reads: the 3-turn context and t."""
    return {(chat_id, s) for s in range(t - 3, t + 1)}


def reward_pairs(seed: int) -> list[tuple[Record, frozenset[Turn]]]:
    """The reward model's candidate pairs, one per training chat, with the turns each reads.

    t and the other chat's turn are version 4's draws; the hard negatives draw from a stream of
    their own per chat, so adding them changed no ordinary pair.
    """
    chats = train_chats()
    order = random.Random(seed)
    pairs = []
    for i, (chat_id, turns) in enumerate(chats):
        t = order.randrange(3, len(turns))
        other_id, other = chats[(i + order.randrange(1, len(chats))) % len(chats)]
        k = order.choice(range(len(other)))  # the draw order.choice(other) makes
        rng = random.Random(f"reward-model {seed} {chat_id}")
        negatives, far = hard_negatives(turns, t, HARD, rng, probes.GENERIC_REPLIES[0::2])
        read = window(chat_id, t) | {(other_id, k)} | {(chat_id, s) for s in far}
        record = replace(pair_record(turns, t, other[k]), negatives=negatives)
        pairs.append((record, frozenset(read)))
    return pairs


def reward_records(seed: int) -> list[Record]:
    """Reward-model pairs: (context, real reply, another chat's reply) and hard negatives."""
    return [record for record, _ in reward_pairs(seed)]


def reward_model_turns() -> set[Turn]:
    """Every turn the reward model's reserved pairs read (trained on or held out): the first
    `RESERVED_PAIRS` of its draws (it reads the first 1,500, a prefix: `random.sample` with one
    seed), their far turns included."""
    reserved = replace(REWARD_RECIPE.config, max_examples=RESERVED_PAIRS)
    data = set(load_data(reserved, REWARD_RECIPE.records))
    pairs = reward_pairs(REWARD_RECIPE.config.seed)
    return set().union(*(read for record, read in pairs if record in data))


def judge_pairs(seed: int) -> list[tuple[Record, frozenset[Turn]]]:
    """Pairs that read no turn of the reward model's data: one per training chat that has a
    free 4-turn window, against a free turn of another chat, with three hard negatives whose
    far turn (if drawn) is free too.

    The reward model's reserve holds 2,500 of the 2,911 chats long enough and its negatives touch
    most of the rest, so whole chats cannot be set apart; but a pair reads only a few turns and
    most chats (median 25 turns) keep a window it never read, so the two models share no turn.
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
        rng = random.Random(f"judge {seed} {chat_id}")
        families = rng.sample(HARD, JUDGE_FAMILIES_PER_PAIR)
        unused = [turn if (chat_id, i) not in used else "" for i, turn in enumerate(turns)]
        negatives, far = hard_negatives(unused, t, families, rng, probes.GENERIC_REPLIES[1::2])
        negatives = tuple((f, text) for f, text in negatives if text)  # a used far turn: none
        far = {s for s in far if (chat_id, s) not in used}
        read = window(chat_id, t) | {(other_id, k)} | {(chat_id, s) for s in far}
        record = replace(pair_record(turns, t, turns_of[other_id][k]), negatives=negatives)
        pairs.append((record, frozenset(read)))
    return pairs


def judge_records(seed: int) -> list[Record]:
    """The judge's pairs and hard negatives, disjoint from the reward model's turns."""
    return [record for record, _ in judge_pairs(seed)]


def val_probes() -> list[Probe]:
    """The cards' probes: every val prompt of the task's defaults (3 turns, replies ≤ 30 words)
    with one probe per family, drawn from a stream of its own per prompt (its id)."""
    chats = chitchat_split("val")
    turns_of = dict(chats)
    examples = next_turn_examples(chats, context_turns=3, max_reply_words=30)
    found = []
    for i, example in enumerate(examples):
        chat_id, t = example.id.rsplit(":", 1)
        rng = random.Random(example.id)
        context = chat_of(example.prompt)
        turns = probes.context_turns(context)
        real = example.references[0]
        far = far_turns(len(turns_of[chat_id]), int(t))
        candidates = {
            "echo": probes.echo(turns),
            "earlier_turn": probes.earlier_turn(turns, rng),
            "partial_copy": probes.partial_copy(turns, rng),
            "same_chat": clip(turns_of[chat_id][rng.choice(far)]) if far else None,
            "generic": probes.generic(real, rng, probes.GENERIC_PROBES),
            "truncated": probes.truncated(real),
            "other_chat": examples[(i + 1) % len(examples)].references[0],
        }
        kept = tuple((f, text) for f, text in candidates.items() if text is not None)
        found.append(Probe(context, real, kept))
    return found


REWARD_RECIPE = Recipe(
    name="dialogue",
    config=RewardTrainConfig(
        kind="pairs",
        data="chitchat",
        max_examples=1500,  # the held-out 300 are version 4's (its 0.820 was measured on them)
        train_examples=400,
        max_length=128,
        encoder="frozen",
        features="copy+context",
    ),
    records=reward_records,
    probes=val_probes,
    trained_families=(*HARD, probes.ORDINARY),
)
JUDGE_RECIPE = Recipe(  # other turns, seed, mix of negatives, generic replies and features
    name="dialogue-judge",
    config=replace(
        REWARD_RECIPE.config,
        data="chitchat-judge",
        seed=1,
        max_examples=1000,  # 200 held out; trains on 400, as the reward model does
        features="copy+turns",
    ),
    records=judge_records,
    probes=val_probes,
    trained_families=(*HARD, probes.ORDINARY),
)
