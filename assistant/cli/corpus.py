"""Commands about the corpus: what will be indexed (`chunks`) and the domain glossary."""

from __future__ import annotations

import click

from assistant.cli.group import cli, emit, settings_for
from assistant.errors import AssistantError


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one chunk per line with its unit's fields.")
@click.option("--units", is_flag=True, help="List whole units instead of the model-sized chunks.")
@click.option("--model", default=None, help="Chunk for this model's input limit (default: the configured model).")
def chunks(as_json: bool, units: bool, model: str | None) -> None:
    """List what will be indexed: units (actions, letter sections, annex items) and their chunks."""
    from assistant.chunking import chunk_corpus

    settings = settings_for(model)
    corpus = chunk_corpus(settings.corpus_dir, settings.model)
    by_unit = {u.unit_id: u for u in corpus.units}
    if units:
        for unit in corpus.units:
            emit(unit.to_dict(), as_json, lambda r: f"{r['unit_id']}\t{r['locator']}\tpages {r['pages']}\t{r['title'][:80]}")
        return
    for chunk in corpus.chunks:
        record = {**by_unit[chunk.unit_id].to_dict(), **chunk.to_dict()}
        emit(record, as_json, lambda r: f"{r['chunk_id']}\t{r['locator']}\tpart {r['part']}/{r['parts']}\tpages {r['pages']}")


@cli.command()
@click.argument("term", required=False)
@click.option("--json", "as_json", is_flag=True)
def glossary(term: str | None, as_json: bool) -> None:
    """The domain glossary: country codes, acronyms and user words, with sources."""
    from assistant.ingest import load_glossary

    rows = load_glossary(settings_for().corpus_dir).entries()
    if term:
        needle = term.lower()
        rows = [r for r in rows if needle in r["term"].lower() or needle in r["meaning"].lower()]
        if not rows:
            raise AssistantError(f"The glossary has no entry for {term!r}.")
    for row in rows:
        emit(row, as_json, lambda r: f"{r['term']}\t{r['meaning']}\t({r['kind']}; {r['source']})")
