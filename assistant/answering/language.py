"""The question's language: the documents are English, and a question in another language is told so.

Questions in Greek, Bulgarian, German, French, Arabic ... are recognised with py3langid (a
maintained port of langid.py, its model shipped in the wheel) and get one sentence saying the
language is not supported, instead of loosely related passages. A question with two different
English function words is English without asking the model, so English questions never wait
for it to load.

Short questions are where the model is least sure: "retours bulgarie" scores 0.52 French,
"wer leitet aktion 5" 0.84 German, and an English query of names and topic words ("frontex
greece", "Tunisia MoU") can score as high for some language. So the model's confidence is
read together with the question's own words: how many of them are English or the corpus's
(the embedding model's whole English words, the indexed text, the glossary). A question most
of whose words neither knows needs less confidence; one whose every word is known needs the
model to be sure, and one of glossary names alone ("Türkiye", 0.98 Turkish) is never foreign.
Acronyms and words under three letters do not count: they are the same in every language.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Callable

# Languages users of this corpus write in (EU official languages and those of the main partner countries).
CANDIDATES = ("en", "de", "fr", "el", "bg", "ar", "it", "es", "tr", "ro", "hr", "nl", "pl", "pt", "fa", "ur", "ru", "uk",
              "sv", "da", "fi", "cs", "sk", "hu", "sl", "lt", "lv", "et", "mt")
SURE = 0.9  # enough on its own, unless the question is only names the glossary knows ("Türkiye")
CONFIDENCE = 0.8  # enough for a question with a word that is not English or the corpus's
UNSURE = 0.45  # enough when at most half its words are (KNOWN_SHARE)
KNOWN_SHARE = 0.5
# English function words, less those other candidate languages also write ("in", "a", "an", "on", "was", "do",
# "to": German, Italian, French, Portuguese, Polish ...): two different ones make a question English
_ENGLISH = frozenset("the of is are were what who whom which when where why how with for and does did "
                     "has have been be by from at this that status".split())


_LOADING = threading.Lock()


@lru_cache(maxsize=1)
def _load_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    return identifier


def _identifier():
    """The model, loaded once per process: sessions asking at the same moment wait for one load, not do twenty."""
    with _LOADING:
        return _load_identifier()


def foreign_language(question: str, knows: Callable[[str], bool] | None = None,
                     names: frozenset[str] = frozenset()) -> str:
    """The name of the question's language when it is confidently not English, else ''.

    `knows` tells a lower-case word that is English or the corpus's (`Retriever.knows_word`); without
    it only the model's confidence counts, and 0.9 of it is asked for. `names` are the glossary's
    lower-case words (`Retriever.glossary_words`): a question of them alone is not foreign. A
    question written mostly in another script than Latin (Greek, Cyrillic, Arabic ...) is not
    English whatever the model's confidence: it may split it between neighbours (Bulgarian,
    Russian, Ukrainian), and only its best guess among them is asked for."""
    words = re.findall(r"[^\W\d_]+", question.lower())
    if len(_ENGLISH.intersection(words)) >= 2 or not words:
        return ""
    if _mostly_other_script(question):
        code = next(c for c, _ in _identifier().rank(question) if c != "en")
    else:
        code, probability = _identifier().classify(question)
        counted = _counted(question)
        known = known_share(counted, knows) if knows else None
        if code == "en" or not _confident(probability, known, counted <= names):
            return ""
    import pycountry

    language = pycountry.languages.get(alpha_2=code)
    # ISO 639's reference names qualify some languages ("Modern Greek (1453-)"); a reader wants "Greek"
    return re.sub(r"^Modern |\s*\(.*\)$", "", language.name) if language is not None else code


def _confident(probability: float, known: float | None, names_only: bool) -> bool:
    if probability >= SURE:
        return not names_only
    if known is None:
        return False
    return known < 1 and probability >= CONFIDENCE or known <= KNOWN_SHARE and probability >= UNSURE


def _counted(question: str) -> set[str]:
    """The question's lower-cased words that tell a language: three letters or more, not acronyms (MoU, EUAA).

    In a question typed all in capitals no word is told for an acronym."""
    if not any(ch.islower() for ch in question):
        question = question.lower()
    return {w.lower() for w in re.findall(r"[^\W\d_]{3,}", question) if not any(ch.isupper() for ch in w[1:])}


def known_share(counted: set[str], knows: Callable[[str], bool]) -> float:
    """The share of a question's counted words (`_counted`) that `knows` knows; 1 if none count."""
    return sum(1 for w in counted if knows(w)) / len(counted) if counted else 1.0


def _mostly_other_script(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    other = sum(1 for ch in letters if not unicodedata.name(ch, "LATIN").startswith("LATIN"))
    return other * 2 > len(letters)


def not_supported_sentence(language: str) -> str:
    return (f"Questions in {language} are not supported yet: the documents are in English, so please ask in English "
            "(names and acronyms such as FRESO or Türkiye are fine).")
