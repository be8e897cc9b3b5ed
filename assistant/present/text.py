"""The CLI's output: a search, an answer (the JSON records, laid out for a terminal), and the one sanitizer
every line printed to a terminal passes through (`terminal_text`; JSON through `json_line`)."""

from __future__ import annotations

import json
import re

from assistant.present.labels import passage_line


def human_search(record: dict) -> str:
    if "error" in record:
        return f"{record['question']!r}: {record['error']}"
    lines = [f"Q: {record['question']}"]
    for r in record["results"]:
        lines.append(f"{r['rank']:>2}. {r['score']:.4f}  {passage_line(r)}")
    for note in record.get("notes", []):
        lines.append(f"Note: {note}")
    return "\n".join(lines)


def human_answer(record: dict) -> str:
    if "error" in record:
        return f"{record['question']!r}: {record['error']}"
    lines = [f"Q: {record['question']}"]
    if record.get("searched") and record["searched"] != record["question"]:
        lines.append(f"Searched: {record['searched']}")
    lines += ["", record["answer"]]
    for note in record.get("notes", []):
        lines.append(f"Note: {note}")
    if record["citations"]:
        lines.append("")
        lines.append("Sources:")
        for c in record["citations"]:
            lines.append(f"[{c['n']}] {c['doc_title']} ({c.get('doc_reference', '')}, {c['doc_date']}), "
                         f"{c['locator']}, pages {c['pages']}")
    elif record["abstained"] and record["passages"]:
        lines.append("")
        lines.append("Possibly related:")
        for p in record["passages"][:5]:
            lines.append(f"- {passage_line(p)}")
    return "\n".join(lines)


# --- what reaches a terminal ------------------------------------------------------------------

# C0 controls but tab and newline, DEL, and C1 controls (0x9b is a one-byte CSI on some terminals): what a
# terminal acts on. Bidi marks and embeddings are text (Hebrew and Arabic need them) and are shown as in the app.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f]")  # json.dumps escapes the C0 controls itself


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: str) -> str:
    """Text as it may be printed to a terminal: every control or escape character shown as `\\x1b`-style text.

    Document text, titles, questions and error messages all pass through here on their way to the
    CLI's output, so no document can clear the screen, set the window title, draw a hyperlink
    (OSC 8) or move the cursor. Tabs and newlines are kept; a carriage return is shown as `\\x0d`.
    """
    return _UNSAFE.sub(_visible, text)


def json_line(record: object) -> str:
    """A record as one line of JSON: control characters escaped as JSON escapes them, DEL and C1 too."""
    text = json.dumps(record, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
