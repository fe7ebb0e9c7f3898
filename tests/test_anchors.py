"""Anchor rows: `start` once per seed whatever the algorithm, `lead-n` scored like a policy."""

import json

from rich.console import Console

from harness.api.task import Example
from harness.launch import build_config, run
from harness.run.anchors import lead, lead_length

FAST = [
    "prompts_per_update=2",
    "rollout.samples_per_prompt=2",
    "rollout.advantage=batch-mean",
    "eval.prompts=4",
    "eval.every=0",
    "task.max_source_words=40",
    "task.max_new_tokens=12",
]


def test_lead_n_takes_the_mean_train_reference_length_in_source_words():
    train = [Example("a", "p", ("one two three",)), Example("b", "p", ("one two three four",))]
    assert lead_length(train) == 4  # mean 3.5 words rounds to 4 (round half to even)
    example = Example("c", "Summarize: x y", ("r",), source="w1 w2 w3 w4 w5")
    assert lead(example, 3) == "w1 w2 w3"
    assert lead(Example("d", "only prompt words", ("r",)), 2) == "only prompt"


def test_start_and_lead_rows_are_written_once_per_seed(bench_cache, tmp_path):
    results = {}
    for algo in ("reinforce", "ppo"):
        config = build_config(
            "summarization", algo, policy="tiny", samples=4, out=str(tmp_path), overrides=FAST
        )
        run_dir = run(config, Console(quiet=True))
        results[algo] = json.loads((run_dir / "result.json").read_text())
    root = tmp_path / "summarization"
    assert sorted(p.name for p in root.iterdir()) == ["lead-9", "ppo", "reinforce", "start"]
    (start_dir,) = (root / "start").iterdir()
    (lead_dir,) = (root / "lead-9").iterdir()
    start = json.loads((start_dir / "result.json").read_text())
    assert start["role"] == "baseline" and start["algo"] == "start"  # an anchor row, on disk
    assert start["stop_reason"] == "baseline" and start["seed"] == 0
    assert start["eval_after"] == results["reinforce"]["eval_before"]
    assert start["eval_after"] == results["ppo"]["eval_before"]  # same policy, same draws
    assert start["spent"]["samples"] == 0 and start["config"]["algo_config"] == {}
    leads = json.loads((lead_dir / "result.json").read_text())
    for split in ("val", "test"):
        copied = leads["eval_after"][split]
        assert copied["eval/copy_rate"] == 1.0 and copied["eval/novel_bigrams"] == 0.0
        assert copied["eval/coverage"] == 1.0 and copied["eval/length"] <= 9
        assert "eval/kl_exact" not in copied  # a text anchor has no policy
    samples = (lead_dir / "samples" / "eval_after_test.jsonl").read_text().splitlines()
    assert len(samples) == 4


def run_counting_evaluations(monkeypatch, algo: str, out, counts: list[int]):
    """Run `algo` (tiny, FAST) into `out`, appending how many evaluations it made to `counts`."""
    import harness.run.eval_schedule as evaluations

    calls = []
    real = evaluations.evaluate
    monkeypatch.setattr(evaluations, "evaluate", lambda *a, **k: calls.append(1) or real(*a, **k))
    config = build_config(
        "summarization", algo, policy="tiny", samples=4, out=str(out), overrides=FAST
    )
    run_dir = run(config, Console(quiet=True))
    counts.append(len(calls))
    return run_dir


def before_rows(run_dir) -> list[dict]:
    """The start evaluation's rows of metrics.jsonl, without their timing."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [
        {k: v for k, v in row.items() if k != "eval/seconds"}
        for row in rows
        if row.get("label") == "before"
    ]


def test_a_report_run_takes_its_seeds_start_evaluation_from_the_start_row(
    bench_cache, tmp_path, monkeypatch
):
    counts: list[int] = []
    first = run_counting_evaluations(monkeypatch, "reinforce", tmp_path / "sweep", counts)
    second = run_counting_evaluations(monkeypatch, "ppo", tmp_path / "sweep", counts)
    alone = run_counting_evaluations(monkeypatch, "ppo", tmp_path / "alone", counts)
    assert counts == [8, 4, 8]  # val and test, sampled and greedy, at the start and the end
    assert before_rows(second) == before_rows(first) == before_rows(alone)
    assert {row["eval/seconds"] for row in map(json.loads, (second / "metrics.jsonl").open())
            if row.get("label") == "before"} == {0.0}  # fmt: skip
    for name in ("eval_before_val", "eval_before_test_greedy"):
        path = f"samples/{name}.jsonl"
        assert (second / path).read_bytes() == (first / path).read_bytes() != b""
    shared, fresh = (json.loads((d / "result.json").read_text()) for d in (second, alone))
    for key in ("eval_before", "eval_after", "heldout_gain", "curve"):
        assert shared[key] == fresh[key], key  # taking it changes no number of the run

    (start_dir,) = (tmp_path / "sweep" / "summarization" / "start").iterdir()
    kept = json.loads((start_dir / "start_eval.json").read_text())
    (start_dir / "start_eval.json").write_text(json.dumps(kept | {"threads": kept["threads"] + 1}))
    again = run_counting_evaluations(monkeypatch, "rloo", tmp_path / "sweep", counts)
    assert counts[-1] == 8  # made with another thread count: evaluated again, the same numbers
    assert before_rows(again) == before_rows(first)
