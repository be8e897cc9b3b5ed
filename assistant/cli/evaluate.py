"""Commands that measure: `eval` (the gold set) and `bench` (this machine), from the `eval` package."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.group import cli, settings_for
from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT


def _eval_module(name: str):
    """A module of the project's `eval` package (installed with the project), or one sentence why not."""
    import importlib

    try:
        return importlib.import_module(f"eval.{name}")
    except ModuleNotFoundError as exc:
        missing = exc.name or name
        if missing.startswith("eval"):
            raise AssistantError("The evaluation package is not installed; run `pip install -e .` from a checkout "
                                 "of the project.") from None
        raise AssistantError(f"The evaluation needs {missing}, which is not installed; run "
                             "`pip install -e '.[eval]'`.") from None


@cli.command(name="eval")
@click.option("--gold", type=click.Path(path_type=Path, exists=True), default=None, help="Default: eval/gold.jsonl.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default: eval/results.")
@click.option("--modes", default="bm25,dense,hybrid", show_default=True)
@click.option("--no-baseline", is_flag=True, help="Skip the recursive-splitter baseline.")
def evaluate(gold: Path | None, out: Path | None, modes: str, no_baseline: bool) -> None:
    """Retrieval and answer metrics on the gold set; writes Markdown, JSON and a chart."""
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
    """Benchmark the pipeline on this machine (eval/bench.py); options pass through.

    `assistant bench --scale N [N ...]` runs the end-to-end benchmark on generated corpora of N units
    instead (eval/bench_scale.py; its other options pass through too).
    """
    args = list(ctx.args)
    if "--scale" in args:
        position = args.index("--scale")
        args[position] = "--sizes"
        _eval_module("bench_scale").main(args)
        return
    _eval_module("bench").main(args)
