"""What a measurement was taken on: benchmark figures mean little without it."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

import psutil


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(packages: Iterable[str] = ()) -> dict[str, Any]:
    """CPU, cores, RAM, Python, the load before the run and the versions of `packages`."""
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    names = list(packages)
    if names:
        info["versions"] = {name: metadata.version(name) for name in names}
    return info


def machine_line(info: dict[str, Any]) -> str:
    """'Intel(R) Xeon(R) ..., 2 cores, 23.5 GiB RAM, Python 3.11.7'."""
    return f"{info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, Python {info['python']}"
