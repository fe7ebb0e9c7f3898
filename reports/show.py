"""`bench show RUN_DIR`: one run's settings, reward curve, held-out change and extreme samples."""

import dataclasses
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError
from harness.api.schema import ANCHOR, REPORT_SPLIT
from harness.config.run_config import RunConfig
from harness.metrics.series import sparkline
from reports.browse import Entry, optional_object, read_entry, shown_name, shown_path
from reports.listing import clock, samples_text, status_text
from reports.load import MARKERS, read_curve, read_jsonl

SHOWN_ELSEWHERE = ("task", "algo", "seed", "task_options", "algo_config")
PROMPT_CHARS = 100
GENERATION_CHARS = 300
SAMPLES_FILE = f"samples/eval_after_{REPORT_SPLIT}.jsonl"
LABEL = 13  # width of the line labels ("train reward ")


def show_lines(run_dir: Path, examples: int = 2) -> list[str]:
    """Everything `bench show` prints, line by line (plain text, no markup)."""
    entry, problem = read_run_dir(run_dir)
    config = run_config(run_dir)
    lines = [
        labelled("run", shown_path(run_dir)),
        labelled("run of", header(entry, config)),
        labelled("status", status_line(entry)),
        *([labelled("warning", problem)] if problem else []),
        *config_lines(config),
        labelled("train reward", curve_line(run_dir)),
        labelled(f"{REPORT_SPLIT} reward", heldout_line(entry)),
        labelled(f"{REPORT_SPLIT} Δ", gain_line(entry)),
    ]
    return lines + sample_lines(run_dir, examples)


def labelled(label: str, text: str) -> str:
    """'train reward ▁▃█ ...': a label padded to one width, then the text."""
    return f"{label:<{LABEL}}{text}"


def read_run_dir(run_dir: Path) -> tuple[Entry, str | None]:
    """The run directory's Entry and warning; BenchError when it is missing or no run directory."""
    if not run_dir.is_dir():
        raise BenchError(f"no such run directory: '{run_dir}'")
    if not any((run_dir / marker).exists() for marker in MARKERS):
        hint = f"`bench ls {run_dir}` lists those below it"
        raise BenchError(f"'{run_dir}' is not a run directory; {hint}")
    entry, problem = read_entry(run_dir.resolve())
    if entry is None:
        raise BenchError(f"'{run_dir}' is {problem}")
    return entry, problem


def run_config(run_dir: Path) -> dict[str, Any]:
    """config.json, or the config inside result.json when config.json is missing or broken."""
    config, _ = optional_object(run_dir / "config.json")
    if config is None:
        result, _ = optional_object(run_dir / "result.json")
        config = result.get("config") if result else None
    return config if isinstance(config, dict) else {}


def header(entry: Entry, config: dict[str, Any]) -> str:
    """'summarization · reinforce (report) · seed 0 · policy tiny'."""
    seed = "?" if entry.seed is None else entry.seed
    policy = config.get("policy", "?")
    return f"{entry.task} · {entry.algo} ({shown_name(entry.role)}) · seed {seed} · policy {policy}"


def status_line(entry: Entry) -> str:
    """'finished (samples) · 64 samples · 0:20 training + evaluation (0:10 training)'."""
    parts = [status_text(entry).plain]
    if entry.role == ANCHOR:  # it spends no samples and does not train
        wall = entry.wall_seconds
        return " · ".join(parts + ([f"{clock(wall)} evaluation"] if wall is not None else []))
    parts.append(f"{samples_text(entry)} samples")
    if entry.wall_seconds is not None:
        train = "" if entry.train_seconds is None else f" ({clock(entry.train_seconds)} training)"
        parts.append(f"{clock(entry.wall_seconds)} training + evaluation{train}")
    return " · ".join(parts)


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'rollout': {'kl_coef': 0.05}} → {'rollout.kl_coef': 0.05}."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and key not in SHOWN_ELSEWHERE:
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_diff(config: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(dotted key, value, 'default X' or 'no such setting here') for every non-default setting."""
    defaults = flatten(dataclasses.asdict(RunConfig(task="?", algo="?")))
    diff = []
    for key, value in flatten(config).items():
        if key in SHOWN_ELSEWHERE:
            continue
        if key not in defaults:
            diff.append((key, value, "no such setting here"))
        elif value != defaults[key]:
            diff.append((key, value, f"default {defaults[key]}"))
    return diff


def settings_text(settings: Any) -> str:
    """'lr=0.001, max_grad_norm=1.0', or 'none'."""
    if not isinstance(settings, dict) or not settings:
        return "none"
    return ", ".join(f"{key}={value}" for key, value in settings.items())


def config_lines(config: dict[str, Any]) -> list[str]:
    """The settings that differ from RunConfig's defaults, aligned; then task and algo options."""
    diff = config_diff(config)
    if not config:
        lines = [labelled("config", "unreadable (no config.json and no config in result.json)")]
    elif not diff:
        lines = [labelled("config", "every setting at its default")]
    else:
        lines = [labelled("config", f"{len(diff)} settings differ from the defaults")]
        width = max(len(key) for key, _, _ in diff)
        values = [str(value) for _, value, _ in diff]
        room = max(map(len, values))
        lines += [
            f"  {key:<{width}}  {value:<{room}}  ({note})"
            for (key, _, note), value in zip(diff, values, strict=True)
        ]
    lines.append(labelled("task options", settings_text(config.get("task_options"))))
    lines.append(labelled("algo config", settings_text(config.get("algo_config"))))
    return lines


def curve_line(run_dir: Path) -> str:
    """'▁▄█  0.150 → 0.200 (per update, 3 updates)' from metrics.jsonl (result.json's curve)."""
    result, _ = optional_object(run_dir / "result.json")
    curve = read_curve(run_dir / "metrics.jsonl", (result or {}).get("curve"))
    rewards = [point["train/reward"] for point in curve if "train/reward" in point]
    if not rewards:
        return "no update logged"
    count = f"{len(rewards)} update{'' if len(rewards) == 1 else 's'}"
    return f"{sparkline(rewards)}  {rewards[0]:.3f} → {rewards[-1]:.3f} (per update, {count})"


TUNING_NOTE = "n/a (a tuning trial is evaluated on val only: see result.json's eval_after.val)"


def heldout_line(entry: Entry) -> str:
    """'0.100 → 0.200 (sampled) · KL 0.0100 (exact, per token)'."""
    if entry.role == "tune" and entry.after is None:
        return TUNING_NOTE
    if entry.after is None:
        before = "n/a" if entry.before is None else f"{entry.before:.3f}"
        return f"{before} before training; no evaluation after training ({entry.status})"
    kl = "" if entry.kl is None else f" · KL {entry.kl:.4f} (exact, per token)"
    if entry.role == ANCHOR:
        return f"{entry.after:.3f} (sampled; an anchor row is not trained){kl}"
    before = "n/a" if entry.before is None else f"{entry.before:.3f}"
    return f"{before} → {entry.after:.3f} (sampled){kl}"


def gain_line(entry: Entry) -> str:
    """'+0.1000 [95% CI +0.0500, +0.1500] paired bootstrap over 4 prompts (CI excludes 0)'."""
    gain = entry.gain
    if gain is None and entry.role == ANCHOR:
        return "n/a (an anchor row is not trained)"
    if gain is None and entry.role == "tune" and entry.after is None:
        return TUNING_NOTE
    if gain is None:
        finished = entry.status == "finished" or entry.stop_reason is not None
        return f"n/a ({'result.json has no heldout_gain' if finished else entry.status})"
    verdict = "CI excludes 0" if gain.low > 0 or gain.high < 0 else "CI includes 0: n.s."
    return (
        f"{gain.mean:+.4f} [95% CI {gain.low:+.4f}, {gain.high:+.4f}] paired bootstrap over"
        f" {gain.n} prompts ({verdict})"
    )


def cut(text: Any, limit: int) -> str:
    """Whitespace collapsed, cut to `limit` characters with '…'."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def extremes(rows: list[dict[str, Any]], count: int) -> tuple[list[dict], list[dict]]:
    """The `count` highest-reward rows (best first) and the `count` lowest (worst first)."""
    scored = [r for r in rows if isinstance(r.get("reward"), int | float)]
    ranked = sorted(scored, key=lambda r: -r["reward"])  # stable: file order breaks ties
    best = ranked[:count]
    rest = ranked[len(best) :]
    return best, rest[::-1][: min(count, len(rest))]


def sample_lines(run_dir: Path, count: int) -> list[str]:
    """The best and worst held-out test samples after training: reward, id, prompt, generation."""
    rows = read_jsonl(run_dir / SAMPLES_FILE)
    if not rows:
        return [labelled("samples", f"none ({SAMPLES_FILE} is missing or empty)")]
    best, worst = extremes(rows, count)
    lines = []
    for title, chosen in (("best", best), ("worst", worst)):
        lines.append(
            f"{title} {REPORT_SPLIT} samples ({len(chosen)} of {len(rows)}, {SAMPLES_FILE})"
        )
        for row in chosen:
            prompt = cut(row.get("prompt", ""), PROMPT_CHARS)
            lines.append(f"  {row['reward']:.3f}  {row.get('id', '?')}  prompt: {prompt}")
            lines.append(f"  {'':5}  → {cut(row.get('generation', ''), GENERATION_CHARS)}")
    return lines
