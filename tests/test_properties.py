"""Property tests (hypothesis): override parsing and task-file checks never crash; they either
accept a value with the right type or refuse it with one BenchError line."""

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baselines.reinforce import Config as ReinforceConfig
from harness.api.errors import BenchError
from harness.config.overrides import apply_overrides, coerce, parse_override
from harness.config.run_config import RunConfig
from harness.data.task_files import TOP_KEYS, read_spec, task_factory

KEY_TEXT = st.text(alphabet=string.ascii_letters + "._-", min_size=1, max_size=20)
VALUE_TEXT = st.text(max_size=20).filter(lambda t: "\n" not in t and "\r" not in t)
OPTIONS = [
    "lr",
    "rollout.kl_coef",
    "seed",
    "eval.every",
    "rollout.advantage",
    "checkpoint.keep",
    "budget.seconds",
    "rollout.dynamic_sampling",
    "task.target",
    "max_grad_norm",
]


@given(key=KEY_TEXT, value=VALUE_TEXT)
def test_a_key_value_item_splits_at_the_first_equals_sign(key, value):
    assert parse_override(f" {key} ={value}") == (key.strip(), value.strip())


@given(item=st.text(max_size=30).filter(lambda t: "=" not in t))
def test_an_item_without_equals_sign_is_one_line_error(item):
    with pytest.raises(BenchError, match="must look like key=value"):
        parse_override(item)


@given(
    number=st.floats(allow_nan=False, allow_infinity=False), whole=st.integers(), flag=st.booleans()
)
def test_typed_values_survive_their_text(number, whole, flag):
    assert coerce(repr(number), float, "x") == number
    assert coerce(str(whole), int, "x") == whole
    assert coerce(str(flag), bool, "x") is flag
    assert coerce("none", int | None, "x") is None


@given(text=st.sampled_from(["inf", "-inf", "nan", "NaN", "1e999", "-1e999", "Infinity"]))
def test_a_non_finite_number_is_refused_in_one_line(text):
    with pytest.raises(BenchError, match="expects a finite number"):
        coerce(text, float, "x")


@settings(max_examples=150, deadline=None)
@given(key=st.one_of(st.sampled_from(OPTIONS), KEY_TEXT), value=VALUE_TEXT)
def test_any_override_is_applied_with_its_type_or_refused_in_one_line(key, value):
    from tasks.summarization import summarization

    base = RunConfig(task="summarization", algo="reinforce")
    try:
        config = apply_overrides(base, [f"{key}={value}"], ReinforceConfig, summarization)
    except BenchError as error:
        assert "\n" not in str(error) and str(error)
        return
    assert isinstance(config, RunConfig)


SPEC_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spec=st.dictionaries(st.sampled_from([*TOP_KEYS, "flavour", "nmae"]), SPEC_VALUES, max_size=8)
)
def test_any_task_file_is_read_or_refused_in_one_line(tmp_path: Path, spec):
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(spec))
    try:
        read_spec(path)
        factory = task_factory(str(path))
    except BenchError as error:
        assert "\n" not in str(error) and str(error)
        return
    assert set(spec) <= set(TOP_KEYS) and callable(factory)
