"""Commands that measure: `eval` (the gold set) and `bench` (this machine), from the `eval` package."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.group import cli, say, settings_for
from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT


# What each command imports from the [eval] extra (module -> distribution), checked before it starts.
EVAL_NEEDS = {"ranx": "ranx", "matplotlib": "matplotlib", "langchain_text_splitters": "langchain-text-splitters"}
BENCH_NEEDS = {"psutil": "psutil", "langchain_text_splitters": "langchain-text-splitters", "reportlab": "reportlab"}
APP_BENCH_NEEDS = {"playwright": "playwright"}
SCALE_BENCH_NEEDS = {"psutil": "psutil", "matplotlib": "matplotlib"}


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


DEFAULT_MODES = "bm25,dense,hybrid"


@cli.command(name="eval")
@click.option("--gold", type=click.Path(path_type=Path, exists=True), default=None, help="Default: eval/gold.jsonl.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write eval.md, eval.json and modes.png here. Default: eval/results, and only when no "
                   "setting is changed (an experiment does not overwrite the published report).")
@click.option("--modes", default=DEFAULT_MODES, show_default=True, help="Retrieval modes to evaluate.")
@click.option("--mode", "answer_mode", type=click.Choice(["hybrid", "dense", "bm25"]), default=None,
              help="The retrieval mode answers are built from (default: the settings', hybrid).")
@click.option("--rrf-k", type=click.IntRange(min=1), default=None, help="Reciprocal rank fusion k (default 60).")
@click.option("--passages", type=click.IntRange(min=1, max=50), default=None,
              help="Passages an answer may quote (default 6).")
@click.option("--ranker", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="Another fitted sentence ranker (default: assistant/answering/ranker.json).")
@click.option("--no-baseline", is_flag=True, help="Skip the recursive-splitter baseline.")
@click.option("--compare", nargs=2, metavar="RUN_A RUN_B", default=None,
              help="Compare two saved runs instead of evaluating: run ids (or their start), paths, latest, "
                   "previous or reference.")
@click.option("--baseline", "against_reference", is_flag=True,
              help="After evaluating, compare the new run with the committed reference run.")
@click.option("--test", type=click.Choice(["fisher", "student"]), default="fisher", show_default=True,
              help="Paired test: Fisher's randomization test or the paired Student's t-test (both from ranx).")
@click.option("--json", "as_json", is_flag=True, help="With --compare or --baseline: the comparison as JSON.")
@click.option("--save-reference", is_flag=True,
              help="Make this run the committed reference (eval/runs/reference/run.json); default settings only.")
def evaluate(gold: Path | None, out: Path | None, modes: str, answer_mode: str | None, rrf_k: int | None,
             passages: int | None, ranker: Path | None, no_baseline: bool, compare: tuple[str, str] | None,
             against_reference: bool, test: str, as_json: bool, save_reference: bool) -> None:
    """Retrieval and answer metrics on the gold set, saved as a run under eval/runs/; or two runs compared."""
    import shlex
    import time
    from dataclasses import replace

    settings = settings_for()
    needs = {**EVAL_NEEDS, "scipy": "scipy"}
    if no_baseline or compare:
        needs.pop("langchain_text_splitters")  # only the baseline splits text with it
    _require("The evaluation", needs)
    runs = _eval_module("runs")
    if compare:
        if against_reference or save_reference:
            raise AssistantError("Use --compare RUN_A RUN_B on its own; --baseline and --save-reference evaluate first.")
        a, b = (runs.load_run(runs.resolve_run(name, settings.paths.runs_dir)) for name in compare)
        _show_comparison(a, b, test, as_json)
        return
    mode_list = tuple(dict.fromkeys(m.strip() for m in modes.split(",") if m.strip()))
    unknown = [m for m in mode_list if m not in ("bm25", "dense", "hybrid")]
    if unknown:
        raise AssistantError(f"Unknown retrieval mode {unknown[0]!r}; choose from bm25, dense and hybrid.")
    retrieval, answer = settings.retrieval, settings.answer
    if answer_mode:
        retrieval = replace(retrieval, mode=answer_mode)
    if rrf_k is not None:
        retrieval = replace(retrieval, rrf_k=rrf_k)
    if passages is not None:
        answer = replace(answer, passages=passages)
    settings = settings.with_overrides(retrieval=retrieval, answer=answer)
    experiment = (set(mode_list) != set(DEFAULT_MODES.split(",")) or gold is not None or ranker is not None
                  or retrieval != type(retrieval)() or answer != type(answer)() or no_baseline)
    if save_reference and experiment:
        raise AssistantError("The reference run is made with the default settings and all three modes; drop the "
                             "options that change them.")
    evaluation = _eval_module("evaluation")
    gold_path = gold or PROJECT_ROOT / "eval" / "gold.jsonl"
    started = time.perf_counter()
    engine = None
    if ranker is not None:
        from assistant.answering.ranker import load_ranker
        from assistant.engine import load_engine

        engine = _fresh_engine(settings, load_engine)
        engine.answerer.ranker = load_ranker(ranker.resolve())
    report, engine = evaluation.build_report(settings, gold_path, mode_list, baseline=not no_baseline, engine=engine)
    from assistant.answering.ranker import MODEL_FILE

    options = [("--gold", gold), ("--modes", modes if modes != DEFAULT_MODES else None), ("--mode", answer_mode),
               ("--rrf-k", rrf_k), ("--passages", passages), ("--ranker", ranker)]
    command = " ".join(["assistant eval", *(f"{name} {shlex.quote(str(value))}" for name, value in options
                                            if value is not None), *(["--no-baseline"] if no_baseline else [])])
    record = runs.run_record(report, engine, settings, gold_path, ranker or MODEL_FILE, command,
                             time.perf_counter() - started)
    markdown = evaluation.render_markdown(report)
    path = runs.save_run(record, settings.paths.runs_dir, markdown)
    record["id"] = path.parent.name
    if out is not None or not experiment:
        evaluation.write_report(report, out or PROJECT_ROOT / "eval" / "results")
    if not as_json:
        say(markdown)
        say(f"Saved the run as {record['id']} ({path}).")
    if save_reference:
        reference = runs.save_reference(record)
        say(f"Saved it as the reference run ({reference}); commit that file.")
    if against_reference:
        reference = runs.load_run(runs.resolve_run("reference", settings.paths.runs_dir))
        if not as_json:
            say("")
        _show_comparison(reference, runs.load_run(path), test, as_json)


def _fresh_engine(settings, load_engine):
    from assistant.index import build_index, index_status

    if not index_status(settings.index_dir, settings.corpus_dir, settings.model, settings.backend).fresh:
        build_index(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
    return load_engine(settings)


def _show_comparison(a: dict, b: dict, test: str, as_json: bool) -> None:
    import json

    compare = _eval_module("compare")
    comparison = compare.compare_runs(a, b, compare.Options(test=test))
    if as_json:
        say(json.dumps(comparison, ensure_ascii=False))
    else:
        say(compare.render_comparison(comparison))


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def bench(ctx: click.Context) -> None:
    """Benchmark the pipeline on this machine (eval/bench.py); options pass through.

    `assistant bench --scale N [N ...]` runs the end-to-end benchmark on generated corpora of N units
    instead (eval/bench_scale.py; its other options pass through too).
    """
    args = list(ctx.args)
    if "--scale" in args:
        _require("The scale benchmark", SCALE_BENCH_NEEDS)
        args[args.index("--scale")] = "--sizes"
        _eval_module("bench_scale", "The scale benchmark").main(args)
        return
    _require("The benchmark", BENCH_NEEDS if "--skip-app" in args else {**BENCH_NEEDS, **APP_BENCH_NEEDS})
    _eval_module("bench", "The benchmark").main(args)
