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


def free_port() -> int:
    """A free TCP port on loopback, for a server a benchmark or test starts."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_quiet(limit_s: float, busy_below: float = 25.0) -> float:
    """Wait (up to limit_s) until other work leaves the CPUs mostly idle; return the busy % seen last.

    The cores are shared with other jobs (test suites, benchmarks); a throughput figure taken
    while a test suite runs next to it measures the test suite. The reading goes into the report.
    """
    import time

    deadline = time.monotonic() + limit_s
    busy = psutil.cpu_percent(interval=2)
    while busy >= busy_below and time.monotonic() < deadline:
        busy = psutil.cpu_percent(interval=2)
    return busy
