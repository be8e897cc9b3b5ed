"""Commands that measure: `eval` (the gold set) and `bench` (this machine), from the `eval` package."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.group import cli, settings_for
from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT


# What each command imports from the [eval] extra (module -> distribution), checked before it starts.
EVAL_NEEDS = {"ranx": "ranx", "matplotlib": "matplotlib", "langchain_text_splitters": "langchain-text-splitters"}
BENCH_NEEDS = {"psutil": "psutil", "langchain_text_splitters": "langchain-text-splitters", "reportlab": "reportlab"}
APP_BENCH_NEEDS = {"playwright": "playwright"}


def _missing(what: str, package: str) -> AssistantError:
    return AssistantError(f"{what} needs {package}, which is not installed; run `pip install -e '.[eval]'`.")


def _require(what: str, needs: dict[str, str]) -> None:
    """One sentence naming the first package of the [eval] extra that is not installed."""
    import importlib.util

    for module, package in needs.items():
        if importlib.util.find_spec(module) is None:
            raise _missing(what, package)


def _eval_module(name: str, what: str = "The evaluation"):
    """A module of the project's `eval` package (installed with the project), or one sentence why not."""
    import importlib

    try:
        return importlib.import_module(f"eval.{name}")
    except ModuleNotFoundError as exc:
        missing = exc.name or name
        if missing.startswith("eval"):
            raise AssistantError("The evaluation package is not installed; run `pip install -e .` from a checkout "
                                 "of the project.") from None
        raise _missing(what, missing.split(".")[0].replace("_", "-")) from None


@cli.command(name="eval")
@click.option("--gold", type=click.Path(path_type=Path, exists=True), default=None, help="Default: eval/gold.jsonl.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default: eval/results.")
@click.option("--modes", default="bm25,dense,hybrid", show_default=True)
@click.option("--no-baseline", is_flag=True, help="Skip the recursive-splitter baseline.")
def evaluate(gold: Path | None, out: Path | None, modes: str, no_baseline: bool) -> None:
    """Retrieval and answer metrics on the gold set; writes Markdown, JSON and a chart."""
    needs = dict(EVAL_NEEDS)
    if no_baseline:
        needs.pop("langchain_text_splitters")  # only the baseline splits text with it
    _require("The evaluation", needs)
    report = _eval_module("evaluation").run_evaluation(
        settings_for(),
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
    _require("The benchmark", BENCH_NEEDS if "--skip-app" in ctx.args else {**BENCH_NEEDS, **APP_BENCH_NEEDS})
    _eval_module("bench", "The benchmark").main(list(ctx.args))
