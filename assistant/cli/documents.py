"""Commands about the documents: add them (`add`), list them (`documents`), take them out (`remove`).

Each change is incremental: the index is rebuilt after it, and only new or changed chunks
are embedded. Adding and removing share their code with the app's upload form
(assistant/uploads.py).
"""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.group import cli, emit, say, settings_for
from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.vocabulary import DOCUMENT_KINDS, GENRES

PROGRESS_FROM = 2  # a progress bar when adding this many files or more


def _rebuild(settings: Settings, quiet: bool) -> str:
    from assistant.index import build_index

    report = build_index(settings.index_dir, settings.corpus_dir, settings.model, settings.backend, progress=not quiet)
    return "index rebuilt: " + report.sentence()


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--title", default=None, help="Title (one file); default: read from the document.")
@click.option("--date", "doc_date", default="", help="Date as 2024-06-21, or 2024-06 for a month (one file); "
              "default: read from the document, else undated.")
@click.option("--kind", default="", type=click.Choice(["", *DOCUMENT_KINDS]), show_choices=True,
              help="action_file, letter or general (one file); default: told from the document's structure.")
@click.option("--genre", default="", type=click.Choice(["", *GENRES]), help="What it is for labels (one file).")
@click.option("--reference", default="", help="Reference such as WK 10190/2024 INIT (one file).")
@click.option("--issuer", default="", help="Issuing body (one file); default: read from the document.")
@click.option("--language", default="", help="ISO 639-1 code such as en (one file); default: told from the text.")
@click.option("--metadata", "metadata_file", default=None, type=click.Path(path_type=Path),
              help="CSV or JSON with a row per file (file, title, date, kind, reference, issuer, language, url).")
@click.option("--no-index", is_flag=True, help="Add only; build the index later with `assistant index`.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
def add(paths: tuple[str, ...], title: str | None, doc_date: str, kind: str, genre: str, reference: str, issuer: str,
        language: str, metadata_file: Path | None, no_index: bool, quiet: bool, as_json: bool) -> None:
    """Add documents (files, folders, glob patterns): PDF, Word, HTML, Markdown or text."""
    from tqdm import tqdm

    from assistant.uploads import add_paths, expand_paths, read_metadata_file

    settings = settings_for()
    metadata = read_metadata_file(metadata_file) if metadata_file else None
    options = {"title": title, "doc_date": doc_date, "kind": kind, "genre": genre, "reference": reference,
               "issuing_body": issuer, "language": language}
    files, _ = expand_paths(paths)
    bar = tqdm(total=len(files), unit="file", desc="Adding", disable=quiet or len(files) < PROGRESS_FROM)
    try:
        report = add_paths(settings.corpus_dir, paths, metadata=metadata, options=options,
                           on_file=lambda path: bar.update(1))
    finally:
        bar.close()
    summary = report.sentence()
    if report.added and not no_index:
        summary += "; " + _rebuild(settings, quiet).rstrip(".")
    elif report.added:
        summary += "; run `assistant index` to make them searchable"
    for added in report.added:
        for warning in added.warnings:
            say(f"Warning: {warning}", err=True)
    record = {"added": [{**a.document.to_dict(), "units": a.units, "warnings": a.warnings} for a in report.added],
              "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
              "failed": [{"file": f, "reason": r} for f, r in report.failed], "summary": summary}
    emit(record, as_json, lambda r: r["summary"] + ".")
    if report.failed or not report.added and not report.skipped:
        raise click.exceptions.Exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one document per line with all its metadata.")
def documents(as_json: bool) -> None:
    """List the documents in the corpus: id, label, title, and what was read from the document itself."""
    from assistant.ingest import load_documents, short_label

    settings = settings_for()
    for document in load_documents(settings.corpus_dir):
        record = {**document.to_dict(), "label": short_label(document)}
        emit(record, as_json, lambda r: f"{r['id']}\t{r['label']}\t{r['title'][:80]}")


@cli.command()
@click.argument("doc_id")
@click.option("--no-index", is_flag=True, help="Remove only; build the index later with `assistant index`.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def remove(doc_id: str, no_index: bool, quiet: bool) -> None:
    """Remove an added document by its id (see `assistant documents`) and rebuild the index."""
    from assistant.uploads import remove_document

    settings = settings_for()
    removed = remove_document(settings.corpus_dir, doc_id)
    summary = f"Removed {removed.title!r}"
    summary += "; " + (_rebuild(settings, quiet).rstrip(".") if not no_index else "run `assistant index` to update the index")
    say(summary + ".")


__all__ = ["add", "documents", "remove", "AssistantError"]
