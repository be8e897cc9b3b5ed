"""Faults: a build killed at random moments, damaged or foreign index files, a full disk.

Every test works on a copy of the real corpus beside a copy of the served index, so builds
are incremental, and ends the way a user would notice: the index loads and a real
question is answered with citations. The served index is only ever the last complete one;
the next build serves the new content. (tests/test_index.py covers a build that raises,
a corrupted vectors.npy and staleness after a corpus change; these go beyond them.)

The kill trials draw their delays from a seeded generator; a failure names the seed, and
ASSISTANT_FAULT_SEED=<seed> replays it.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.engine import load_engine
from assistant.errors import AssistantError, StaleIndexError
from assistant.index import (
    GENERATIONS,
    MANIFEST,
    build_index,
    current_generation,
    index_status,
    load_index,
)
from tests.conftest import copy_corpus_and_index, ROOT

pytestmark = pytest.mark.slow

BULGARIA = "what is the status of returns cooperation with Bulgaria"
EASTEAMS = "Where was the kick-off meeting of the EASTEAMS project held?"
ACTION_FILE = "council-action-file-eastern-mediterranean-route-2024-07-22.txt"
KICK_OFF = "Kick-off meeting of the EASTEAMS project took place on 26 September 2023, in Athens."
MOVED = "Kick-off meeting of the EASTEAMS project took place on 26 September 2023, in Thessaloniki."

# A build in its own process, reporting each step on a line of its own, as `assistant index` runs it.
BUILD = """
import sys
from pathlib import Path
from assistant.offline import set_offline_flags
set_offline_flags()
from assistant.index import build_index
build_index(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4],
            on_step=lambda message, fraction: print(message, flush=True))
print("BUILT", flush=True)
"""


def assert_one_sentence(message: str) -> None:
    assert message and "\n" not in message.strip() and "Traceback" not in message, message
    assert message.rstrip().endswith(".") and not re.search(r"[.!?]\s+[A-Z]", message.rstrip()[:-1]), message


@pytest.fixture(scope="module")
def template(tmp_path_factory, engine, settings):
    """The served index, rebuilt once by this code (so its manifest checksums every file)."""
    root = tmp_path_factory.mktemp("template")
    corpus, index_dir = copy_corpus_and_index(root, settings)
    report = build_index(index_dir, corpus, settings.model, settings.backend)
    assert report.embedded_texts == 0, "the template build reuses every vector"
    return corpus, index_dir


@pytest.fixture
def workspace(tmp_path, template, settings):
    """A private copy of the corpus and the template index; `local` points the settings at it."""
    corpus = tmp_path / "corpus"
    index_dir = tmp_path / "index"
    shutil.copytree(template[0], corpus)
    shutil.copytree(template[1], index_dir)
    return corpus, index_dir, settings.with_overrides(corpus_dir=corpus, index_dir=index_dir)


def _answers(local, question: str = BULGARIA, fresh: bool = True):
    """Load the index the way the app does and ask; the answer must be cited."""
    answer = load_engine(local, check_fresh=fresh).ask(question)
    assert not answer.abstained and answer.citations, answer.answer
    return answer


def _served_and_complete(local) -> Path:
    generation = current_generation(local.index_dir)
    assert generation is not None and not generation.name.startswith(".")
    manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["files"]) <= {p.relative_to(generation).as_posix() for p in generation.rglob("*") if p.is_file()}
    return generation


def _dead_builds(index_dir: Path) -> list[str]:
    return sorted(p.name for p in (index_dir / GENERATIONS).iterdir() if p.name.startswith(".building-"))


def _cli_env(local) -> dict[str, str]:
    return {"ASSISTANT_CORPUS": str(local.corpus_dir), "ASSISTANT_INDEX": str(local.index_dir),
            "ASSISTANT_BACKEND": local.backend, "ASSISTANT_MODEL": local.model}


# --- killed builds -------------------------------------------------------------------------------


def _start_build(local, stderr: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with stderr.open("w") as errors:
        return subprocess.Popen(
            [sys.executable, "-c", BUILD, str(local.index_dir), str(local.corpus_dir), local.model, local.backend],
            stdout=subprocess.PIPE, stderr=errors, text=True, cwd=ROOT, env=env)


def _wait_for_line(process: subprocess.Popen, starts: str, stderr: Path) -> None:
    for line in process.stdout:
        if line.startswith(starts):
            return
    process.wait()
    raise AssertionError(f"the build ended before {starts!r}: {stderr.read_text()[-2000:]}")


def _kill_build(local, rng: random.Random, when: str, stderr: Path, immediately: bool = False) -> str:
    """Start a build, SIGKILL it at a random moment; say when and whether it died or finished first.

    `immediately` kills it the moment the named step starts, so that at least one trial is a
    kill whatever the machine's speed (writing takes under 0.2 s on a quiet machine).
    """
    process = _start_build(local, stderr)
    try:
        if when == "anywhere":
            delay = rng.uniform(0.1, 6.0)
        elif when == "while-writing":
            _wait_for_line(process, "Writing", stderr)
            delay = 0.0 if immediately else rng.uniform(0.0, 0.3)
        else:  # while embedding the changed chunks: loading the model, encoding
            _wait_for_line(process, "Embedding", stderr)
            delay = rng.uniform(0.0, 2.5)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    if process.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"the build failed by itself: {stderr.read_text()[-2000:]}")
    return f"{when} +{delay:.2f} s: {'killed' if process.returncode == -signal.SIGKILL else 'finished first'}"


def test_a_build_killed_at_random_moments_leaves_the_last_complete_index_served(workspace, tmp_path):
    corpus, index_dir, local = workspace
    seed = int(os.environ.get("ASSISTANT_FAULT_SEED", time.time_ns() % 2**32))
    rng = random.Random(seed)
    trials: list[str] = []
    for number, when in enumerate(["anywhere", "while-writing"] * 3):
        trials.append(_kill_build(local, rng, when, tmp_path / "stderr.txt", immediately=number == 1))
        context = f"seed {seed}: {trials}"
        _served_and_complete(local)
        load_index(index_dir, corpus, local.model, local.backend)  # fresh: the corpus did not change
        assert _answers(local).citations[0].unit.locator == "Action 21", context
    assert any(t.endswith("killed") for t in trials), f"seed {seed}: no trial was killed: {trials}"

    # Now a change, so the build has embedding work, killed while it loads the model or embeds.
    path = corpus / ACTION_FILE
    path.write_text(path.read_text(encoding="utf-8").replace(KICK_OFF, MOVED), encoding="utf-8")
    trials.append(_kill_build(local, rng, "while-embedding", tmp_path / "stderr.txt"))
    context = f"seed {seed}: {trials}"
    _served_and_complete(local)
    if index_status(index_dir, corpus, local.model, local.backend).fresh:  # it got as far as the swap
        assert "Thessaloniki" in _answers(local, EASTEAMS).answer, context
    else:  # the previous index is still served, whole, with the stale notice on its answers
        status = index_status(index_dir, corpus, local.model, local.backend)
        assert status.stale and status.servable and status.changed == 1, context
        answer = _answers(local, EASTEAMS)
        assert "Athens" in answer.answer and answer.notes[-1] == status.reason, context

    # A dead build's folder from long ago must not get in the way either.
    leftover = index_dir / GENERATIONS / ".building-20000101T000000000000Z-4194305"
    (leftover / "bm25").mkdir(parents=True)
    (leftover / "vectors.npy").write_bytes(b"half a file")
    report = build_index(index_dir, corpus, local.model, local.backend)
    assert _dead_builds(index_dir) == [], context
    finished = [p for p in (index_dir / GENERATIONS).iterdir() if not p.name.startswith(".")]
    assert len(finished) <= 2 and current_generation(index_dir) == report.generation
    assert report.embedded <= 3, "the next build is still incremental"
    answer = _answers(local, EASTEAMS)
    assert "Thessaloniki" in answer.answer and "Athens" not in answer.answer, context


# --- damaged and foreign indexes -----------------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _rebuilt_by_if_stale(local) -> None:
    result = CliRunner().invoke(cli, ["index", "--if-stale", "--quiet"], env=_cli_env(local))
    assert result.exit_code == 0, result.output
    assert "Building it now." in result.output and "Indexed" in result.output
    status = index_status(local.index_dir, local.corpus_dir, local.model, local.backend)
    assert status.fresh, status.reason
    assert _answers(local).citations[0].unit.locator == "Action 21"
    again = CliRunner().invoke(cli, ["index", "--if-stale", "--quiet"], env=_cli_env(local))
    assert again.exit_code == 0 and "up to date" in again.output


@pytest.mark.parametrize("name", ["faiss.index", "store.sqlite", "rows.npz", "bm25/vocab.index.json",
                                  "bm25/data.csc.index.npy"])
def test_a_truncated_index_file_is_refused_in_one_sentence_and_rebuilt_by_if_stale(workspace, name):
    corpus, index_dir, local = workspace
    _truncate(current_generation(index_dir) / name)
    with pytest.raises(StaleIndexError) as caught:
        load_index(index_dir, corpus, local.model, local.backend)
    assert name in str(caught.value) and "assistant index" in str(caught.value)
    assert_one_sentence(str(caught.value))
    result = CliRunner().invoke(cli, ["ask", BULGARIA], env=_cli_env(local))
    assert result.exit_code == 1 and result.output.startswith("Error: ") and "Traceback" not in result.output
    assert_one_sentence(result.output.removeprefix("Error: "))
    _rebuilt_by_if_stale(local)


def _edit_manifest(generation: Path, change) -> None:
    path = generation / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


FOREIGN_MANIFESTS = [
    pytest.param(_truncate, "manifest", id="manifest-cut-in-half"),
    pytest.param(lambda g: _edit_manifest(g, lambda m: m.update(model="all-mpnet-base-v2")), "model",
                 id="built-with-another-model"),
    pytest.param(lambda g: _edit_manifest(g, lambda m: m["chunker"].update(version="0.9")), "chunker",
                 id="built-with-another-chunker-version"),
    pytest.param(lambda g: _edit_manifest(g, lambda m: m["chunker"].update(max_tokens=512)), "chunker",
                 id="built-for-another-input-limit"),
]


@pytest.mark.parametrize("damage, says", FOREIGN_MANIFESTS)
def test_a_damaged_or_foreign_manifest_is_refused_and_rebuilt_by_if_stale(workspace, damage, says):
    corpus, index_dir, local = workspace
    generation = current_generation(index_dir)
    damage(generation / MANIFEST if damage is _truncate else generation)
    with pytest.raises(AssistantError) as caught:
        load_index(index_dir, corpus, local.model, local.backend)
    assert says in str(caught.value)
    assert_one_sentence(str(caught.value))
    assert not index_status(index_dir, corpus, local.model, local.backend).fresh
    _rebuilt_by_if_stale(local)


# --- a full disk ---------------------------------------------------------------------------------


def _used(folder: Path) -> int:
    stats = os.statvfs(folder)
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize


def _mount_tmpfs(folder: Path, size: int) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _build_failing_on_a_full_disk(local, free: int, disk: Path) -> str:
    """Build with only `free` bytes left on the index's tmpfs; the CLI's output."""
    subprocess.run(["mount", "-o", f"remount,size={_used(disk) + free}", str(disk)], check=True, timeout=30)
    result = CliRunner().invoke(cli, ["index", "--quiet"], env=_cli_env(local))
    assert result.exit_code == 1, f"{free} bytes free: {result.output}"
    return result.output


# With RLIMIT_FSIZE set, a write past the limit fails with EFBIG instead of killing the build.
LIMITED_BUILD = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from assistant.cli import main
sys.argv = ["assistant", "index", "--quiet"]
main()
"""


def _build_failing_past_a_file_size_limit(local, limit: int) -> str:
    env = {**os.environ, **_cli_env(local), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", LIMITED_BUILD, str(limit)], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 1, f"limit {limit}: {result.stdout}{result.stderr[-2000:]}"
    return result.stdout + result.stderr


@pytest.mark.parametrize("disk_kind", ["tmpfs", "file-size-limit"])
def test_a_full_disk_fails_the_build_in_one_sentence_and_the_old_index_keeps_answering(tmp_path, template, settings,
                                                                                       disk_kind):
    """On a tiny tmpfs when this machine lets us mount one (as root); past RLIMIT_FSIZE otherwise, and always once."""
    corpus = tmp_path / "corpus"
    shutil.copytree(template[0], corpus)
    disk = tmp_path / "disk"
    mounted = disk_kind == "tmpfs" and _mount_tmpfs(disk, 64 * 1024 * 1024)
    index_dir = disk if mounted else tmp_path / "index"
    shutil.copytree(template[1], index_dir, dirs_exist_ok=True)
    local = settings.with_overrides(corpus_dir=corpus, index_dir=index_dir)
    served = current_generation(index_dir)
    before = sorted(p.relative_to(index_dir).as_posix() for p in index_dir.rglob("*"))
    sizes = [p.stat().st_size for p in served.rglob("*") if p.is_file()]
    pages = sum(-(-size // 4096) * 4096 for size in sizes)  # what a generation takes on tmpfs
    rng = random.Random(int(os.environ.get("ASSISTANT_FAULT_SEED", time.time_ns() % 2**32)))
    try:
        if mounted:
            # Out of space early, somewhere in the middle, and with only the pointer swap left to write.
            budgets = [rng.randrange(4096, pages // 3), rng.randrange(pages // 3, pages - 4096), pages]
            outputs = [_build_failing_on_a_full_disk(local, free, disk) for free in budgets]
        else:
            outputs = [_build_failing_past_a_file_size_limit(local, limit) for limit in (4096, max(sizes) // 2)]
        for output in outputs:
            assert output.startswith("Error: The index could not be written") and "Traceback" not in output, output
            assert_one_sentence(output.removeprefix("Error: "))
            assert current_generation(index_dir) == served, "no half-written generation is served"
            after = sorted(p.relative_to(index_dir).as_posix() for p in index_dir.rglob("*"))
            assert after == before, "nothing is left behind to fill the disk further"
            load_index(index_dir, corpus, local.model, local.backend)
            assert _answers(local).citations[0].unit.locator == "Action 21"
        if mounted:  # with space again, the next build goes through
            subprocess.run(["mount", "-o", f"remount,size={64 * 1024 * 1024}", str(disk)], check=True, timeout=30)
        report = build_index(index_dir, corpus, local.model, local.backend)
        assert current_generation(index_dir) == report.generation != served
        assert _answers(local).citations[0].unit.locator == "Action 21"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)
