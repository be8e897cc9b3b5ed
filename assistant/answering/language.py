"""The question's language: the documents are English, and a question in another language is told so.

Questions in Greek, Bulgarian, German, French, Arabic ... are recognised with py3langid (a
maintained port of langid.py, its model shipped in the wheel) and get one sentence saying the
language is not supported, instead of loosely related passages. A question with two or more
English function words is English without asking the model, so English questions never wait
for it to load.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

# Languages users of this corpus write in (EU official languages and those of the main partner countries).
CANDIDATES = ("en", "de", "fr", "el", "bg", "ar", "it", "es", "tr", "ro", "hr", "nl", "pl", "pt", "fa", "ur", "ru", "uk",
              "sv", "da", "fi", "cs", "sk", "hu", "sl", "lt", "lv", "et", "mt")
CONFIDENCE = 0.9  # below this the question is taken as English (short queries of names and acronyms score low)
_ENGLISH = frozenset("the of is are was were what who whom which when where why how with for and in to does did do "
                     "has have been be a an on by from at this that status".split())


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


def foreign_language(question: str) -> str:
    """The name of the question's language when it is confidently not English, else ''.

    A question written mostly in another script than Latin (Greek, Cyrillic, Arabic ...) is not English
    whatever the model's confidence: it may split it between neighbours (Bulgarian, Russian, Ukrainian), and
    only its best guess among them is asked for."""
    words = re.findall(r"[^\W\d_]+", question.lower())
    if sum(1 for w in words if w in _ENGLISH) >= 2 or not words:
        return ""
    if _mostly_other_script(question):
        code = next(c for c, _ in _identifier().rank(question) if c != "en")
    else:
        code, probability = _identifier().classify(question)
        if code == "en" or probability < CONFIDENCE:
            return ""
    import pycountry

    language = pycountry.languages.get(alpha_2=code)
    # ISO 639's reference names qualify some languages ("Modern Greek (1453-)"); a reader wants "Greek"
    return re.sub(r"^Modern |\s*\(.*\)$", "", language.name) if language is not None else code


def _mostly_other_script(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    other = sum(1 for ch in letters if not unicodedata.name(ch, "LATIN").startswith("LATIN"))
    return other * 2 > len(letters)


def not_supported_sentence(language: str) -> str:
    return (f"Questions in {language} are not supported yet: the documents are in English, so please ask in English "
            "(names and acronyms such as FRESO or Türkiye are fine).")
