"""A row's algorithm parts in a few words: the parts column and the KL setting of the caption."""

from typing import Any

from harness.api.choices import KL_GRADIENTS
from reports.pooling import MISSING

NO_KL = "no KL"
ADAPTIVE = " adapted to {} nats/sequence"  # rollout.kl_target: β follows the measured KL


def part(parts: dict[str, Any], name: str, default: Any = MISSING) -> Any:
    """The value of `rollout.<name>` (default when the run's config lacks it)."""
    value = parts.get(f"rollout.{name}", MISSING)
    return default if value == MISSING else value


def figure(value: Any) -> str:
    """A setting's number as written by hand: 0.04, 0, 1e-05; other values as text."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def advantage_words(parts: dict[str, Any]) -> str:
    """`group-norm`; GAE and the EMA baseline add the constants they use."""
    name = part(parts, "advantage")
    symbols = {"gae": {"γ": "gamma", "λ": "lam", "vf": "value_coef"}, "ema": {"decay": "ema_decay"}}
    found = [(sym, part(parts, key)) for sym, key in symbols.get(name, {}).items()]
    constants = ", ".join(f"{sym} {figure(value)}" for sym, value in found if value != MISSING)
    return f"{figure(name)} ({constants})" if constants else figure(name)


def kl_setting(parts: dict[str, Any]) -> tuple[str, ...]:
    """(β, placement, estimator, target or '') as text; (NO_KL,) when β is 0 and fixed.

    A config without placement or estimator is read as k1 in the reward (the default).
    """
    coef, target = part(parts, "kl_coef"), part(parts, "kl_target", None)
    if coef == 0 and target is None:
        return (NO_KL,)
    placement, estimator = part(parts, "kl_placement", "reward"), part(parts, "kl_estimator", "k1")
    return (
        figure(coef),
        figure(placement),
        figure(estimator),
        "" if target is None else figure(target),
    )


def kl_words(setting: tuple[str, ...], article: str = "") -> str:
    """`k3 in loss β 0.04` (article "the ": `β 0.04, k3 in the loss`) or `no KL`."""
    if setting == (NO_KL,):
        return NO_KL
    coef, placement, estimator, target = setting
    adapted = ADAPTIVE.format(target) if target else ""
    if article:
        return f"β {coef}{adapted}, {estimator} in {article}{placement}"
    return f"{estimator} in {placement} β {coef}{adapted}"


def kl_meaning(setting: tuple[str, ...]) -> str:
    """What the KL term's gradient is, from the placement and estimator alone."""
    if setting == (NO_KL,):
        return "none"
    pair = (setting[1], setting[2])
    return KL_GRADIENTS.get(pair, "not a supported KL option")  # type: ignore[call-overload]


def parts_text(parts: dict[str, Any]) -> str:
    """`group-norm · seq-mean-token-mean · k3 in loss β 0.04 · dynamic sampling`; '' for none."""
    if not parts:
        return ""
    words = [advantage_words(parts), figure(part(parts, "loss_agg")), kl_words(kl_setting(parts))]
    if part(parts, "dynamic_sampling") is True:
        words.append("dynamic sampling")
    return " · ".join(word for word in words if word != MISSING)
