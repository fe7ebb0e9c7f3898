"""Does dialogue's reward model pay for echoing? Mean reward of three replies per val prompt.

For each of the first N val prompts of the dialogue task this scores, with the task's reward
(and with the judge behind `judge_rm`): the real next turn, the context's last turn repeated
(an echo, what a policy copying its prompt would write) and a turn of another val chat. A
reward model that scores the echo above the real reply pays a policy for copying. It trains
the recipes on first use (cached in BENCH_CACHE), so the first call takes a few minutes.

    python benchmarks/dialogue_echo.py --prompts 100
"""

import argparse

from rich.console import Console
from rich.table import Table

from harness.api.task import Example
from tasks.dialogue import JUDGE_RECIPE, chat_context, dialogue
from tasks.rewards.learned import learned


def last_turn(example: Example) -> str:
    """The context's last turn, without its speaker label."""
    return chat_context(example).rsplit("\n", 1)[-1].split(": ", 1)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=100)
    args = parser.parse_args()
    task = dialogue()
    examples = task.examples("val")[: args.prompts]
    replies = {
        "real reply": [e.references[0] for e in examples],
        "echo of the last turn": [last_turn(e) for e in examples],
        "another chat's reply": [e.references[0] for e in examples[1:] + examples[:1]],
    }
    judge = learned(path=JUDGE_RECIPE.name, context=chat_context, recipe=JUDGE_RECIPE)
    table = Table(title=f"dialogue (task version {task.version}), {len(examples)} val prompts")
    for column in ("reply", "reward (mean)", "judge_rm (mean)", "above the real reply"):
        table.add_column(column)
    real = task.reward(examples, replies["real reply"])
    for name, texts in replies.items():
        scores = task.reward(examples, texts)
        judged = judge(examples, texts)
        above = sum(s > r for s, r in zip(scores, real, strict=True)) / len(examples)
        row = (f"{sum(scores) / len(scores):.3f}", f"{sum(judged) / len(judged):.3f}")
        table.add_row(name, *row, "—" if name == "real reply" else f"{above:.0%}")
    Console().print(table)


if __name__ == "__main__":
    main()
