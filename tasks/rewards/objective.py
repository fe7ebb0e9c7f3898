"""What a reward model is trained on and judged by, whatever computes its outputs.

Pure tensor functions shared by the fine-tuned classifier (`finetune.py`) and the head on a frozen
encoder (`frozen_encoder.py`), so the two kinds of model are trained and scored by one rule.
`first`: (n, 1) scores of the chosen texts for pairs, or (n, 2) logits for labels. `second`:
(n, 1) scores of the rejected texts for pairs, or (n,) integer labels.
"""

from typing import Any


def loss(kind: str, first: Any, second: Any) -> Any:
    """Bradley–Terry −log σ(s(chosen) − s(rejected)) on pairs (Bradley & Terry 1952; Ouyang
    et al. 2022, eq. 1), cross-entropy on labels; the mean over rows, in float32 (also when the
    outputs come from a bf16 autocast region)."""
    import torch.nn.functional as F

    if kind == "pairs":
        return -F.logsigmoid(first[:, 0].float() - second[:, 0].float()).mean()
    return F.cross_entropy(first.float(), second)


def correct(kind: str, first: Any, second: Any) -> int:
    """Rows judged right: the chosen text outscores the rejected one, or the argmax is the label."""
    if kind == "pairs":
        return int((first[:, 0] > second[:, 0]).sum())
    return int((first.argmax(-1) == second).sum())


def score_center(kind: str, first: Any, second: Any) -> float:
    """What a score is measured from: for pairs the mean score of the chosen and the rejected
    texts together, for labels 0.

    A Bradley–Terry score is defined only up to a constant (the loss reads differences). A head
    on a frozen encoder drifts far from 0: dialogue's version-2 model scored real replies ≈ −18,
    σ ≈ 1e-8, so every reward read 0.000 and the differences between samples, the whole learning
    signal, were of that order. Scoring σ(s − center) puts the average candidate at 0.5;
    orderings and accuracy do not change. Labels need none: cross-entropy fixes the logits' offset.
    """
    if kind != "pairs":
        return 0.0
    return float(first[:, 0].float().sum() + second[:, 0].float().sum()) / (2 * len(first))
