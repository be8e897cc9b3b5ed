"""`assistant gold check` and `assistant gold add`: the gold set's care, from the `eval` package."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant.cli.evaluate import _eval_module
from assistant.cli.group import cli, settings_for, say
from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT

GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
# Items about documents not ingested yet; checked with the gold set, never evaluated.
GOLD_NEW = PROJECT_ROOT / "eval" / "gold_new_added.jsonl"
DRAFTS = PROJECT_ROOT / "eval" / "gold_drafts.jsonl"


@cli.group()
def gold() -> None:
    """Check the gold set, or add items to it."""


@gold.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, exists=True, dir_okay=False))
def check(files: tuple[Path, ...]) -> None:
    """Validate every item: fields, labels, split, quotes in their units, duplicates (default: the gold files).

    One line per problem; exit code 1 if there is any.
    """
    checker = _eval_module("gold_check")
    paths = list(files) or [p for p in (GOLD, GOLD_NEW) if p.is_file()]
    report = checker.check_files(paths, settings_for().corpus_dir)
    for problem in report.problems:
        say(str(problem))
    if report.problems:
        raise AssistantError(report.summary())
    say(report.summary())


@gold.command()
@click.option("--gold", "gold_path", type=click.Path(path_type=Path, dir_okay=False), default=GOLD, show_default=True,
              help="The file the items are appended to.")
@click.option("--question")
@click.option("--answer", help="The short gold answer the documents give.")
@click.option("--type", "type_", help="lookup, status, number, paraphrase, multi or unanswerable.")
@click.option("--evidence", nargs=3, multiple=True, metavar="DOC_ID LOCATOR QUOTE",
              help="A verbatim quote from a unit; repeat for several.")
@click.option("--intent")
@click.option("--answer-type")
@click.option("--style", help="formal, or user (short, lower-case, everyday words).")
@click.option("--kind", "unanswerable_kind", help="Why the documents do not answer (unanswerable items).")
@click.option("--id", "item_id", help="Default: the next free q-number.")
@click.option("--json", "json_line", help="The whole item as one JSON object.")
@click.option("--file", "items_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="JSON Lines, one item a line.")
@click.option("--from-feedback", "feedback_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The app's \"this answer is wrong\" reports (JSON Lines with question, answer_given, comment).")
@click.option("--drafts", type=click.Path(path_type=Path, dir_okay=False), default=DRAFTS, show_default=True,
              help="With --from-feedback: where drafts that still need work are written.")
@click.option("--dry-run", is_flag=True, help="Check only; append nothing.")
def add(gold_path: Path, question: str | None, answer: str | None, type_: str | None,
        evidence: tuple[tuple[str, str, str], ...], intent: str | None, answer_type: str | None, style: str | None,
        unanswerable_kind: str | None, item_id: str | None, json_line: str | None, items_file: Path | None,
        feedback_file: Path | None, drafts: Path, dry_run: bool) -> None:
    """Append items after the same checks as `gold check`; the split is fixed by the hash of the id."""
    checker = _eval_module("gold_check")
    sources = [s for s in (question, json_line, items_file, feedback_file) if s]
    if len(sources) != 1:
        raise AssistantError("Give the item one way: --question (with --answer, --type, --evidence), --json, "
                             "--file or --from-feedback.")
    existing = [row for path in dict.fromkeys((gold_path, GOLD, GOLD_NEW)) if path.is_file()
                for row in checker.read_rows(path)]
    corpus = checker.Corpus.load(settings_for().corpus_dir)
    if feedback_file:
        _add_feedback(checker, feedback_file, drafts, gold_path, existing, corpus, dry_run)
        return
    if question:
        fields = {"id": item_id, "question": question, "answer": answer or "", "type": type_ or "",
                  "evidence": [{"doc_id": d, "locator": loc, "quote": q} for d, loc, q in evidence],
                  "intent": intent, "answer_type": answer_type, "style": style, "unanswerable_kind": unanswerable_kind}
        rows = [checker.Row("--question", {k: v for k, v in fields.items() if v is not None})]
    elif json_line:
        try:
            rows = [checker.Row("--json", json.loads(json_line))]
        except json.JSONDecodeError as exc:
            raise AssistantError(f"The --json value is not valid JSON ({exc.msg} at column {exc.colno}).") from None
    else:
        rows = checker.read_rows(items_file)
    added, refused = _check_and_add(checker, rows, gold_path, existing, corpus, dry_run)
    if refused:
        raise AssistantError(f"{len(refused)} of {len(rows)} items failed the checks and were not added"
                             f"{f'; {len(added)} were added' if added else ''}.")


def _check_and_add(checker, rows, gold_path: Path, existing, corpus, dry_run: bool) -> tuple[list[dict], list]:
    """Complete (id, split), check each row against the gold set and the rows before it, append those that pass.

    Returns the items added and the rows refused; each problem is printed on its own line.
    """
    completed, taken = [], set()
    for row in rows:
        if isinstance(row.data, dict):
            item = checker.complete(row.data, existing, taken)
            taken.add(item["id"])
            row = checker.Row(row.where, item)
        completed.append(row)
    problems, _ = checker.check_rows(completed, corpus, existing)
    failing = {p.where for p in problems}
    for problem in problems:
        say(str(problem))
    good = [row.data for row in completed if row.where not in failing]
    if good and not dry_run:
        checker.append_items(gold_path, good)
    for item in good:
        say(f"{'Would add' if dry_run else 'Added'} {item['id']} ({item['type']}, split {item['split']}) "
                   f"to {gold_path.name}.")
    return good, [row for row in completed if row.where in failing]


def _add_feedback(checker, feedback_file: Path, drafts: Path, gold_path: Path, existing, corpus, dry_run: bool) -> None:
    """Each report becomes a draft; drafts that pass are added, the others are written to `drafts` to complete."""
    rows = []
    for row in checker.read_rows(feedback_file):
        try:
            rows.append(row if row.error else checker.Row(row.where, checker.draft_from_feedback(row.data)))
        except ValueError as exc:
            rows.append(checker.Row(row.where, error=str(exc)))
    if not rows:
        raise AssistantError(f"{feedback_file.name} holds no feedback reports.")
    _, refused = _check_and_add(checker, rows, gold_path, existing, corpus, dry_run)
    to_complete = [row.data for row in refused if isinstance(row.data, dict)]
    unreadable = len(refused) - len(to_complete)
    if not refused:
        return
    if not to_complete:
        raise AssistantError(f"{unreadable} feedback lines could not be read and were not added.")
    need = f"{len(to_complete)} drafts still need a gold answer, a type or evidence (or repeat a gold question)"
    if dry_run:
        raise AssistantError(f"{need} and would not be added.")
    if drafts.is_file() and drafts.read_text(encoding="utf-8").strip():
        raise AssistantError(f"{need} and were not added; {drafts} already holds drafts, so complete and add those "
                             f"first (`assistant gold add --file {drafts}`) or pass --drafts with another file.")
    drafts.parent.mkdir(parents=True, exist_ok=True)
    drafts.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in to_complete), encoding="utf-8")
    raise AssistantError(f"{need} and were not added; they are in {drafts}: complete them, then run "
                         f"`assistant gold add --file {drafts}`.")
