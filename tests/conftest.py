"""Shared fixtures: the real corpus, its units and chunks, built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.offline import set_offline_flags

set_offline_flags()
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
ACTION_FILE_ID = "emr-action-file-2024"
LETTER_ID = "commission-letter-2023"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def corpus_units():
    from assistant.chunking import load_units

    documents, units = load_units(CORPUS)
    return documents, units


@pytest.fixture(scope="session")
def units_by_locator(corpus_units):
    _, units = corpus_units
    return {(u.doc_id, u.locator): u for u in units}


@pytest.fixture(scope="session")
def chunked_corpus():
    from assistant.settings import DEFAULT_MODEL
    from assistant.chunking import chunk_corpus

    return chunk_corpus(CORPUS, DEFAULT_MODEL)


@pytest.fixture
def output_dir(request) -> Path:
    """A folder for artefacts a test leaves for people to look at (screenshots, reports)."""
    folder = ROOT / "test-output" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def settings():
    from assistant.settings import load_settings

    return load_settings()


@pytest.fixture(scope="session")
def engine(settings):
    """The real engine on the real index (built first if missing or stale, as `make test` does)."""
    from assistant.engine import load_engine
    from assistant.index import build_index, index_status

    status = index_status(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
    if not status.fresh:
        build_index(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
    return load_engine(settings)


def copy_corpus_and_index(root: Path, settings) -> tuple[Path, Path]:
    """Copies of the corpus (uploads left out) and of the served index generation under `root`.

    Tests that change documents or the index work on these, so the content-hash cache is
    warm and the real corpus and index are never touched.
    """
    import shutil

    from assistant.index import GENERATIONS, POINTER, current_generation

    corpus = root / "corpus"
    shutil.copytree(settings.corpus_dir, corpus, ignore=shutil.ignore_patterns("uploads"))
    index_dir = root / "index"
    (index_dir / GENERATIONS).mkdir(parents=True)
    served = current_generation(settings.index_dir)
    shutil.copytree(served, index_dir / GENERATIONS / served.name)
    (index_dir / POINTER).write_text(served.name + "\n", encoding="utf-8")
    return corpus, index_dir


@pytest.fixture(scope="session")
def evaluation(engine, settings, tmp_path_factory):
    """One evaluation of the default configuration on the real index, saved as a run in a temporary runs folder.

    The gate, the comparison tests and the app tests share it (it takes about 15 s here).
    """
    import time
    from types import SimpleNamespace

    from assistant.answering.ranker import MODEL_FILE
    from eval.evaluation import build_report, write_report
    from eval.runs import load_run, run_record, save_run

    gold = ROOT / "eval" / "gold.jsonl"
    started = time.perf_counter()
    report, _ = build_report(settings, gold, engine=engine)
    out = tmp_path_factory.mktemp("eval")
    markdown = write_report(report, out)
    record = run_record(report, engine, settings, gold, MODEL_FILE, "assistant eval", time.perf_counter() - started)
    runs_dir = tmp_path_factory.mktemp("runs")
    path = save_run(record, runs_dir, markdown)
    return SimpleNamespace(report=report, markdown=markdown, out=out, record=record, path=path, runs_dir=runs_dir,
                           run=load_run(path))


def save_two_runs(record: dict, folder: Path, hostile_answer: str) -> dict:
    """Run A (`record`) and run B (its first hybrid hits lost for five questions, one answer changed to
    `hostile_answer` with markup) saved in `folder`, for the app's Evaluation tab and its browser test."""
    import copy

    from eval.runs import save_run

    record = copy.deepcopy(record)
    save_run({**record, "id": "20250101T000000-aaaaaa"}, folder)
    demoted = [q for q, r in record["retrieval"]["hybrid"].items()
               if r["ranked"][0] in record["questions"][q]["relevant"]][:5]
    for q in demoted:
        relevant = set(record["questions"][q]["relevant"])
        record["retrieval"]["hybrid"][q]["ranked"] = [u for u in record["units"] if u not in relevant][:10]
    changed = next(q for q, a in record["answers"].items() if a["contains_evidence"] and q not in demoted)
    record["answers"][changed].update(answer=hostile_answer, answer_sha="changed", contains_evidence=False)
    record["config"]["rrf_k"] = 10
    save_run({**record, "id": "20250102T000000-bbbbbb"}, folder)
    return {"demoted": demoted, "changed": changed, "record": record}


def run_cli(local, *args: str):
    """The CLI on the corpus and index of `local` (settings), as a user's shell would run it."""
    from click.testing import CliRunner

    from assistant.cli import cli

    env = {"ASSISTANT_CORPUS": str(local.corpus_dir), "ASSISTANT_INDEX": str(local.index_dir)}
    return CliRunner().invoke(cli, list(args), env=env)
