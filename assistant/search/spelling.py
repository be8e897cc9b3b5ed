"""Misspelt question words matched to the corpus's own words ("rohinga" -> "rohingya"), so that search finds them.

Users type fast: "rohinga refugees", "euromed police projet". BM25 only matches words the corpus
has, and a misspelt rare word is often the one that names the topic. A question word is
corrected only when neither the corpus nor the embedding model's vocabulary of whole English
words knows it, to the one corpus word within one edit (two for words of eight letters or more;
rapidfuzz's Levenshtein distance); two corpus words equally near give no correction. The
correction is added to the searched text beside the glossary's expansions, never put in place of
the user's word, so a word the corpus lacks for a reason (a name it never mentions) still counts
as unknown.
"""

from __future__ import annotations

import re
import threading
from typing import Protocol, Sequence

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

WORD = re.compile(r"[^\W\d_]{5,}")  # letters only, five or more: shorter words are too close to too many others
LONG_WORD = 8  # letters from which two edits are allowed


class _Words(Protocol):
    words: str  # a segment's distinct lower-cased words, one a line


class _Index(Protocol):
    segments: Sequence[_Words]

    def mentions(self, name: str) -> bool: ...


class Spelling:
    """Corrections of a question's unknown words from the index's vocabulary (read once, on first use)."""

    def __init__(self, index: _Index, common_words: frozenset[str]) -> None:
        self._index = index
        self._common = common_words
        self._choices: list[str] | None = None
        self._words: frozenset[str] | None = None
        self._lock = threading.Lock()

    def _corpus_words(self) -> frozenset[str]:
        """Every distinct word of the index's segments, read once."""
        with self._lock:
            if self._words is None:
                self._words = frozenset(w for segment in self._index.segments for w in segment.words.split("\n"))
            return self._words

    def knows(self, word: str) -> bool:
        """Whether a lower-case word is common English (the model's vocabulary) or one of the corpus's own."""
        return word in self._common or word in self._corpus_words()

    def _vocabulary(self) -> list[str]:
        """The corpus's words of five letters or more, sorted: the choices a correction is drawn from."""
        if self._choices is None:
            self._choices = sorted({m for word in self._corpus_words() for m in WORD.findall(word)})
        return self._choices

    def correction(self, word: str) -> str:
        """The one corpus word near an unknown `word` (lower case), or '' (known, or no single nearest)."""
        if word in self._common or self._index.mentions(word):
            return ""
        limit = 1 if len(word) < LONG_WORD else 2
        near = process.extract(word, self._vocabulary(), scorer=Levenshtein.distance, score_cutoff=limit, limit=2)
        if not near or (len(near) > 1 and near[1][1] == near[0][1]):
            return ""
        return str(near[0][0])

    def corrections(self, question: str) -> list[str]:
        """Corpus words for the question's misspelt words, in question order."""
        found = (self.correction(word) for word in dict.fromkeys(w.lower() for w in WORD.findall(question)))
        return [word for word in dict.fromkeys(found) if word]


__all__ = ["Spelling"]
