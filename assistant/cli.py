"""The `assistant` command: chunks, index, status, search, ask, glossary, eval, bench.

JSON output shapes of `search` and `ask` are a contract other tools rely on: keys are
only ever added, never renamed or removed.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

import click

from assistant.errors import AssistantError
from assistant.offline import set_offline_flags

set_offline_flags()


class _Group(click.Group):
    """Turns every AssistantError into one plain sentence and exit code 1."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except AssistantError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group)
@click.version_option(package_name="assistant")
def cli() -> None:
    """Offline, cited question answering over EU migration policy documents."""


def _settings(model: str | None = None, backend: str | None = None):
    from assistant.settings import load_settings

    settings = load_settings()
    changes = {}
    if model:
        changes["model"] = model
    if backend:
        changes["backend"] = backend
    return settings.with_overrides(**changes) if changes else settings


def _emit(record: dict, as_json: bool, human: Callable[[dict], str]) -> None:
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        click.echo(human(record))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one chunk per line with its unit's fields.")
@click.option("--units", is_flag=True, help="List whole units instead of the model-sized chunks.")
@click.option("--model", default=None, help="Chunk for this model's input limit (default: the configured model).")
def chunks(as_json: bool, units: bool, model: str | None) -> None:
    """List what will be indexed: units (actions, letter sections, annex items) and their chunks."""
    from assistant.pipeline import chunk_corpus

    settings = _settings(model)
    corpus = chunk_corpus(settings.corpus_dir, settings.model)
    by_unit = {u.unit_id: u for u in corpus.units}
    if units:
        for unit in corpus.units:
            _emit(unit.to_dict(), as_json, lambda r: f"{r['unit_id']}\t{r['locator']}\tpages {r['pages']}\t{r['title'][:80]}")
        return
    for chunk in corpus.chunks:
        record = {**by_unit[chunk.unit_id].to_dict(), **chunk.to_dict()}
        _emit(record, as_json, lambda r: f"{r['chunk_id']}\t{r['locator']}\tpart {r['part']}/{r['parts']}\tpages {r['pages']}")


@cli.command()
@click.option("--if-stale", is_flag=True, help="Build only when the index is missing or stale.")
@click.option("--model", default=None, help="Embedding model (a registry name; see `assistant status`).")
@click.option("--backend", default=None, type=click.Choice(["torch", "onnx", "onnx-int8"]), help="Embedding runtime.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--store", "store_name", default=None, type=click.Choice(["faiss", "milvus"]),
              help="Vector store (not --backend: that is the embedding runtime). milvus also syncs the Milvus "
                   "collection at ASSISTANT_MILVUS_URI (default index/milvus.db). Default: ASSISTANT_STORE or faiss.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Embed new chunks on this many processes (torch backend), for large ingests.")
def index(if_stale: bool, model: str | None, backend: str | None, quiet: bool, store_name: str | None,
          workers: int) -> None:
    """Build the index (FAISS, BM25, chunk store, manifest); only changed chunks are embedded."""
    from assistant.index import build_index, index_status

    settings = _settings(model, backend)
    store_name = _store_name(store_name)
    if if_stale:
        status = index_status(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
        if status.fresh:
            click.echo(status.reason)
            _sync_store(store_name, settings)
            return
        click.echo(f"{status.reason} Building it now.")
    report = build_index(settings.index_dir, settings.corpus_dir, settings.model, settings.backend, progress=not quiet,
                         workers=workers)
    click.echo(report.sentence())
    _sync_store(store_name, settings)


def _store_name(name: str | None) -> str:
    from assistant.vector_store import store_name

    return store_name(name)


def _sync_store(store_name: str, settings) -> None:
    """Bring the Milvus collection to the served index's chunks (incremental, keyed by content)."""
    if store_name != "milvus":
        return
    from assistant.index import load_index
    from assistant.milvus_store import MilvusSettings, sync_milvus

    report = sync_milvus(load_index(settings.index_dir), MilvusSettings.from_env(settings.index_dir))
    click.echo(report.sentence("Milvus"))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Index status: built when, with which model, how many units, and whether it is stale."""
    from assistant.index import index_status

    settings = _settings()
    state = index_status(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
    manifest = state.manifest or {}
    record = {
        "exists": state.exists,
        "fresh": state.fresh,
        "reason": state.reason,
        "built_at": manifest.get("built_at"),
        "model": manifest.get("model"),
        "backend": manifest.get("backend"),
        "units": manifest.get("units"),
        "chunks": len(manifest.get("chunks", [])),
        "vector_index": manifest.get("vector_index"),
        "index_dir": str(settings.index_dir),
    }
    _emit(record, as_json, lambda r: "\n".join(f"{k}: {v}" for k, v in r.items()))


def _filters(doc: tuple[str, ...], kind: tuple[str, ...], section: tuple[str, ...], country: tuple[str, ...],
             date_from: str, date_to: str):
    from assistant.retrieval import Filters

    return Filters(tuple(doc), tuple(kind), tuple(section), tuple(country), date_from or "", date_to or "")


def _filter_options(function: Callable) -> Callable:
    options = [
        click.option("--doc", multiple=True, help="Only this document id (repeatable)."),
        click.option("--kind", multiple=True,
                     type=click.Choice(["action", "annex_item", "letter_section", "action_plans_table", "cover_note"]),
                     help="Only this unit kind (repeatable)."),
        click.option("--section", multiple=True, help="Only units whose section heading contains this text."),
        click.option("--country", multiple=True, help="Only units naming this country (name or code)."),
        click.option("--date-from", default="", help="Only documents dated on or after (YYYY-MM-DD)."),
        click.option("--date-to", default="", help="Only documents dated on or before (YYYY-MM-DD)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _questions(question: str | None, batch: Path | None) -> tuple[list[tuple[object, str]], bool]:
    """(raw question, error) pairs; batch mode keeps going past a bad line and reports it."""
    from assistant.questions import read_batch

    if (question is None) == (batch is None):
        raise AssistantError("Give either a QUESTION or --batch FILE, not both or neither.")
    if batch is not None:
        return [(item.raw, "") for item in read_batch(batch)], True
    return [(question, "")], False


def _run_each(items: Iterable[tuple[object, str]], batch: bool, run: Callable[[str], dict], as_json: bool,
              human: Callable[[dict], str]) -> None:
    for raw, _ in items:
        try:
            record = run(raw)  # type: ignore[arg-type]
        except AssistantError as exc:
            if not batch:
                raise
            record = {"question": raw if isinstance(raw, str) else repr(raw), "error": str(exc), "results": []}
        _emit(record, as_json or batch, human)


def _engine(mode: str | None = None, k: int | None = None, store_name: str | None = None):
    from assistant.engine import load_engine

    settings = _settings()
    retrieval = settings.retrieval
    if mode:
        retrieval = replace(retrieval, mode=mode)
    if k:
        retrieval = replace(retrieval, k=k)
    engine = load_engine(settings.with_overrides(retrieval=retrieval))
    if _store_name(store_name) == "milvus":
        from assistant.milvus_store import MilvusSettings, open_for_index

        engine.retriever.store = open_for_index(engine.index, MilvusSettings.from_env(settings.index_dir),
                                                engine.retriever.entries)
    return engine


_store_option = click.option(
    "--store", "store_name", default=None, type=click.Choice(["faiss", "milvus"]),
    help="Vector store for dense search: faiss (the index's own, default) or milvus (synced by "
         "`assistant index --store milvus`). Default: ASSISTANT_STORE or faiss.")


def _human_search(record: dict) -> str:
    if "error" in record:
        return f"{record['question']!r}: {record['error']}"
    lines = [f"Q: {record['question']}"]
    for r in record["results"]:
        lines.append(f"{r['rank']:>2}. {r['score']:.4f}  {r['locator']} (pages {r['pages']}) — {r['doc_title'][:60]}, {r['doc_date']}")
    return "\n".join(lines)


@cli.command()
@click.argument("question", required=False)
@click.option("--batch", type=click.Path(path_type=Path), default=None,
              help="One question per line, or JSON Lines with a \"question\" field; output is JSON Lines.")
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--mode", default=None, type=click.Choice(["dense", "bm25", "hybrid"]), help="Default: hybrid.")
@click.option("--json", "as_json", is_flag=True)
@_store_option
@_filter_options
def search(question, batch, k, mode, as_json, store_name, doc, kind, section, country, date_from, date_to) -> None:
    """Retrieve the units that best match a question."""
    items, is_batch = _questions(question, batch)
    engine = _engine(mode, k, store_name)
    filters = _filters(doc, kind, section, country, date_from, date_to)

    def run(raw: str) -> dict:
        hits = engine.retriever.search(raw, k=k, mode=mode, filters=filters)
        from assistant.questions import clean_question

        return {"question": clean_question(raw), "results": [h.to_dict() for h in hits]}

    _run_each(items, is_batch, run, as_json, _human_search)


def _human_answer(record: dict) -> str:
    if "error" in record:
        return f"{record['question']!r}: {record['error']}"
    lines = [f"Q: {record['question']}", "", record["answer"]]
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
            lines.append(f"- {p['locator']} (pages {p['pages']}) — {p['doc_title'][:60]}, {p['doc_date']}")
    return "\n".join(lines)


@cli.command()
@click.argument("question", required=False)
@click.option("--batch", type=click.Path(path_type=Path), default=None,
              help="One question per line, or JSON Lines with a \"question\" field; output is JSON Lines.")
@click.option("--mode", default=None, type=click.Choice(["dense", "bm25", "hybrid"]), help="Retrieval mode.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--llm-url", default="", help="OpenAI-compatible endpoint for the optional generative mode.")
@click.option("--llm-model", default="", help="Model name at that endpoint.")
@_store_option
@_filter_options
def ask(question, batch, mode, as_json, llm_url, llm_model, store_name, doc, kind, section, country, date_from,
        date_to) -> None:
    """Answer with the documents' own sentences, each cited; abstain when they do not say."""
    items, is_batch = _questions(question, batch)
    engine = _engine(mode, store_name=store_name)
    filters = _filters(doc, kind, section, country, date_from, date_to)
    if llm_url:
        engine = engine.with_llm(llm_url, llm_model)

    def run(raw: str) -> dict:
        return engine.ask(raw, filters=filters, mode=mode).to_dict()

    _run_each(items, is_batch, run, as_json, _human_answer)


@cli.command()
@click.argument("term", required=False)
@click.option("--json", "as_json", is_flag=True)
def glossary(term: str | None, as_json: bool) -> None:
    """The domain glossary: country codes, acronyms and user words, with sources."""
    from assistant.glossary import load_glossary

    settings = _settings()
    rows = load_glossary(settings.corpus_dir).entries()
    if term:
        needle = term.lower()
        rows = [r for r in rows if needle in r["term"].lower() or needle in r["meaning"].lower()]
        if not rows:
            raise AssistantError(f"The glossary has no entry for {term!r}.")
    for row in rows:
        _emit(row, as_json, lambda r: f"{r['term']}\t{r['meaning']}\t({r['kind']}; {r['source']})")


@cli.command(name="eval")
@click.option("--gold", type=click.Path(path_type=Path, exists=True), default=None, help="Default: eval/gold.jsonl.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default: eval/results.")
@click.option("--modes", default="bm25,dense,hybrid", show_default=True)
@click.option("--no-baseline", is_flag=True, help="Skip the recursive-splitter baseline.")
def evaluate(gold: Path | None, out: Path | None, modes: str, no_baseline: bool) -> None:
    """Retrieval and answer metrics on the gold set; writes Markdown, JSON and a chart."""
    from assistant.evaluation import run_evaluation
    from assistant.settings import PROJECT_ROOT

    settings = _settings()
    report = run_evaluation(
        settings,
        gold or PROJECT_ROOT / "eval" / "gold.jsonl",
        out or PROJECT_ROOT / "eval" / "results",
        modes=tuple(m.strip() for m in modes.split(",") if m.strip()),
        baseline=not no_baseline,
    )
    click.echo(report)


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def bench(ctx: click.Context) -> None:
    """Benchmark the pipeline on this machine (eval/bench.py); options pass through."""
    from assistant.settings import PROJECT_ROOT

    script = PROJECT_ROOT / "eval" / "bench.py"
    if not script.is_file():
        raise AssistantError("eval/bench.py is missing; run the benchmark from a checkout of the project.")
    import runpy

    sys.argv = [str(script), *ctx.args]
    runpy.run_path(str(script), run_name="__main__")


@cli.group()
def models() -> None:
    """The embedding models carried by installed packages."""


@models.command(name="list")
def models_list() -> None:
    """Registered models and whether their package is installed."""
    from assistant.models import MODELS

    for spec in MODELS.values():
        try:
            path = spec.resolve()
            where = str(path)
        except AssistantError as exc:
            where = f"not installed ({exc})"
        click.echo(f"{spec.name}\t{spec.dimension}-d\tmax {spec.max_seq_length} tokens\t{where}")


@models.command(name="build-onnx")
@click.option("--model", default=None)
@click.option("--int8/--fp32", "int8", default=True, show_default=True)
def models_build_onnx(model: str | None, int8: bool) -> None:
    """Export the model to ONNX (and int8) from the installed weights, once."""
    from assistant.onnx_encoder import ensure_onnx

    settings = _settings(model)
    path = ensure_onnx(settings.model, quantized=int8)
    click.echo(f"ONNX model ready at {path}.")


def main() -> None:
    cli(prog_name="assistant")


if __name__ == "__main__":
    sys.exit(main())
