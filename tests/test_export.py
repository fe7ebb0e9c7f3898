"""Exporting a trained policy: an HF folder that from_pretrained and `--policy PATH` load."""

import json
from pathlib import Path

import torch
from rich.console import Console
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, GenerationConfig
from typer.testing import CliRunner

from harness.cli import app
from harness.launch import build_config, run

SMALL = [
    "prompts_per_update=2",
    "rollout.samples_per_prompt=2",
    "eval.prompts=2",
    "task.max_source_words=30",
    "task.max_new_tokens=8",
    "lr=1e-3",
    "rollout.advantage=gae",  # a value head, which the export must leave out
]


def test_save_policy_writes_a_folder_that_loads_and_trains(bench_cache, tmp_path):
    config = build_config(
        "summarization", "reinforce", policy="tiny", samples=8, seed=0, out=str(tmp_path),
        overrides=[*SMALL, "checkpoint.keep=true"],
    )  # fmt: skip
    run_dir = run(config, Console(quiet=True), export=True)
    folder = run_dir / "policy"
    model = AutoModelForCausalLM.from_pretrained(folder)
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)["model"]
    weights = load_file(folder / "model.safetensors")
    assert not any(key.startswith("value_head") for key in weights)
    for name, tensor in model.state_dict().items():  # the trained weights, not the start ones
        torch.testing.assert_close(tensor, checkpoint[name], atol=0, rtol=0)
    generation = GenerationConfig.from_pretrained(folder)
    assert generation.repetition_penalty in (None, 1.0) and not generation.do_sample
    card = (folder / "README.md").read_text()
    result = json.loads((run_dir / "result.json").read_text())
    assert "reinforce" in card and f"{result['eval_after']['test']['eval/reward']:.4f}" in card
    again = build_config(
        "summarization", "reinforce", policy=str(folder), samples=4, seed=1,
        out=str(tmp_path / "again"), overrides=SMALL,
    )  # fmt: skip
    assert (run(again, Console(quiet=True)) / "result.json").exists()


def test_bench_export_writes_a_kept_checkpoint_and_refuses_a_run_without_one(bench_cache, tmp_path):
    config = build_config(
        "summarization", "reinforce", policy="tiny", samples=8, seed=0, out=str(tmp_path),
        overrides=[*SMALL, "checkpoint.keep=true"],
    )  # fmt: skip
    run_dir = run(config, Console(quiet=True), export=True)
    result = CliRunner().invoke(app, ["export", str(run_dir), "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    exported = load_file(tmp_path / "x" / "model.safetensors")
    saved = load_file(run_dir / "policy" / "model.safetensors")
    assert exported.keys() == saved.keys()
    assert all(torch.equal(exported[k], saved[k]) for k in saved)
    (run_dir / "checkpoint.pt").unlink()
    refused = CliRunner().invoke(app, ["export", str(run_dir)])
    assert refused.exit_code == 2 and "has no checkpoint.pt" in refused.output
    missing = CliRunner().invoke(app, ["export", str(Path(tmp_path) / "nowhere")])
    assert missing.exit_code == 2 and "cannot read config file" in missing.output
