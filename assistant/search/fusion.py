"""Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009).

Each item scores the sum over the rankings of 1 / (k + rank), ranks counted from 1 within
each ranking; an item missing from a ranking gets nothing from it.
"""

from __future__ import annotations

from typing import Hashable, Iterable, Sequence, TypeVar

Item = TypeVar("Item", bound=Hashable)


def reciprocal_rank_fusion(rankings: Iterable[Sequence[Item]], k: int) -> dict[Item, float]:
    scores: dict[Item, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores
