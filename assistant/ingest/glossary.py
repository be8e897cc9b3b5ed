"""Domain vocabulary: country codes, acronyms and user words, kept as data in corpus/glossary.json.

Used on both sides of retrieval: a chunk's index text gains the expansions of the codes
and acronyms it contains ("BG" -> "Bulgaria"), and a question gains the codes and
document words for what it names ("Turkey" -> "Türkiye TR", "deportations" -> "returns").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

GLOSSARY_FILE = "glossary.json"
MEMO_SIZE = 50_000  # texts whose countries and terms are kept (questions' words recur; bounded for long runs)


@dataclass(frozen=True)
class Country:
    name: str
    code: str
    aliases: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Acronym:
    term: str
    expansion: str
    source: str


@dataclass(frozen=True)
class Synonym:
    user_terms: tuple[str, ...]
    document_terms: tuple[str, ...]
    source: str


def _word_pattern(term: str, case_sensitive: bool) -> re.Pattern[str]:
    flags = 0 if case_sensitive else re.IGNORECASE
    plural = "s?" if term[-1:].isupper() else ""  # "JADs", "OAPs", "ASOPs"
    return re.compile(r"(?<![\w-])" + re.escape(term) + plural + r"(?![\w-])", flags)


def _acronym_case_sensitive(term: str) -> bool:
    """Short all-caps acronyms (MS, FAR, MB) only match in capitals; Frontex or RECAMAS in any case."""
    return term.isupper() and len(term) < 5


@dataclass
class Glossary:
    countries: list[Country]
    acronyms: list[Acronym]
    synonyms: list[Synonym]
    # (what, text) -> what was found: a question is read word by word, and the same words come back in
    # question after question, each a scan of every name; the lists are not changed after loading.
    _found: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path) -> Glossary:
        """The glossary file, checked against its schema; any problem is one sentence naming the file and the fix."""
        from assistant.ingest.schemas import GLOSSARY, load_checked, shown_path

        fix = ("correct it, or restore the file from the repository (`git checkout corpus/glossary.json`); "
               "a corpus without a glossary needs a file holding {}")
        data = load_checked(path, GLOSSARY, shown_path(path), fix)
        return cls(
            countries=[
                Country(c["name"], c.get("code", ""), tuple(c.get("aliases", ())), c.get("source", ""))
                for c in data.get("countries", [])
            ],
            acronyms=[Acronym(a["term"], a["expansion"], a.get("source", "")) for a in data.get("acronyms", [])],
            synonyms=[
                Synonym(tuple(s["user_terms"]), tuple(s["document_terms"]), s.get("source", ""))
                for s in data.get("synonyms", [])
            ],
        )

    def countries_in(self, text: str) -> list[str]:
        """Canonical names of the countries a text names or codes, in glossary order."""
        return self._memoised("countries", text, self._countries_in)

    def _memoised(self, what: str, text: str, find: Callable[[str], list[str]]) -> list[str]:
        key = (what, text)
        found = self._found.get(key)
        if found is None:
            if len(self._found) >= MEMO_SIZE:
                self._found.clear()
            found = self._found[key] = tuple(find(text))
        return list(found)

    def _countries_in(self, text: str) -> list[str]:
        lowered = text.lower()
        found = []
        for country in self.countries:
            if any(_names(name, False, text, lowered) for name in (country.name, *country.aliases)):
                found.append(country.name)
            elif country.code and _names(country.code, True, text, lowered):
                found.append(country.name)
        return found

    def index_expansions(self, text: str) -> list[str]:
        """'CODE = expansion' for each code and acronym present in a chunk, for its index text."""
        lowered = text.lower()
        expansions = []
        for country in self.countries:
            if country.code and _names(country.code, True, text, lowered):
                expansions.append(f"{country.code} = {country.name}")
        for acronym in self.acronyms:
            if _names(acronym.term, _acronym_case_sensitive(acronym.term), text, lowered):
                expansions.append(f"{acronym.term} = {acronym.expansion}")
        return expansions

    def expand_query(self, question: str) -> str:
        """The question plus the codes, names and document words it implies."""
        lowered = question.lower()
        extra: list[str] = []
        for country in self.countries:
            names = (country.name, *country.aliases)
            if any(_names(name, False, question, lowered) for name in names) or (
                country.code and _names(country.code, True, question, lowered)
            ):
                extra.extend([country.name] + ([country.code] if country.code else []))
        for acronym in self.acronyms:
            if _names(acronym.term, _acronym_case_sensitive(acronym.term), question, lowered):
                extra.append(acronym.expansion)
            elif _names(_core_expansion(acronym.expansion), False, question, lowered):
                extra.append(acronym.term)
        for synonym in self.synonyms:
            if any(_names(term, False, question, lowered) for term in synonym.user_terms):
                extra.extend(synonym.document_terms)
        unique = [term for term in dict.fromkeys(extra) if term.lower() not in lowered]
        return question if not unique else f"{question} ({'; '.join(unique)})"

    def terms_in(self, text: str) -> list[str]:
        """Acronyms and programmes a text names, by the acronym or by its expansion, in glossary order."""
        return self._memoised("terms", text, self._terms_in)

    def _terms_in(self, text: str) -> list[str]:
        lowered = text.lower()
        found = []
        for acronym in self.acronyms:
            if _names(acronym.term, _acronym_case_sensitive(acronym.term), text, lowered) or \
                    _names(_core_expansion(acronym.expansion), False, text, lowered):
                found.append(acronym.term)
        return found

    def words(self) -> frozenset[str]:
        """Every lower-cased word of its names, codes, aliases, acronyms and user and document words."""
        texts = [t for c in self.countries for t in (c.name, c.code, *c.aliases)]
        texts += [t for a in self.acronyms for t in (a.term, a.expansion)]
        texts += [t for s in self.synonyms for t in (*s.user_terms, *s.document_terms)]
        return frozenset(w for text in texts for w in re.findall(r"[^\W\d_]+", text.lower()))

    def entries(self) -> list[dict[str, str]]:
        """Flat rows for display and search in the app and the CLI."""
        rows = [
            {"term": c.code or c.name, "meaning": c.name + (f" (also: {', '.join(c.aliases)})" if c.aliases else ""),
             "kind": "country", "source": c.source}
            for c in self.countries
        ]
        rows += [{"term": a.term, "meaning": a.expansion, "kind": "acronym", "source": a.source} for a in self.acronyms]
        rows += [
            {"term": ", ".join(s.user_terms), "meaning": ", ".join(s.document_terms), "kind": "user word", "source": s.source}
            for s in self.synonyms
        ]
        return rows


@lru_cache(maxsize=4096)
def _core_expansion(expansion: str) -> str:
    """The expansion without its parenthesised gloss: 'EU Reintegration Programme (Frontex)' -> name."""
    return re.sub(r"\s*\(.*\)\s*$", "", expansion).strip()


@lru_cache(maxsize=4096)
def _compiled(term: str, case_sensitive: bool) -> re.Pattern[str]:
    return _word_pattern(term, case_sensitive)


def _names(term: str, case_sensitive: bool, text: str, lowered: str) -> bool:
    """Whether the text names the term as a word. `lowered` is text.lower(): a term that is not even a substring
    of it cannot match, and that test is what most of the glossary's terms fail, a hundred times faster than the
    pattern (each question is tested against every name, code and acronym several times as it is read)."""
    return term.lower() in lowered and _compiled(term, case_sensitive).search(text) is not None


@lru_cache(maxsize=8)
def load_glossary(corpus_dir: Path) -> Glossary:
    return Glossary.load(corpus_dir / GLOSSARY_FILE)
