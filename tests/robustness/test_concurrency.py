"""Many people adding and removing documents at once: nothing lost, nothing twice, the corpus always loads.

N threads and M processes start together on a barrier and each adds documents of its own,
removes documents seeded for it, and adds one shared document (the same bytes for all), while
a build reads the corpus. Every reported success must be in the corpus exactly once, every
refusal of the shared document must say it is a duplicate, and the metadata and the files
must agree. The two races found are then made to happen for sure: the same file uploaded twice
at once (both past the first duplicate check before either takes the lock), and a document
removed while a build reads the corpus.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import pytest

import assistant.uploads as uploads
from assistant.errors import AssistantError
from assistant.ingest import load_documents
from assistant.uploads import DuplicateError, add_upload, remove_document

THREADS, PROCESSES, ADDS = 4, 2, 3
SHARED = ("A note everyone adds at once: the joint working group on Moldova border cooperation met in Chisinau "
          "and agreed to deploy liaison officers at the border crossing points in the spring.\n").encode("utf-8")


def note(worker: int, i: int) -> bytes:
    return (f"Deployment note {worker}-{i}: the working group number {worker} met in Chisinau and agreed to deploy "
            f"{i + 2} liaison officers at crossing point {worker * 10 + i} of the Moldova border.\n").encode("utf-8")


def work(corpus: str, worker: int, to_remove: list[str], barrier) -> list[tuple[str, str]]:
    """One person's session: adds of their own, removals, the shared document; what each call reported."""
    corpus_dir = Path(corpus)
    done: list[tuple[str, str]] = []
    barrier.wait(timeout=120)
    steps = [("add", i) for i in range(ADDS)] + [("remove", doc_id) for doc_id in to_remove] + [("shared", "")]
    for kind, value in steps:
        try:
            if kind == "add":
                done.append(("added", add_upload(corpus_dir, note(worker, value), f"note-{worker}-{value}.txt").document.id))
            elif kind == "remove":
                done.append(("removed", remove_document(corpus_dir, value).id))
            else:
                done.append(("added-shared", add_upload(corpus_dir, SHARED, f"shared-{worker}.txt").document.id))
        except DuplicateError as exc:
            done.append(("duplicate", str(exc)))
        except Exception as exc:  # anything else is a failure of the test
            done.append(("error", f"{type(exc).__name__}: {exc}"))
    return done


def _in_a_process(corpus: str, worker: int, to_remove: list[str], barrier, queue) -> None:
    queue.put((worker, work(corpus, worker, to_remove, barrier)))


def _check_corpus(corpus: Path) -> list[str]:
    documents = load_documents(corpus)  # loads: valid metadata, unique ids, every file there
    entries = json.loads((corpus / "uploads" / "documents.json").read_text(encoding="utf-8"))
    stored = {entry["source_file"] for entry in entries}
    on_disk = {f"uploads/{p.name}" for p in (corpus / "uploads").iterdir() if p.name.startswith("upload-")}
    assert stored == on_disk, "every entry has its file and every file its entry"
    assert not list((corpus / "uploads").glob(".*.tmp")), "no temporary file left behind"
    return [d.id for d in documents]


@pytest.fixture
def corpus(tmp_path, corpus_dir):
    import shutil

    target = tmp_path / "corpus"
    shutil.copytree(corpus_dir, target, ignore=shutil.ignore_patterns("uploads"))
    return target


def test_threads_and_processes_adding_and_removing_at_once_lose_nothing_and_duplicate_nothing(corpus, settings):
    workers = THREADS + PROCESSES
    seeded = {w: [add_upload(corpus, note(100 + w, j), f"seed-{w}-{j}.txt").document.id for j in range(2)]
              for w in range(workers)}
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers + 1)  # the workers and a build, all at once
    queue = context.Queue()
    processes = [context.Process(target=_in_a_process, args=(str(corpus), w, seeded[w], barrier, queue))
                 for w in range(THREADS, workers)]
    for process in processes:
        process.start()
    results: dict[int, list] = {}
    threads = [threading.Thread(target=lambda w=w: results.__setitem__(w, work(str(corpus), w, seeded[w], barrier)))
               for w in range(THREADS)]
    built: list[object] = []

    def build() -> None:
        from assistant.chunking import chunk_corpus

        barrier.wait(timeout=120)
        for _ in range(3):  # reading the corpus while it changes: each read is one consistent corpus
            try:
                built.append(len(chunk_corpus(corpus, settings.model).documents))
            except Exception as exc:
                built.append(f"{type(exc).__name__}: {exc}")

    threads.append(threading.Thread(target=build))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for _ in processes:
        worker, done = queue.get(timeout=300)
        results[worker] = done
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    reported = [item for w in sorted(results) for item in results[w]]
    assert not [r for r in reported if r[0] == "error"], [r for r in reported if r[0] == "error"]
    assert all(isinstance(b, int) for b in built), built
    ids = _check_corpus(corpus)
    for kind, value in reported:
        if kind in ("added", "added-shared"):
            assert ids.count(value) == 1, value
        elif kind == "removed":
            assert value not in ids
    shared = [r for r in reported if r[0] in ("added-shared", "duplicate")]
    assert [r[0] for r in shared].count("added-shared") == 1 and len(shared) == workers
    assert all("is already in the corpus as" in value for kind, value in shared if kind == "duplicate")
    assert len(ids) == 2 + workers * ADDS + 1


def test_the_same_file_uploaded_twice_at_once_is_added_once(corpus, monkeypatch):
    """Both uploads pass the check before the lock at the same moment; the check inside the lock refuses one."""
    real = uploads._refuse_duplicate
    both_checked = threading.Barrier(2)
    first_call = threading.local()

    def checked_together(corpus_dir, prepared, shown):
        real(corpus_dir, prepared, shown)
        if not getattr(first_call, "done", False):
            first_call.done = True
            both_checked.wait(timeout=30)  # neither takes the lock before both have passed this check

    monkeypatch.setattr(uploads, "_refuse_duplicate", checked_together)
    outcomes: list[str] = []

    def upload(name: str) -> None:
        try:
            outcomes.append(add_upload(corpus, SHARED, name).document.id)
        except DuplicateError as exc:
            outcomes.append(f"duplicate: {exc}")

    threads = [threading.Thread(target=upload, args=(f"copy-{n}.txt",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted("duplicate" if o.startswith("duplicate") else "added" for o in outcomes) == ["added", "duplicate"]
    assert len(_check_corpus(corpus)) == 3


def test_a_document_removed_while_a_build_reads_the_corpus_waits_for_the_read(corpus, settings, monkeypatch):
    """The build holds the corpus lock while it reads; a removal waits for it instead of pulling a file away."""
    import assistant.chunking.pipeline as pipeline
    from assistant.chunking import chunk_corpus

    added = add_upload(corpus, note(1, 1), "note.txt").document
    reading, removed = threading.Event(), threading.Event()
    real = pipeline.load_lines

    def slow_read(path):
        reading.set()
        removed.wait(timeout=2)  # without the lock the removal finishes here and the file is gone
        return real(path)

    monkeypatch.setattr(pipeline, "load_lines", slow_read)
    outcome: list[object] = []

    def remove() -> None:
        reading.wait(timeout=30)
        remove_document(corpus, added.id)
        removed.set()

    remover = threading.Thread(target=remove)
    remover.start()
    try:
        outcome.append(len(chunk_corpus(corpus, settings.model).documents))
    except AssistantError as exc:
        outcome.append(str(exc))
    remover.join(timeout=60)
    assert outcome == [3], outcome  # the corpus as it was when the read began, read whole
    assert added.id not in _check_corpus(corpus)


@pytest.mark.slow
def test_a_document_added_while_a_build_runs_is_in_the_next_build_not_a_failure(tmp_path, engine, settings,
                                                                               monkeypatch):
    """Found by the load test: an upload between the build's hashing of the corpus and its reading made the build
    fail (KeyError). The build now hashes and reads under one hold of the lock; an upload after that waits for
    nothing, and the index built without it is stale by one document."""
    import assistant.index.build as build_module
    from assistant.index import build_index, index_status
    from tests.conftest import copy_corpus_and_index

    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    real = build_module.chunk_corpus
    added: list[str] = []

    def an_upload_lands_first(*args, **kwargs):
        uploader = threading.Thread(target=lambda: added.append(add_upload(corpus, note(7, 7), "late.txt").document.id))
        uploader.start()
        uploader.join(timeout=60)  # the upload is in the corpus before the chunker runs
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "chunk_corpus", an_upload_lands_first)
    report = build_index(index_dir, corpus, settings.model, settings.backend)
    assert report.chunks and added, "the build went through, and the upload during it"
    status = index_status(index_dir, corpus, settings.model, settings.backend)
    assert status.stale and status.changed == 1 and "(1 added)" in status.reason


@pytest.mark.slow
def test_loading_the_index_while_a_document_is_removed_waits_for_the_removal(tmp_path, engine, settings, monkeypatch):
    """Found by the load test: the corpus was hashed while a removal took a file away (FileNotFoundError when a
    rebuilt index was loaded). Hashing now holds the corpus lock; the removal waits for it."""
    import assistant.index.manifest as manifest_module
    from assistant.index import build_index, load_index
    from tests.conftest import copy_corpus_and_index

    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    doomed = add_upload(corpus, note(8, 8), "doomed.txt").document
    build_index(index_dir, corpus, settings.model, settings.backend)
    real = manifest_module.sha256_file
    remover: list[threading.Thread] = []

    def hash_while_removing(path):
        if not remover:
            remover.append(threading.Thread(target=remove_document, args=(corpus, doomed.id)))
            remover[0].start()
            remover[0].join(timeout=2)  # without the lock the file is gone before it is hashed
        return real(path)

    monkeypatch.setattr(manifest_module, "sha256_file", hash_while_removing)
    loaded = load_index(index_dir, corpus, settings.model, settings.backend)
    remover[0].join(timeout=60)
    assert doomed.id in {d.id for d in loaded.documents}
    monkeypatch.setattr(manifest_module, "sha256_file", real)
    assert "(1 removed)" in load_index(index_dir, corpus, settings.model, settings.backend).stale_notice()


@pytest.mark.slow
def test_a_file_vanishing_while_an_answer_checks_the_corpus_never_fails_the_answer(tmp_path, engine, settings,
                                                                                  monkeypatch):
    import assistant.index.load as load_module
    from assistant.engine import load_engine
    from tests.conftest import copy_corpus_and_index

    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    served = load_engine(settings.with_overrides(corpus_dir=corpus, index_dir=index_dir))
    served.index.watch.interval = 0
    add_upload(corpus, note(9, 9), "new.txt")
    real = load_module.corpus_fingerprint

    def vanishing(corpus_dir, lock=True):
        raise FileNotFoundError(2, "No such file or directory", str(corpus_dir / "uploads" / "gone.txt"))

    monkeypatch.setattr(load_module, "corpus_fingerprint", vanishing)
    answer = served.ask("what is the status of returns cooperation with Bulgaria")
    assert answer.citations and not any(n.startswith("Stale") for n in answer.notes), "the notice waits, the answer not"
    monkeypatch.setattr(load_module, "corpus_fingerprint", real)
    assert served.ask("what is the status of returns cooperation with Bulgaria").notes[-1].startswith("Stale index: 1")


def test_listing_the_documents_while_one_is_removed_never_fails(corpus, monkeypatch):
    """The listing reads each entry and then checks its file; a removal in between used to fail the listing."""
    import assistant.ingest.corpus as corpus_module

    doomed = add_upload(corpus, note(5, 5), "doomed.txt").document
    real = corpus_module._inside
    remover: list[threading.Thread] = []

    def check_while_removing(folder, path):
        if path.parent.name == "uploads" and not remover:
            remover.append(threading.Thread(target=remove_document, args=(corpus, doomed.id)))
            remover[0].start()
            remover[0].join(timeout=2)  # without the lock the file is gone before it is checked
        return real(folder, path)

    monkeypatch.setattr(corpus_module, "_inside", check_while_removing)
    listed = [d.id for d in load_documents(corpus)]
    remover[0].join(timeout=60)
    assert doomed.id in listed and doomed.id not in [d.id for d in load_documents(corpus)]
