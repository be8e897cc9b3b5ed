"""How `python -m eval.fit_ranker` picks the abstention threshold and the typed ratio from the calibrate rows.

The rows are (answerable, refused by a rule, P(answerable)[, typed share]) per question, as the fit computes
them from the real engine; here they are written out, since the choice is arithmetic on them.
"""

from __future__ import annotations

from eval.fit_ranker import calibrate_both, threshold_with_bound

# 60 answerable questions spread over P 0.30-0.89, and 20 unanswerable ones over P 0.05-0.43.
ANSWERABLE = [(True, False, 0.30 + 0.01 * i) for i in range(60)]
UNANSWERABLE = [(False, False, 0.05 + 0.02 * i) for i in range(20)]


def test_the_threshold_stops_short_of_turning_away_answerable_questions():
    threshold, table = threshold_with_bound(ANSWERABLE + UNANSWERABLE)
    chosen = next(r for r in table if r["threshold"] == threshold)
    assert threshold == 0.30 and chosen["false_abstention"] == 0.0 and chosen["abstention_on_unanswerable"] == 0.65


def test_the_fit_split_must_meet_the_bound_too():
    # the fit split's answerable questions sit lower: at 0.30 three of 60 would be turned away
    guard = [(True, False, 0.27 + 0.01 * i) for i in range(60)]
    threshold, table = threshold_with_bound(ANSWERABLE + UNANSWERABLE, guard=guard)
    chosen = next(r for r in table if r["threshold"] == threshold)
    assert threshold == 0.27 and chosen["fit_false_abstention"] == 0.0


def test_when_the_rules_alone_break_the_bound_the_threshold_adds_nothing_to_what_they_turn_away():
    # two answerable questions refused by a rule: no threshold keeps the bound, and 0.0 would give up on abstention
    refused = [(True, True, 0.9), (True, True, 0.9)]
    threshold, table = threshold_with_bound(ANSWERABLE + refused + UNANSWERABLE)
    chosen = next(r for r in table if r["threshold"] == threshold)
    assert threshold == 0.30 and chosen["false_abstention"] == table[0]["false_abstention"] > 0


def test_when_no_typed_ratio_keeps_the_bound_the_least_added_false_abstention_is_chosen():
    # the typed share of two answerable questions is 0.4: a ratio above it turns them away too
    rows = [(a, r, p, 0.4 if i < 2 else 1.0) for i, (a, r, p) in enumerate(ANSWERABLE)]
    rows += [(True, True, 0.9, 1.0), (True, True, 0.9, 1.0)] + [(a, r, p, 0.1) for a, r, p in UNANSWERABLE]
    threshold, ratio, _, _ = calibrate_both(rows)
    assert threshold == 0.30 and 0.1 < ratio <= 0.4
