"""The CLI's human-readable output: a search, an answer (the JSON records, laid out for a terminal)."""

from __future__ import annotations

from assistant.present.labels import passage_line


def human_search(record: dict) -> str:
    if "error" in record:
        return f"{record['question']!r}: {record['error']}"
    lines = [f"Q: {record['question']}"]
    for r in record["results"]:
        lines.append(f"{r['rank']:>2}. {r['score']:.4f}  {passage_line(r)}")
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
