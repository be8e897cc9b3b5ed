"""Many people asking at once: the function the app calls answers every one of them, well-formed.

A shorter run of eval/load_test.py (20 threads for 10 seconds instead of 60) on the real
engine. No timing is asserted here, only that nothing fails and every answer keeps its
contract; the measured figures come from the full run (eval/results/load_test.md).
"""

from __future__ import annotations

import importlib.util
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _load_test_module():
    spec = importlib.util.spec_from_file_location("load_test", ROOT / "eval" / "load_test.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def load_test():
    return _load_test_module()


def test_twenty_threads_for_ten_seconds_get_only_well_formed_answers(engine, load_test):
    questions = load_test.gold_questions()
    result = load_test.run_load(engine.ask, questions, threads=20, seconds=10, max_requests=5000, grace=60)
    summary = result.summary()
    assert result.errors == [], result.errors[:5]
    assert summary["requests"] >= 20, "every thread got at least one answer"
    assert summary["answered"] > 0 and summary["abstained"] > 0, "gold questions include unanswerable ones"


def test_questions_no_cache_has_seen_are_answered_under_load_too(engine, load_test):
    questions = load_test.gold_questions()
    result = load_test.run_load(engine.ask, questions, threads=20, seconds=5, max_requests=400, grace=60, vary=True)
    assert result.errors == [], result.errors[:5]
    assert len(result.questions) == result.summary()["requests"], "each request asked a question of its own"


def test_a_malformed_answer_or_an_exception_counts_as_an_error(engine, load_test):
    """The harness itself: it would notice a broken answer, a crash or a hung request."""
    good = engine.ask(load_test.gold_questions()[0])
    broken = type(good)(good.question, "Made up.", False, [], good.hits)

    def ask(question: str):
        if "crash" in question:
            raise RuntimeError("boom")
        if "hang" in question:
            time.sleep(2)
        return broken if "broken" in question else engine.ask(question)

    for question, says in [("broken", "an answer without citations"), ("crash", "RuntimeError: boom"), ("hang", "hung")]:
        result = load_test.run_load(ask, [question], threads=1, seconds=0.2, max_requests=1, grace=0.5)
        assert len(result.errors) == 1 and says in result.errors[0], result.errors


def test_askers_keep_getting_answers_while_documents_come_and_go_and_the_index_is_rebuilt(engine, settings, load_test):
    """The --changes run, short: 5 askers for 8 s while two sessions add and remove documents and one rebuilds."""
    summary = load_test.run_with_changes(settings, load_test.gold_questions(), threads=5, seconds=8,
                                         max_requests=2000, grace=60)
    assert summary["errors"] == 0, summary["error_examples"]
    assert summary["change_errors"] == 0, summary["change_error_examples"]
    assert summary["lost_documents"] == 0, summary["lost_examples"]
    assert summary["documents_added"] >= 2 and summary["rebuilds"] >= 1 and summary["requests"] >= 5
