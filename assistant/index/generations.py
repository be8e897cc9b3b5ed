"""Index generations: each build writes a new folder, and a pointer file names the one served.

    index/CURRENT               name of the generation being served (replaced atomically)
    index/generations/<name>/   one complete index
    index/generations/.building-<name>-<pid>/   a build in progress

A build killed at any point leaves the previous generation served; old generations and
dead builds are removed after a successful swap. A pointer that is not a generation's name
(not text, an odd name, a folder that is not there) is damaged: refused in one sentence,
and replaced by the next `assistant index`.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from assistant.errors import StaleIndexError

POINTER = "CURRENT"
GENERATIONS = "generations"
BUILDING_PREFIX = ".building-"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_REBUILD = "run `assistant index` to rebuild the index"


def current_generation(index_dir: Path) -> Path | None:
    """The generation CURRENT names; None before the first build; StaleIndexError if the pointer is damaged."""
    pointer = index_dir / POINTER
    label = f"{index_dir.name}/{POINTER}"
    if not pointer.exists() and not pointer.is_symlink():
        return None
    try:
        raw = pointer.read_bytes()
    except OSError as exc:
        raise StaleIndexError(f"{label} could not be read ({exc.strerror or type(exc).__name__}); {_REBUILD}.") from None
    try:
        name = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise StaleIndexError(f"{label} is damaged (it is not the name of an index generation); {_REBUILD}.") from None
    if not _NAME.match(name) or name.startswith(BUILDING_PREFIX):
        raise StaleIndexError(f"{label} is damaged (it is not the name of an index generation); {_REBUILD}.")
    folder = index_dir / GENERATIONS / name
    if not folder.is_dir():
        raise StaleIndexError(f"{label} names the generation {name}, which is not in {index_dir.name}/{GENERATIONS}; "
                              f"{_REBUILD}.")
    return folder


def served_generation(index_dir: Path) -> Path | None:
    """current_generation, with a damaged pointer read as no generation (for builds, which replace it)."""
    try:
        return current_generation(index_dir)
    except StaleIndexError:
        return None


def new_generation_name() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


def swap_pointer(index_dir: Path, name: str) -> None:
    """Point CURRENT at `name`, atomically and durably."""
    temporary = index_dir / f".{POINTER}.{os.getpid()}.tmp"
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, index_dir / POINTER)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def remove_old_generations(index_dir: Path, keep: str) -> None:
    """Keep the served generation and the one before it; drop older ones and dead builds."""
    generations = sorted((p for p in (index_dir / GENERATIONS).iterdir() if p.is_dir()), key=lambda p: p.name)
    finished = [p for p in generations if not p.name.startswith(BUILDING_PREFIX)]
    for folder in finished[:-2]:
        if folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)
    for folder in generations:
        if folder.name.startswith(BUILDING_PREFIX) and not _build_alive(folder.name):
            shutil.rmtree(folder, ignore_errors=True)


def _build_alive(name: str) -> bool:
    try:
        pid = int(name.rsplit("-", 1)[1])
        os.kill(pid, 0)
        return pid != os.getpid()
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
