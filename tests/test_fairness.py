"""Fair sampling: tokens come from softmax(logits / T) whatever the policy's defaults or the
eval batch size."""

import json
import shutil

import torch
from rich.console import Console
from transformers import GenerationConfig

from harness.api.task import Example
from harness.launch import build_config, run
from harness.loop.heldout import EvalSettings, evaluate
from harness.loop.rollout import encode_prompts
from harness.policies.policy import load_policy, policy_folder
from harness.policies.sampling import SeededGumbel, row_seed

FAST = [
    "prompts_per_update=2",
    "rollout.samples_per_prompt=4",
    "eval.prompts=4",
    "task.max_source_words=40",
    "task.max_new_tokens=12",
    "lr=1e-3",
]


def run_result(folder, out) -> dict:
    config = build_config(
        "summarization", "reinforce", policy=str(folder), samples=16, out=str(out), overrides=FAST
    )
    return json.loads((run(config, Console(quiet=True)) / "result.json").read_text())


def test_a_policy_generation_config_does_not_change_sampling(
    bench_cache, summarization_task, tmp_path
):
    source, _ = policy_folder("tiny", summarization_task)
    plain, biased = tmp_path / "plain", tmp_path / "biased"
    shutil.copytree(source, plain)
    shutil.copytree(source, biased)
    (plain / "generation_config.json").unlink(missing_ok=True)
    GenerationConfig(
        repetition_penalty=1.3, no_repeat_ngram_size=2, min_new_tokens=3
    ).save_pretrained(biased)
    policy, _ = load_policy(str(biased), summarization_task, "cpu")
    assert set(policy.overridden) == {
        "repetition_penalty=1.3",
        "no_repeat_ngram_size=2",
        "min_new_tokens=3",
    }
    first, second = run_result(plain, tmp_path / "a"), run_result(biased, tmp_path / "b")
    assert first["eval_before"] == second["eval_before"]
    assert first["eval_after"] == second["eval_after"]
    assert first["curve"] == second["curve"]


def test_long_prompts_are_cut_from_the_left(tiny_policy):
    prompt = "word " * 400 + "\n\nTitle:"
    ids, mask = encode_prompts(tiny_policy, [Example("x", prompt, ("t",))], max_prompt_tokens=16)
    assert ids.shape == (1, 16) and mask.all()
    full = tiny_policy.tokenizer(prompt)["input_ids"]
    assert ids[0].tolist() == full[-16:]
    assert tiny_policy.tokenizer.decode(ids[0]).endswith("Title:")


def test_heldout_samples_do_not_depend_on_the_eval_batch_size(tiny_policy, summarization_task):
    examples = summarization_task.examples("test")[:4]

    def draw(batch_prompts: int):
        settings = EvalSettings(
            samples_per_prompt=2,
            batch_prompts=batch_prompts,
            max_new_tokens=12,
            temperature=1.0,
            max_prompt_tokens=64,
            micro_batch_prompts=2,
            seed=3,
        )
        return evaluate(tiny_policy, tiny_policy, summarization_task, examples, settings)

    one, four = draw(1), draw(4)
    texts = [s["generation"] for s in one.samples]
    assert texts == [s["generation"] for s in four.samples]
    assert len(set(texts)) > 1  # and they are samples, not one repeated string
    assert one.metrics["eval/reward"] == four.metrics["eval/reward"]


def test_seeded_gumbel_draws_from_the_tempered_softmax():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    temperature, rows = 0.7, 4000
    noise = SeededGumbel([row_seed("t", i) for i in range(rows)], temperature, logits.device)
    picks = noise(torch.zeros(rows, 1, dtype=torch.long), logits.expand(rows, -1)).argmax(-1)
    observed = torch.bincount(picks, minlength=4).float() / rows
    expected = torch.softmax(logits / temperature, -1)
    assert torch.allclose(observed, expected, atol=0.025), (observed, expected)
