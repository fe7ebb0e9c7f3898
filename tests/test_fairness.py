"""Fair sampling: tokens come from softmax(logits / T) whatever the policy's own defaults say."""

import json
import shutil

from rich.console import Console
from transformers import GenerationConfig

from harness.api.task import Example
from harness.launch import build_config, run
from harness.policies.policy import load_policy, policy_folder
from harness.run.rollout import encode_prompts

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
