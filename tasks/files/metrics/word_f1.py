"""Token-level F1 between a prediction and one reference: an example local `evaluate` metric.

Load it offline with `evaluate.load("tasks/files/metrics/word_f1.py")`. Words are lowercased runs
of letters and digits; overlap counts repeated words at most as often as both texts have them
(the SQuAD answer F1). Two empty texts score 1, one empty text scores 0.
"""

import re
from collections import Counter
from statistics import fmean

import datasets
import evaluate

WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lowercased word tokens of a text."""
    return WORD.findall(text.lower())


def precision_recall_f1(prediction: str, reference: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the prediction's words against the reference's words."""
    predicted, wanted = words(prediction), words(reference)
    if not predicted or not wanted:
        same = float(predicted == wanted)
        return same, same, same
    overlap = sum((Counter(predicted) & Counter(wanted)).values())
    if overlap == 0:
        return 0.0, 0.0, 0.0
    precision, recall = overlap / len(predicted), overlap / len(wanted)
    return precision, recall, 2 * precision * recall / (precision + recall)


class WordF1(evaluate.Metric):
    """Per-example token precision, recall and F1, and their mean F1."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="Token-level F1 between a prediction and one reference (SQuAD style).",
            citation="Rajpurkar et al. 2016, SQuAD: 100,000+ Questions for Machine Comprehension",
            inputs_description=(
                "predictions: list of strings; references: list of strings, one per prediction. "
                "Returns f1, precision, recall (one value per example) and mean_f1."
            ),
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions: list[str], references: list[str]) -> dict[str, object]:
        scores = [precision_recall_f1(p, r) for p, r in zip(predictions, references, strict=True)]
        f1 = [s[2] for s in scores]
        return {
            "f1": f1,
            "precision": [s[0] for s in scores],
            "recall": [s[1] for s in scores],
            "mean_f1": fmean(f1),
        }
