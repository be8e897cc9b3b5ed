"""Every JSON file the product reads is checked against its schema on load, with one sentence on a problem.

The sentence names the file, where in it the problem is and what to do ("corpus/glossary.json:
countries entry 4's name must be a string; correct it, or restore the file from the repository ...").
The schemas here are the corpus's (documents.json, the uploads' metadata, glossary.json); the
index's manifest has its own in assistant/index/manifest.py and uses the same reader.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from assistant.errors import AssistantError
from assistant.vocabulary import DOCUMENT_KINDS, GENRES

_TEXT = {"type": "string"}
_WORD = {"type": "string", "minLength": 1, "pattern": r"\S"}  # a term that must say something

DOCUMENT_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "title", "kind", "language", "source_file"],
    "properties": {
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"},
        "title": _WORD,
        "issuing_body": _TEXT,
        "reference": _TEXT,
        "date": {"type": "string", "pattern": r"^(?:\d{4}-\d{2}(?:-\d{2})?)?$"},
        "kind": {"enum": list(DOCUMENT_KINDS)},
        "language": {"type": "string", "pattern": r"^[a-z]{2}$"},
        "source_file": _WORD,
        "notes": _TEXT,
        "missing_actions": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "genre": {"enum": ["", *GENRES]},
        "source_url": _TEXT,
        "derived": {"type": "array", "items": _TEXT},
        "text_hash": _TEXT,
    },
}
DOCUMENTS: dict[str, Any] = {"type": "array", "items": DOCUMENT_ENTRY}

GLOSSARY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "about": {},
        "countries": {"type": "array", "items": {
            "type": "object", "required": ["name"],
            "properties": {"name": _WORD, "code": {"type": "string", "pattern": r"^(?:[A-Z]{2,3})?$"},
                           "aliases": {"type": "array", "items": _WORD}, "source": _TEXT}}},
        "acronyms": {"type": "array", "items": {
            "type": "object", "required": ["term", "expansion"],
            "properties": {"term": _WORD, "expansion": _WORD, "source": _TEXT}}},
        "synonyms": {"type": "array", "items": {
            "type": "object", "required": ["user_terms", "document_terms"],
            "properties": {"user_terms": {"type": "array", "minItems": 1, "items": _WORD},
                           "document_terms": {"type": "array", "minItems": 1, "items": _WORD}, "source": _TEXT}}},
    },
}

_EXPECTED = {"string": "a string", "array": "a list", "object": "an object", "integer": "a whole number",
             "number": "a number", "boolean": "true or false", "null": "null"}


def shown_path(path: Path, levels: int = 2) -> str:
    """A file as a person knows it ("corpus/glossary.json"), without the server's folders above."""
    return "/".join(path.parts[-levels:])


def _where(error: ValidationError) -> str:
    """("countries", 3, "name") -> "countries entry 4's name"; () -> "the whole file"."""
    where = ""
    for step in error.absolute_path:
        if isinstance(step, int):
            where = f"{where} entry {step + 1}".strip()
        else:
            where = f"{where}'s {step}" if where else str(step)
    return where or "the whole file"


def _problem(error: ValidationError) -> str:
    """What is wrong, in words, never quoting a large value."""
    kind, expected = error.validator, error.validator_value
    if kind == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        return "must be " + " or ".join(_EXPECTED.get(n, n) for n in names)
    if kind == "required":
        missing = [name for name in expected if isinstance(error.instance, dict) and name not in error.instance]
        return f"lacks the field {missing[0] if missing else expected[0]!r}"
    if kind == "enum":
        return "must be one of " + ", ".join(repr(v) for v in expected if v != "") + (" or empty" if "" in expected else "")
    if kind in ("minLength", "pattern") and isinstance(error.instance, str) and not error.instance.strip():
        return "is empty"
    if kind == "pattern":
        return f"has an unexpected form ({str(error.instance)[:40]!r})"
    if kind == "minItems":
        return "must not be an empty list"
    if kind == "minimum":
        return f"must be at least {expected}"
    return error.message[:100].replace("\n", " ").rstrip(".")


def check_schema(data: object, schema: dict[str, Any], label: str, fix: str) -> None:
    """One sentence naming the file, the place in it and the fix, if `data` does not fit `schema`."""
    error = next(iter(sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        raise AssistantError(f"{label}: {_where(error)} {_problem(error)}; {fix}.")


def read_json(path: Path, label: str, fix: str) -> object:
    """A JSON file's value; unreadable, not UTF-8 or not JSON is one sentence naming the file and the fix."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AssistantError(f"{label} does not exist; {fix}.") from None
    except OSError as exc:
        raise AssistantError(f"{label} could not be read ({exc.strerror or type(exc).__name__}); {fix}.") from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise AssistantError(f"{label} is not UTF-8 text; {fix}.") from None
    except json.JSONDecodeError as exc:
        raise AssistantError(f"{label} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                             f"{exc.msg.lower()}); {fix}.") from None
    except RecursionError:
        raise AssistantError(f"{label} is nested too deeply to be read; {fix}.") from None


def load_checked(path: Path, schema: dict[str, Any], label: str, fix: str) -> Any:
    """read_json, then check_schema."""
    data = read_json(path, label, fix)
    check_schema(data, schema, label, fix)
    return data


__all__ = ["DOCUMENTS", "DOCUMENT_ENTRY", "GLOSSARY", "check_schema", "load_checked", "read_json", "shown_path"]
