"""The `evaluate` reward: any Hugging Face `evaluate` metric scores completions, one per example.

`path` is a local `.py` module defining an `evaluate.Metric` (loads offline) or a hub id such as
"rouge" (needs a hub or a cached copy). `key` names the entry of `compute()` that is the score:
a list of per-example values (one batched call) or a single number (then one call per
completion). References: a metric whose `references` input is a list gets all of an example's
references in one call and combines them itself; a metric taking one reference string is called
per reference and the best value is kept, as the built-in rouge reward does.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError
from harness.api.task import Example

RESERVED = ("predictions", "references")


@dataclass(frozen=True)
class EvaluateReward:
    """`scale` × the metric's `key` value for each completion against its example's references.

    No `score` method: that name marks a reward with parts (harness.api.task.score_with_parts).
    """

    metric: Any  # a loaded evaluate.EvaluationModule
    key: str
    name: str
    scale: float = 1.0
    compute: Mapping[str, Any] = field(default_factory=dict)
    reference_lists: bool = False  # the metric takes a list of references per prediction

    def __call__(self, examples: Sequence[Example], completions: Sequence[str]) -> list[float]:
        pairs = list(zip(examples, completions, strict=True))
        if self.reference_lists:
            refs: list[Any] = [list(ex.references) for ex, _ in pairs]
            values = self.values(list(completions), refs)
            return [self.scale * v for v in values]
        rows = [(i, text, ref) for i, (ex, text) in enumerate(pairs) for ref in ex.references]
        values = self.values([text for _, text, _ in rows], [ref for _, _, ref in rows])
        best = [-math.inf] * len(pairs)
        for (i, _, _), value in zip(rows, values, strict=True):
            best[i] = max(best[i], value)
        assert all(math.isfinite(b) for b in best), "every example has at least one reference"
        return [self.scale * b for b in best]

    def values(self, predictions: list[str], references: list[Any]) -> list[float]:
        """One value per prediction: batched when `key` holds a list, else one call each."""
        if not predictions:
            return []
        value = self.raw_value(predictions, references)
        if isinstance(value, list | tuple):
            if len(value) != len(predictions):
                raise BenchError(
                    f"metric '{self.name}': key '{self.key}' holds {len(value)} values for "
                    f"{len(predictions)} predictions (use a per-example key or a scalar one)"
                )
            return [self.number(v) for v in value]
        if len(predictions) == 1:
            return [self.number(value)]
        return [
            self.number(self.raw_value([p], [r]))
            for p, r in zip(predictions, references, strict=True)
        ]

    def raw_value(self, predictions: list[str], references: list[Any]) -> Any:
        """The raw value under `key` of one `compute()` call (a list or a number)."""
        try:
            result = self.metric.compute(
                predictions=predictions, references=references, **self.compute
            )
        except (TypeError, ValueError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise BenchError(f"metric '{self.name}' failed on its inputs: {first}") from err
        keys = sorted(result) if isinstance(result, dict) else []
        if not isinstance(result, dict) or self.key not in result:
            raise BenchError(
                f"metric '{self.name}' returned no key '{self.key}' (keys: {', '.join(keys)})"
            )
        value = result[self.key]
        return value.tolist() if hasattr(value, "tolist") else value  # numpy arrays and scalars

    def number(self, value: Any) -> float:
        """A finite float, or a BenchError naming the key: never a placeholder score."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise BenchError(
                f"metric '{self.name}': key '{self.key}' holds {value!r}, not a finite number "
                "(pick a key whose value is a number or a list of numbers)"
            )
        return float(value)


#: a Hugging Face evaluate metric (path=local .py module or hub id, key=result entry)
def evaluated(
    path: str, key: str, scale: float = 1.0, compute: dict[str, Any] | None = None
) -> EvaluateReward:
    """An `evaluate` metric as a reward: `path` (.py module or hub id), its `key`, a `scale`."""
    if not math.isfinite(scale) or scale == 0:
        raise BenchError(f"evaluate reward: scale must be a finite non-zero number (got {scale})")
    extra = dict(compute or {})
    clash = sorted(set(extra) & set(RESERVED))
    if clash:
        raise BenchError(f"evaluate reward: compute may not set {clash} (the reward passes them)")
    metric = load_metric(path)
    return EvaluateReward(
        metric=metric,
        key=key,
        name=f"{metric_stem(path)}({key})",
        scale=float(scale),
        compute=extra,
        reference_lists=takes_reference_lists(path, metric),
    )


def metric_stem(path: str) -> str:
    """A short metric name: the module's file stem or the hub id's last part."""
    return Path(path.rstrip("/")).stem


@cache
def load_metric(path: str) -> Any:
    """A loaded metric (once per process); a missing local file or a failed load is one line."""
    if path.endswith(".py") and not Path(path).is_file():
        raise BenchError(
            f"metric file '{path}' does not exist (use a local .py module defining an "
            "evaluate.Metric, or a hub id such as 'rouge')"
        )
    try:
        import evaluate  # lazy: only tasks that use a metric pay for the import
    except ImportError as err:
        raise BenchError(f"the evaluate reward needs `pip install evaluate` ({err})") from err
    local = path.endswith(".py") or Path(path).is_dir()
    try:
        # keep_in_memory: no arrow cache files per call; a local module never touches a hub.
        return evaluate.load(path, keep_in_memory=True)
    except (OSError, ImportError, ValueError) as err:
        where = "local module" if local else "hub id: needs a hub or a cached copy"
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise BenchError(f"cannot load evaluate metric '{path}' ({where}): {first}") from err


def takes_reference_lists(path: str, metric: Any) -> bool:
    """True when one of the metric's input formats takes a list of references per prediction."""
    import datasets

    formats = metric.features if isinstance(metric.features, list) else [metric.features]
    inputs = [f for f in formats if f is not None and "references" in f]
    if not inputs:
        raise BenchError(
            f"metric '{path}' takes no references (inputs: {formats}); the evaluate reward "
            "scores predictions against references"
        )
    return any(not isinstance(f["references"], datasets.Value) for f in inputs)
