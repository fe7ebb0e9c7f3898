"""The sweep spec: a YAML file read into frozen dataclasses, every key and shape checked.

    tasks: [summarization]
    algos: [reinforce, ppo]
    seeds: [0, 1, 2]                 # report seeds
    policy: tiny
    budget: {samples: 256}           # budget.* keys
    overrides: {rollout.kl_coef: 0.01, eval.every: 0}   # any run-config key, shared by all runs
    tune:
      seeds: [100]                   # tuning seeds, disjoint from the report seeds
      select: eval/reward            # maximised on val at each trial's final evaluation
      grid: {reinforce: {lr: [1.0e-5, 3.0e-5]}, ppo: {lr: [1.0e-5, 2.0e-5]}}
      extend_edges: 0                # N > 0: N more trials per algorithm after the grid
    allow_unequal: false             # allow different trial counts per algorithm
    device: cpu
    threads: 1                       # torch threads per run; `bench sweep --threads` overrides
    out: runs/sweep                  # `bench sweep --out` overrides it

Values are checked for shape here; names and run-config values are checked by building every
run's config (harness/sweep/plan.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.api.errors import BenchError, unknown_choice
from harness.sweep.edges import extension_problem

SPEC_KEYS = (
    "tasks",
    "algos",
    "seeds",
    "policy",
    "budget",
    "overrides",
    "tune",
    "allow_unequal",
    "device",
    "threads",
    "out",
)
TUNE_KEYS = ("seeds", "select", "grid", "extend_edges")
SWEEP_OWNED = {"seed": "seeds / tune.seeds", "out": "out (or --out)", "role": "the sweep"}


@dataclass(frozen=True)
class TuneSpec:
    """How each algorithm is tuned: a grid per algorithm, run on tuning seeds, selected on val."""

    seeds: tuple[int, ...]
    """tuning seeds; never the report seeds, so selection never sees a reported run"""
    select: str = "eval/reward"
    """metric maximised on val at the trial's final evaluation, averaged over tuning seeds"""
    grid: Mapping[str, Mapping[str, tuple[Any, ...]]] = field(default_factory=dict)
    """algo → algorithm option → values; every combination is one trial"""
    extend_edges: int = 0
    """extra trials per algorithm after the grid, for every algorithm alike: beyond a winner at
    an edge of the values tried, else between the winner and its better neighbour (0: none;
    harness/sweep/edges.py)"""


@dataclass(frozen=True)
class SweepSpec:
    """Tasks × algorithms × seeds, with shared settings, optional tuning and an output root."""

    tasks: tuple[str, ...]
    """task names or task files"""
    algos: tuple[str, ...]
    """algorithm names"""
    seeds: tuple[int, ...] = (0,)
    """report seeds: one leaderboard run per task, algorithm and seed"""
    policy: str | None = None
    """policy of every run (None: the run config's default)"""
    budget: Mapping[str, Any] = field(default_factory=dict)
    """budget.* settings of every run"""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """any other run-config key → value, shared by every run"""
    tune: TuneSpec | None = None
    """tuning trials before the report runs (None: report runs with the settings above)"""
    allow_unequal: bool = False
    """allow algorithms to get different numbers of tuning trials"""
    device: str | None = None
    """device of every run (None: the run config's default)"""
    threads: int | None = None
    """torch threads per run (None: --threads, else CPUs // workers); the thread count changes
    the last bits of float sums (KL, entropy), so a spec whose results are compared pins it"""
    out: str = "runs"
    """output root: run directories and selection.json"""


def read_spec(path: Path, out: str | None = None) -> SweepSpec:
    """Parse and shape-check a sweep spec file; `out` (from --out) replaces the spec's `out`."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise BenchError(f"cannot read sweep spec '{path}': {err.strerror}") from err
    except yaml.YAMLError as err:
        problem = str(err).replace("\n", " ")
        raise BenchError(f"sweep spec '{path}' is not valid YAML: {problem}") from err
    return parse_spec(data, out)


def parse_spec(data: Any, out: str | None = None) -> SweepSpec:
    """A SweepSpec from parsed YAML; one-line BenchError for the first bad key or value."""
    data = mapping("the sweep spec", data)
    check_keys("sweep key", data, SPEC_KEYS)
    for required in ("tasks", "algos"):
        if required not in data:
            raise BenchError(f"the sweep spec needs '{required}' (a list of names)")
    overrides = mapping("overrides", data.get("overrides", {}))
    for key in overrides:
        if str(key) in SWEEP_OWNED:
            raise BenchError(
                f"overrides may not set '{key}'; the sweep sets it from {SWEEP_OWNED[str(key)]}"
            )
    spec = SweepSpec(
        tasks=names("tasks", data["tasks"]),
        algos=names("algos", data["algos"]),
        seeds=seed_list("seeds", data.get("seeds", [0])),
        policy=optional_text("policy", data.get("policy")),
        budget=mapping("budget", data.get("budget", {})),
        overrides=overrides,
        tune=parse_tune(data["tune"]) if data.get("tune") is not None else None,
        allow_unequal=flag("allow_unequal", data.get("allow_unequal", False)),
        device=optional_text("device", data.get("device")),
        threads=optional_count("threads", data.get("threads")),
        out=out or optional_text("out", data.get("out")) or "runs",
    )
    if spec.tune is not None:
        check_tuning_seeds(spec.seeds, spec.tune.seeds)
        for algo in spec.tune.grid:
            if algo not in spec.algos:
                raise unknown_choice("algorithm in tune.grid", algo, spec.algos)
        if spec.tune.extend_edges:
            check_extendable(spec.algos, spec.tune)
    return spec


def parse_tune(data: Any) -> TuneSpec:
    """The `tune` section: seeds (required), select, grid."""
    data = mapping("tune", data)
    check_keys("tune key", data, TUNE_KEYS)
    if "seeds" not in data:
        raise BenchError("tune needs 'seeds' (tuning seeds, e.g. [100]; never the report seeds)")
    select = optional_text("tune.select", data.get("select", "eval/reward"))
    if not select or not select.startswith("eval/"):
        raise BenchError(
            f"tune.select must be an evaluation metric such as eval/reward, "
            f"eval/rougeL or eval/greedy/reward; got '{select}'"
        )
    grid = {
        str(algo): {
            str(key): value_list(f"tune.grid.{algo}.{key}", values)
            for key, values in mapping(f"tune.grid.{algo}", options).items()
        }
        for algo, options in mapping("tune.grid", data.get("grid") or {}).items()
    }
    extend = data.get("extend_edges", 0)
    if not isinstance(extend, int) or isinstance(extend, bool) or extend < 0:
        raise BenchError(
            f"tune.extend_edges must be an integer ≥ 0 (extra trials per algorithm after the "
            f"grid; 0: none), got {extend!r}"
        )
    seeds = seed_list("tune.seeds", data["seeds"])
    return TuneSpec(seeds=seeds, select=select, grid=grid, extend_edges=extend)


def check_extendable(algos: tuple[str, ...], tune: TuneSpec) -> None:
    """tune.extend_edges needs, for every algorithm, a grid of one key whose values have a step."""
    for algo in algos:
        keys = list(tune.grid.get(algo, {}))
        if len(keys) != 1:
            has = f"{len(keys)} keys ({', '.join(keys)})" if keys else "no grid"
            raise BenchError(
                f"tune.extend_edges gives every algorithm the same extra trials along its one "
                f"grid key, and tune.grid.{algo} has {has}; give each algorithm a one-key "
                "numeric grid, or set tune.extend_edges: 0"
            )
        problem = extension_problem(tune.grid[algo][keys[0]])
        if problem:
            raise BenchError(
                f"tune.extend_edges cannot extend tune.grid.{algo}.{keys[0]}: {problem}; extend "
                "a numeric key such as lr (floats, e.g. [1.0e-5, 1.0e-4]), or set "
                "tune.extend_edges: 0"
            )


def check_tuning_seeds(report: tuple[int, ...], tuning: tuple[int, ...]) -> None:
    """Tuning seeds and report seeds must not share a seed."""
    shared = sorted(set(report) & set(tuning))
    if shared:
        raise BenchError(
            f"tune.seeds and seeds overlap ({', '.join(map(str, shared))}); tuning seeds must "
            "differ from report seeds, so a reported run is never the one that selected"
        )


def check_keys(kind: str, data: Mapping[str, Any], valid: tuple[str, ...]) -> None:
    """Raise 'unknown sweep key ...; did you mean ...?' for a key not in `valid`."""
    for key in data:
        if key not in valid:
            raise unknown_choice(kind, str(key), valid)


def mapping(name: str, value: Any) -> dict[str, Any]:
    """A YAML mapping with string keys."""
    if not isinstance(value, dict):
        raise BenchError(f"{name} must be a mapping of key: value, got {value!r}")
    return {str(key): item for key, item in value.items()}


def names(name: str, value: Any) -> tuple[str, ...]:
    """A non-empty list of distinct names (a single name is a list of one)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise BenchError(f"{name} must be a non-empty list of names, got {value!r}")
    if len(set(items)) != len(items):
        raise BenchError(f"{name} lists a name twice: {items}")
    return tuple(items)


def seed_list(name: str, value: Any) -> tuple[int, ...]:
    """A non-empty list of distinct integers ≥ 0."""
    items = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in items)
    ):
        raise BenchError(f"{name} must be a non-empty list of integers ≥ 0, got {value!r}")
    if len(set(items)) != len(items):
        raise BenchError(f"{name} lists a seed twice: {items}")
    return tuple(items)


def value_list(name: str, value: Any) -> tuple[Any, ...]:
    """A grid axis: a non-empty list of distinct scalars."""
    scalar = (str, int, float, bool, type(None))
    if not isinstance(value, list) or not value or not all(isinstance(v, scalar) for v in value):
        raise BenchError(f"{name} must be a non-empty list of values, got {value!r}")
    if len({repr(v) for v in value}) != len(value):
        raise BenchError(f"{name} lists a value twice: {value}")
    return tuple(value)


def optional_text(name: str, value: Any) -> str | None:
    """A string or nothing."""
    if value is not None and not isinstance(value, str):
        raise BenchError(f"{name} must be a string, got {value!r}")
    return value


def optional_count(name: str, value: Any) -> int | None:
    """An integer ≥ 1 or nothing."""
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise BenchError(f"{name} must be an integer ≥ 1, got {value!r}")
    return value


def flag(name: str, value: Any) -> bool:
    """A YAML boolean."""
    if not isinstance(value, bool):
        raise BenchError(f"{name} must be true or false, got {value!r}")
    return value
