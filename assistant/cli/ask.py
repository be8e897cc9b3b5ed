"""Commands that ask the documents: `search` (ranked units) and `ask` (a cited answer)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterable

import click

from assistant.cli.batch import read_batch
from assistant.cli.group import cli, emit, settings_for
from assistant.cli.index import STORE_HELP
from assistant.errors import AssistantError
from assistant.search import Filters, Query
from assistant.vocabulary import MODES, STORES, UNIT_KINDS


def filter_options(function: Callable) -> Callable:
    options = [
        click.option("--doc", multiple=True, help="Only this document id (repeatable)."),
        click.option("--kind", multiple=True, type=click.Choice(list(UNIT_KINDS)),
                     help="Only this unit kind (repeatable)."),
        click.option("--section", multiple=True, help="Only units whose section heading contains this text."),
        click.option("--country", multiple=True, help="Only units naming this country (name or code)."),
        click.option("--date-from", default="", help="Only documents dated on or after (YYYY-MM-DD, YYYY-MM or YYYY)."),
        click.option("--date-to", default="", help="Only documents dated on or before (YYYY-MM-DD, YYYY-MM or YYYY)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def filters_from(doc: tuple[str, ...], kind: tuple[str, ...], section: tuple[str, ...], country: tuple[str, ...],
                 date_from: str, date_to: str) -> Filters:
    return Filters(tuple(doc), tuple(kind), tuple(section), tuple(country), date_from or "", date_to or "")


def _questions(question: str | None, batch: Path | None) -> tuple[list[object], bool]:
    """The raw questions, and whether they came from a batch file."""
    if (question is None) == (batch is None):
        raise AssistantError("Give either a QUESTION or --batch FILE, not both or neither.")
    if batch is not None:
        return [item.raw for item in read_batch(batch)], True
    return [question], False


def _run_each(items: Iterable[object], batch: bool, run: Callable[[object], dict], as_json: bool,
              human: Callable[[dict], str]) -> None:
    """Batch mode keeps going past a bad question and reports it on its line."""
    for raw in items:
        try:
            record = run(raw)
        except AssistantError as exc:
            if not batch:
                raise
            record = {"question": raw if isinstance(raw, str) else repr(raw), "error": str(exc), "results": []}
        emit(record, as_json or batch, human)


def _engine(store_name: str | None):
    from assistant.engine import load_engine

    return load_engine(settings_for(store=store_name))


_store_option = click.option("--store", "store_name", default=None, type=click.Choice(STORES), help=STORE_HELP)
_batch_option = click.option("--batch", type=click.Path(path_type=Path), default=None,
                             help="One question per line, or JSON Lines with a \"question\" field; output is JSON Lines.")


@cli.command()
@click.argument("question", required=False)
@_batch_option
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--mode", default=None, type=click.Choice(list(MODES)), help="Default: hybrid.")
@click.option("--json", "as_json", is_flag=True)
@_store_option
@filter_options
def search(question, batch, k, mode, as_json, store_name, doc, kind, section, country, date_from, date_to) -> None:
    """Retrieve the units that best match a question."""
    from assistant.present import human_search

    items, is_batch = _questions(question, batch)
    engine = _engine(store_name)
    filters = filters_from(doc, kind, section, country, date_from, date_to)
    _run_each(items, is_batch, lambda raw: engine.search(Query(raw, filters, mode, k=k)).to_dict(),  # type: ignore[arg-type]
              as_json, human_search)


@cli.command()
@click.argument("question", required=False)
@_batch_option
@click.option("--mode", default=None, type=click.Choice(list(MODES)), help="Retrieval mode.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--context", "context", multiple=True,
              help="An earlier question of the conversation, oldest first (repeatable): \"and Greece?\" is read "
                   "against it.")
@click.option("--llm-url", default="", help="OpenAI-compatible endpoint for the optional generative mode.")
@click.option("--llm-model", default="", help="Model name at that endpoint.")
@_store_option
@filter_options
def ask(question, batch, mode, as_json, context, llm_url, llm_model, store_name, doc, kind, section, country,
        date_from, date_to) -> None:
    """Answer with the documents' own sentences, each cited; abstain when they do not say."""
    from assistant.present import human_answer

    items, is_batch = _questions(question, batch)
    engine = _engine(store_name)
    filters = filters_from(doc, kind, section, country, date_from, date_to)
    if llm_url:
        engine = engine.with_llm(llm_url, llm_model)
    _run_each(items, is_batch,
              lambda raw: engine.ask(Query(raw, filters, mode, context=tuple(context))).to_dict(),  # type: ignore[arg-type]
              as_json, human_answer)


@cli.command()
@click.option("--mode", default=None, type=click.Choice(list(MODES)), help="Retrieval mode.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per answer (JSON Lines), as `ask --json`.")
@_store_option
@filter_options
def chat(mode, as_json, store_name, doc, kind, section, country, date_from, date_to) -> None:
    """A conversation: one question per line on standard input, each follow-up read against the earlier turns.

    "and Greece?" after a question about Bulgaria is searched as that question about Greece;
    the answer says what was searched. A question that cannot be asked gets its sentence and the
    conversation goes on.
    """
    from assistant.answering.conversation import MAX_TURNS, context_turn
    from assistant.present import human_answer

    engine = _engine(store_name)
    filters = filters_from(doc, kind, section, country, date_from, date_to)
    context: list[str] = []
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = engine.ask(Query(line.strip(), filters, mode, context=tuple(context[-MAX_TURNS:])))
        except AssistantError as exc:
            emit({"question": line.strip(), "error": str(exc)}, as_json, human_answer)
            continue
        emit(answer.to_dict(), as_json, lambda record: human_answer(record) + "\n")
        context.append(context_turn(answer).to_context())
