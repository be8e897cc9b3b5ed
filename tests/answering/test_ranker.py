"""The committed sentence ranker is what the fit split gives, and it ranks better than cosine alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.answering.ranker import MODEL_FILE, ranker_from_dict
from assistant.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def refit(engine):
    from eval.fit_ranker import fit_all
    from eval.gold import load_gold

    return fit_all(engine, load_gold(PROJECT_ROOT / "eval" / "gold.jsonl"))


def test_the_committed_ranker_is_what_the_fit_split_gives(refit):
    """A change of features, retrieval or gold that is not followed by `python -m eval.fit_ranker` fails here."""
    fitted, _ = refit
    committed = ranker_from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8")))
    # The int8 ONNX encoder's vectors differ in their last digits from one CPU to another (the same fit on an AMD
    # EPYC and an Intel Xeon here: weights up to 0.022 apart, selection and thresholds the same); a change of
    # features or gold moves them further.
    np.testing.assert_allclose(committed.weights, fitted.weights, atol=0.05)
    assert (committed.keep_ratio, committed.keep_floor) == (fitted.keep_ratio, fitted.keep_floor)
    assert committed.answer_threshold == pytest.approx(fitted.answer_threshold)
    assert committed.typed_ratio == pytest.approx(fitted.typed_ratio)


def test_the_learned_ranker_beats_cosine_alone_out_of_fold(refit):
    _, report = refit
    learned = report["cv"]["logistic regression, C = 0.03"]
    assert learned["p@1"] > report["cv"]["cosine only"]["p@1"] and learned["mrr"] > report["cv"]["cosine only"]["mrr"]


def test_the_threshold_was_calibrated_on_the_calibrate_split_only(refit):
    _, report = refit
    assert report["about"]["threshold_calibrated_on"] == "calibrate" and report["calibrate_questions"] > 0
    chosen = next(r for r in report["calibration"] if r["threshold"] == report["answer_threshold"])
    assert chosen["false_abstention"] <= 0.05


def test_the_typed_ratio_was_calibrated_with_the_threshold_within_the_false_abstention_bound(refit):
    _, report = refit
    assert report["about"]["typed_ratio_calibrated_on"] == "calibrate"
    chosen = next(r for r in report["typed_calibration"] if r["typed_ratio"] == report["typed_ratio"])
    assert chosen["threshold"] == report["answer_threshold"] and chosen["false_abstention_bound"] <= 0.05


def test_the_cross_lingual_model_is_fitted_on_translated_fit_questions_and_calibrated_on_calibrate(refit):
    fitted, report = refit
    committed = ranker_from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8")))
    # CPU-dependent last digits as above, larger for this model of 74 questions (when it was barely regularised,
    # C = 1.0, weights up to 0.073 apart); on 69 calibrate questions they moved its threshold two grid steps
    # (0.32 on an AMD EPYC, 0.30 on an Intel Xeon here).
    np.testing.assert_allclose(committed.cross_lingual["weights"], fitted.cross_lingual["weights"], atol=0.1)
    assert committed.cross_lingual["threshold"] == pytest.approx(fitted.cross_lingual["threshold"], abs=0.03)
    crossed = report["cross_lingual"]
    assert crossed["fitted_on"].startswith("translated fit split") and crossed["calibrate_questions"] > 0
    chosen = next(r for r in crossed["calibration"] if r["threshold"] == crossed["threshold"])
    assert chosen["false_abstention_bound"] <= 0.05


@pytest.mark.parametrize("model", ["answerability", "cross_lingual"])
def test_each_answerability_model_takes_the_strongest_regularisation_within_one_standard_error_of_the_best(refit, model):
    """AUCs closer than their noise must not decide C: the smallest C whose AUC is within one SE of the best wins."""
    _, report = refit
    fitted = report[model]
    auc = {float(c): (v, fitted["cv_auc_se"][c]) for c, v in fitted["cv_auc"].items()}
    best = max(auc, key=lambda c: auc[c][0])
    assert all(se > 0 for _, se in auc.values())
    assert auc[fitted["c"]][0] >= auc[best][0] - auc[best][1]
    assert all(auc[c][0] < auc[best][0] - auc[best][1] for c in auc if c < fitted["c"])
