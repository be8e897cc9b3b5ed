"""The install: the lock covers pyproject.toml, answering needs no extra, a missing extra is named in one sentence.

Each command runs in a subprocess where packages are hidden (`sys.modules[name] = None`
before anything is imported, so importing them fails as if they were not installed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
EXTRAS = PYPROJECT["optional-dependencies"]
# Every import of an extra's package, hidden at once: what answering must do without.
OPTIONAL_MODULES = ("torch", "sentence_transformers", "transformers", "onnx", "ranx", "matplotlib",
                    "langchain_text_splitters", "psutil", "reportlab", "playwright", "pymilvus", "milvus_lite",
                    "hypothesis", "markdown_it")
# Hide the modules named in argv[1] (comma-separated), then run `assistant` with the rest.
HIDE_AND_RUN = ("import sys; [sys.modules.__setitem__(m, None) for m in sys.argv[1].split(',') if m]; "
                "sys.argv = ['assistant', *sys.argv[2:]]; from assistant.cli import main; main()")


def _pins(name: str) -> dict[str, Version]:
    pins = {}
    for line in (LOCKS / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith((" ", "#")):
            package, _, version = line.partition("==")
            pins[canonicalize_name(package)] = Version(version)
    return pins


def _assistant(hidden: tuple[str, ...] | str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    hidden = (hidden,) if isinstance(hidden, str) else hidden
    return subprocess.run([sys.executable, "-c", HIDE_AND_RUN, ",".join(hidden), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("lock, extras", [
    ("run.txt", ()),
    ("torch.txt", ("torch",)),
    ("test.txt", ("torch", "eval", "milvus", "test")),
])
def test_each_lock_pins_every_dependency_it_installs(lock, extras):
    pins = _pins(lock)
    declared = [Requirement(r) for r in PYPROJECT["dependencies"]] + [Requirement(r) for e in extras for r in EXTRAS[e]]
    for requirement in declared:
        if requirement.marker and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock} does not pin {requirement}; run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), f"{lock} pins {name}=={pins[name]}, outside {requirement}; run `make lock`"


def test_the_sets_nest_at_the_same_versions():
    """make run's set lies inside make test's, so one never reinstalls what the other put there."""
    run, torch_set, test = _pins("run.txt"), _pins("torch.txt"), _pins("test.txt")
    assert run.items() <= torch_set.items() <= test.items()


def test_the_lock_has_cpu_torch_and_no_cuda():
    for lock in ("torch.txt", "test.txt"):
        assert _pins(lock)["torch"] == Version("2.13.0+cpu")
        assert not [p for p in _pins(lock) if p.startswith(("nvidia", "triton", "cuda"))]
    assert not {"torch", "sentence-transformers", "transformers"} & set(_pins("run.txt"))


def test_no_cuda_package_is_installed():
    installed = {canonicalize_name(d.metadata["Name"]) for d in metadata.distributions()}
    assert not [p for p in installed if p.startswith(("nvidia", "triton", "cuda"))]


@pytest.mark.slow
def test_answering_needs_no_extra(engine):
    """The CLI answers with every extra's packages hidden (the app calls the same engine)."""
    result = _assistant(OPTIONAL_MODULES, "ask", "what is the status of returns cooperation with Bulgaria", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["citations"] and not answer["abstained"]
    result = _assistant(OPTIONAL_MODULES, "search", "Frontex support to Cyprus for returns", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["results"], result.stderr


def _one_sentence(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0].removeprefix("Error: ")


@pytest.mark.parametrize("hidden, args, expected", [
    ("ranx", ["eval"], "The evaluation needs ranx, which is not installed; run `pip install -e '.[eval]'`."),
    ("matplotlib", ["eval"], "The evaluation needs matplotlib, which is not installed; run `pip install -e '.[eval]'`."),
    ("langchain_text_splitters", ["eval"],
     "The evaluation needs langchain-text-splitters, which is not installed; run `pip install -e '.[eval]'`."),
    ("psutil", ["bench"], "The benchmark needs psutil, which is not installed; run `pip install -e '.[eval]'`."),
    ("reportlab", ["bench", "--skip-app"], "The benchmark needs reportlab, which is not installed; run `pip install -e '.[eval]'`."),
    ("playwright", ["bench"], "The benchmark needs playwright, which is not installed; run `pip install -e '.[eval]'`."),
])
def test_a_command_names_the_missing_eval_extra(hidden, args, expected):
    assert _one_sentence(_assistant(hidden, *args)) == expected


@pytest.mark.slow
@pytest.mark.parametrize("hidden, expected", [
    ("pymilvus", "The Milvus store needs pymilvus, which is not installed; run `pip install -e '.[milvus]'`."),
    ("milvus_lite", "The local Milvus engine needs milvus-lite, which is not installed; run `pip install -e '.[milvus]'`."),
])
def test_the_milvus_store_names_the_missing_extra(engine, tmp_path, hidden, expected):
    result = _assistant(hidden, "search", "returns", "--store", "milvus", env={"ASSISTANT_MILVUS_URI": str(tmp_path / "m.db")})
    assert _one_sentence(result) == expected
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("hidden, args, expected", [
    ("torch", ["--backend", "torch"], "The torch backend needs torch, which is not installed; run `pip install -e '.[torch]'`."),
    ("sentence_transformers", ["--backend", "torch"],
     "The torch backend needs sentence-transformers, which is not installed; run `pip install -e '.[torch]'`."),
    ("sentence_transformers", ["--backend", "torch", "--workers", "2"],
     "Embedding on several processes needs sentence-transformers, which is not installed; run `pip install -e '.[torch]'`."),
])
def test_the_torch_backend_names_the_missing_extra(tmp_path, hidden, args, expected):
    result = _assistant(hidden, "index", "--quiet", *args, env={"ASSISTANT_INDEX": str(tmp_path / "index")})
    assert _one_sentence(result) == expected


@pytest.mark.parametrize("hidden, package", [("torch", "torch"), ("transformers", "transformers")])
def test_the_onnx_export_names_the_missing_extra(tmp_path, hidden, package):
    code = (f"import sys; sys.modules[{hidden!r}] = None\n"
            "from assistant.embedding.onnx import _export_fp32\n"
            "from assistant.errors import AssistantError\n"
            "try:\n"
            f"    _export_fp32('all-MiniLM-L6-v2', __import__('pathlib').Path({str(tmp_path / 'model.onnx')!r}))\n"
            "except AssistantError as exc:\n"
            "    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == (f"Exporting the model to ONNX needs {package}, which is not installed; "
                                     "run `pip install -e '.[torch]'`."), result.stderr
    assert not list(tmp_path.iterdir())
