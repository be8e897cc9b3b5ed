"""The learned sentence ranker: a logistic regression over the candidate features.

Fitted by `python -m eval.fit_ranker` on the gold set's fit split (each question's evidence
sentences against the other sentences of its retrieved units) and stored as plain numbers in
ranker.json beside this module: the feature names, the standardisation and the weights. Its
cross-validated and held-out figures are in eval/results/ranker.md. Scoring is one matrix
product, so it costs microseconds per question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.answering.candidates import ANSWERABILITY_FEATURES, FEATURES
from assistant.answering.crosslingual import CROSS_LINGUAL_FEATURES
from assistant.errors import AssistantError

MODEL_FILE = Path(__file__).with_name("ranker.json")


@dataclass(frozen=True)
class Ranker:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float
    # Chosen with the model (see its "about" block): sentences join the best one when their probability is at
    # least keep_ratio of the best's and at least keep_floor (tuned on the fit split); the answer abstains
    # when the best probability is below answer_threshold (calibrated on the calibrate split).
    keep_ratio: float = 0.5
    keep_floor: float = 0.25
    answer_threshold: float = 0.1
    # A sentence of another passage than the best sentence's joins only at this share of the best's probability
    # (tuned on the fit split with the keep ratio and floor): a cited passage that does not answer costs the reader.
    other_unit_ratio: float = 0.0
    # A question asking for a date, an amount, a count or a name is told "mentioned but not given" when the best
    # sentence carrying the asked type scores below this share of the best sentence's (calibrated on the calibrate
    # split with answer_threshold); 0.0: only when no close sentence carries it.
    typed_ratio: float = 0.0
    # The answerability model: a logistic regression over question-level features (ANSWERABILITY_FEATURES),
    # fitted on the fit split; the answer abstains when its probability is below answer_threshold.
    answerability: dict | None = None
    # The same for questions in other languages, over CROSS_LINGUAL_FEATURES (answering/crosslingual.py), with its
    # own "threshold" (calibrated on the translated calibrate questions); None: such questions are told the
    # language is not supported.
    cross_lingual: dict | None = None

    def answerable(self, row: np.ndarray) -> float:
        """P(the documents answer), or 1.0 when no answerability model was fitted."""
        return logistic_probability(self.answerability, row)

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        if matrix.shape[0] == 0:
            return np.zeros(0)
        z = ((matrix - self.mean) / self.scale) @ self.weights + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self, about: dict | None = None) -> dict:
        return {"about": about or {}, "features": list(self.features), "mean": self.mean.round(8).tolist(),
                "scale": self.scale.round(8).tolist(), "weights": self.weights.round(8).tolist(),
                "intercept": round(float(self.intercept), 8), "keep_ratio": self.keep_ratio,
                "keep_floor": self.keep_floor, "other_unit_ratio": self.other_unit_ratio,
                "answer_threshold": self.answer_threshold, "typed_ratio": self.typed_ratio,
                "answerability": self.answerability, "cross_lingual": self.cross_lingual}


def logistic_probability(model: dict | None, row: np.ndarray) -> float:
    """A fitted logistic regression stored as numbers (mean, scale, weights, intercept) applied to one row; 1.0
    without a model."""
    if not model:
        return 1.0
    z = ((row - np.asarray(model["mean"])) / np.asarray(model["scale"])) @ np.asarray(model["weights"])
    return float(1.0 / (1.0 + np.exp(-(z + model["intercept"]))))


def ranker_from_dict(data: dict) -> Ranker:
    features = tuple(data["features"])
    answerability = data.get("answerability")
    cross_lingual = data.get("cross_lingual")
    if features != FEATURES or (answerability and tuple(answerability["features"]) != ANSWERABILITY_FEATURES) or (
            cross_lingual and tuple(cross_lingual["features"]) != CROSS_LINGUAL_FEATURES):
        raise AssistantError("The sentence ranker was fitted on other features than the code computes; "
                             "refit it with `python -m eval.fit_ranker`.")
    return Ranker(features, np.asarray(data["mean"], dtype=np.float64), np.asarray(data["scale"], dtype=np.float64),
                  np.asarray(data["weights"], dtype=np.float64), float(data["intercept"]),
                  float(data.get("keep_ratio", 0.5)), float(data.get("keep_floor", 0.25)),
                  float(data.get("answer_threshold", 0.1)), other_unit_ratio=float(data.get("other_unit_ratio", 0.0)),
                  typed_ratio=float(data.get("typed_ratio", 0.0)),
                  answerability=answerability, cross_lingual=cross_lingual)


@lru_cache(maxsize=1)
def load_ranker(path: Path = MODEL_FILE) -> Ranker:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise AssistantError(f"The sentence ranker {path.name} is missing or damaged; refit it with "
                             "`python -m eval.fit_ranker`.") from None
    return ranker_from_dict(data)
