"""The app's Evaluation tab: the saved runs of `assistant eval`, read-only.

It shows a run's tables and charts (retrieval by mode and by question type, answers by split,
the abstention trade-off), compares two chosen runs with the paired tests of `eval/compare.py`,
and drills down from any question to its gold answer and evidence, the passages retrieved
(evidence highlighted) and the answer given. It never runs an evaluation: runs come from
`settings.paths.runs_dir` (eval/runs/) and the committed reference run.

Safety as in app.py: document text, questions and answers reach the page only as plain text
(dataframes, code blocks) or through `assistant.present`'s escaping; no `unsafe_allow_html`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant import present as ui
from assistant.errors import AssistantError
from assistant.present import evaluation as ev
from assistant.settings import Settings

TESTS = {"fisher": "Fisher's randomization", "student": "Paired t-test"}


# --- reading runs (cached by file and modification time) ---------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _run(path: str, modified: float) -> dict:
    from eval.runs import load_run

    return load_run(Path(path))


def load_run(path: Path) -> dict:
    return _run(str(path), path.stat().st_mtime)


@st.cache_data(show_spinner="Comparing the runs question by question…", max_entries=8)
def _comparison(path_a: str, modified_a: float, path_b: str, modified_b: float, test: str) -> dict:
    from eval.compare import Options, compare_runs
    from eval.runs import load_run as read

    return compare_runs(read(Path(path_a)), read(Path(path_b)), Options(test=test))


@st.cache_data(show_spinner=False)
def _gold(path: str, modified: float) -> dict[str, dict]:
    """Gold answers and evidence by id, for runs that did not keep them (the reference)."""
    from eval.gold import load_gold

    return {g.id: {"answer": g.answer, "evidence": [{"doc_id": e.doc_id, "locator": e.locator, "quote": e.quote}
                                                    for e in g.evidence]} for g in load_gold(Path(path))}


@st.cache_resource(show_spinner=False)
def _corpus_units(corpus_dir: str) -> dict:
    """Unit texts from the corpus, for runs that did not keep the passages they retrieved (the reference)."""
    from assistant.chunking import load_units

    _, units = load_units(Path(corpus_dir))
    return {u.unit_id: u for u in units}


def _with_gold(run: dict) -> dict:
    """A slim run with its gold answers and quotes filled in from eval/gold.jsonl (by id)."""
    if not run.get("slim"):
        return run
    from assistant.settings import PROJECT_ROOT

    path = PROJECT_ROOT / "eval" / run["gold"]["file"]
    if not path.is_file():
        return run
    gold = _gold(str(path), path.stat().st_mtime)
    questions = {q: {**item, **gold.get(q, {})} for q, item in run["questions"].items()}
    return {**run, "questions": questions}


# --- the tab ---------------------------------------------------------------------------------


def render_evaluation(settings: Settings) -> None:
    from eval.runs import list_runs

    runs = list_runs(settings.paths.runs_dir)
    if not runs:
        st.info("No saved evaluation runs yet: `assistant eval` saves one under eval/runs/.",
                icon=":material/info:")
        return
    by_id = {r.id: r for r in runs}
    ids = list(by_id)
    try:
        labels = {i: ev.run_label(load_run(by_id[i].path)) for i in ids}
    except AssistantError as exc:
        st.error(ui.escape_markdown(str(exc)), icon=":material/error:")
        return
    st.markdown("#### :material/analytics: Evaluation runs")
    st.caption("Read from the saved runs of `assistant eval`; nothing is evaluated here.")
    chosen = st.selectbox("Run", ids, key="ev_run", format_func=lambda i: labels[i])
    run = _with_gold(load_run(by_id[chosen].path))
    run_overview(run)
    comparison = compare_section(runs, labels, chosen)
    drill_down(run, comparison, settings)


def run_overview(run: dict) -> None:
    config, index = run["config"], run["index"]
    st.caption(ui.escape_inline(
        f"{run['created_at'] or 'Committed reference run'} · `{run.get('command', '')}` · {config['model']} "
        f"({config['backend']}) · rrf_k {config['rrf_k']} · {config['passages']} passages · ranker "
        f"{config['ranker']['sha256'][:12]} · index {index['fingerprint']} · gold {run['gold']['file']} "
        f"({run['gold']['questions']} questions) · {run['timings']['total_s']:.0f} s"))
    mode_rows = ev.run_mode_rows(run)
    if mode_rows:
        st.markdown("**Retrieval by mode** (units; relevance = the unit the gold evidence names)")
        st.dataframe(mode_rows, hide_index=True, key="ev_modes")
        chart = {row["mode"]: {m: row[m] for m in ev.RETRIEVAL_METRICS} for row in mode_rows}
        st.bar_chart(_frame(chart), stack=False, y_label="score", height=260)
        modes = [row["mode"] for row in mode_rows]
        mode = st.segmented_control("Mode", modes, key="ev_type_mode", required=True,
                                    default="hybrid" if "hybrid" in modes else modes[-1])
        left, right = st.columns(2)
        with left:
            st.markdown(f"**By question type** ({ui.escape_inline(mode)})")
            st.dataframe(ev.run_group_rows(run, mode, "by_type"), hide_index=True, key="ev_types")
        with right:
            st.markdown(f"**By split** ({ui.escape_inline(mode)})")
            st.dataframe(ev.run_group_rows(run, mode, "by_split"), hide_index=True, key="ev_splits")
        types = {row["type"]: {"recall@5": row["recall@5"], "mrr@10": row["mrr@10"]}
                 for row in ev.run_group_rows(run, mode, "by_type")}
        if types:
            st.bar_chart(_frame(types), stack=False, y_label="score", height=220)
    st.markdown("**Answers by split** (the ranker is fitted on fit, the threshold calibrated on calibrate; "
                "test is the split reported)")
    st.dataframe(ev.answer_split_rows(run), hide_index=True, key="ev_answers")
    calibration = ev.calibration_rows(run)
    if calibration:
        current = run["summary"]["answers"]["calibration"]["current_threshold"]
        st.markdown(f"**Abstention trade-off** (test split; threshold on P(answerable), current {current:.2f})")
        left, right = st.columns([3, 2])
        with left:
            st.line_chart(_frame({name: {r["threshold"]: r[name] for r in calibration}
                                  for name in ("false abstention", "abstention on unanswerable")}),
                          x_label="threshold on P(answerable)", y_label="share of questions", height=260)
        with right:
            st.dataframe(calibration, hide_index=True, key="ev_calibration", height=260)


def _frame(columns: dict):
    """A DataFrame whose index is the inner keys and whose columns are the outer ones."""
    import pandas as pd

    return pd.DataFrame(columns)


# --- comparing two runs -------------------------------------------------------------------------


def compare_section(runs, labels: dict[str, str], chosen: str) -> dict | None:
    st.divider()
    st.markdown("#### :material/compare_arrows: Compare two runs")
    ids = [r.id for r in runs]
    if len(ids) < 2:
        st.caption("A comparison needs two saved runs.")
        return None
    by_id = {r.id: r for r in runs}
    others = [i for i in ids if i != chosen]
    left, middle, right = st.columns([5, 5, 2], vertical_alignment="bottom")
    a = left.selectbox("Run A (before)", ids, key="ev_a", format_func=lambda i: labels[i],
                       index=ids.index("reference" if "reference" in others else others[0]))
    b = middle.selectbox("Run B (after)", ids, key="ev_b", format_func=lambda i: labels[i], index=ids.index(chosen))
    test = right.selectbox("Test", list(TESTS), key="ev_test", format_func=lambda t: TESTS[t])
    if st.button("Compare", key="ev_compare", icon=":material/compare_arrows:", type="primary", disabled=a == b):
        st.session_state["ev_compared"] = (a, b, test)
    if st.session_state.get("ev_compared") != (a, b, test):
        st.caption("Choose two runs and press Compare: each metric for both runs, the difference, a paired "
                   "significance test and a bootstrap interval, and the questions that changed.")
        return None
    try:
        comparison = _comparison(str(by_id[a].path), by_id[a].path.stat().st_mtime, str(by_id[b].path),
                                 by_id[b].path.stat().st_mtime, test)
    except AssistantError as exc:
        st.error(ui.escape_markdown(str(exc)), icon=":material/error:")
        return None
    show_comparison(comparison)
    return comparison


def show_comparison(comparison: dict) -> None:
    changes = comparison["config_changes"]
    facts = ["Settings changed: " + ("; ".join(f"{c['setting']} {c['a']} → {c['b']}" for c in changes) or "none"),
             "the same index" if comparison["index"]["same"] else "a different index (corpus changed)",
             f"{comparison['questions']['compared']} questions compared"]
    st.caption(ui.escape_inline(" · ".join(facts)))
    st.caption(ui.escape_inline(comparison["options"]["description"]))
    for mode, result in comparison["retrieval"].items():
        overall = ev.comparison_rows([t for t in result["groups"] if t["group"] == "all"])
        others = ev.comparison_rows([t for t in result["groups"] if t["group"] != "all"], only_changed=True)
        worse = sum(1 for c in result["changed"] if c["change"] == "worse")
        better = sum(1 for c in result["changed"] if c["change"] == "better")
        verdicts = [r["verdict"] for r in overall if r["verdict"] in ("better", "worse")]
        summary = (f"Retrieval, {mode}: {result['questions']} questions · "
                   f"{', '.join(verdicts) if verdicts else 'no significant difference'} · "
                   f"{worse} questions worse, {better} better")
        with st.expander(ui.escape_inline(summary), expanded=mode == "hybrid"):
            st.dataframe(overall, hide_index=True, key=f"ev_cmp_{mode}")
            if others:
                st.caption("By type and split, the metrics that changed")
                st.dataframe(others, hide_index=True, key=f"ev_cmp_{mode}_groups")
            if result["changed"]:
                st.caption("The questions whose relevant units moved, with their ranks in the top 10")
                st.dataframe(ev.changed_retrieval_rows(result["changed"]), hide_index=True, key=f"ev_cmp_{mode}_changed")
            else:
                st.caption("No question's relevant units moved.")
    answers = comparison["answers"]
    st.markdown(f"**Answers** ({answers['questions']} questions)")
    st.dataframe(ev.comparison_rows([t for t in answers["groups"] if t["group"] == "split"],
                                    labels=ev.ANSWER_METRIC_LABELS), hide_index=True, key="ev_cmp_answers")
    types = ev.comparison_rows([t for t in answers["groups"] if t["group"] == "type"], only_changed=True,
                               labels=ev.ANSWER_METRIC_LABELS)
    if types:
        with st.expander(ui.escape_inline(f"Answers by type ({len(types)} changed metrics)")):
            st.dataframe(types, hide_index=True, key="ev_cmp_answer_types")
    if answers["changed"]:
        st.markdown(f"**Answers that changed** ({len(answers['changed'])}; inspect one below)")
        st.dataframe(ev.changed_answer_rows(answers["changed"]), hide_index=True, key="ev_cmp_answer_changes")
    else:
        st.caption("No answer changed.")


# --- one question ------------------------------------------------------------------------------


def drill_down(run: dict, comparison: dict | None, settings: Settings) -> None:
    st.divider()
    st.markdown("#### :material/search_insights: One question")
    options = ev.question_options(run)
    ids = list(options)
    if comparison:  # the questions that changed come first
        changed = [c["id"] for c in comparison["answers"]["changed"]]
        changed += [c["id"] for r in comparison["retrieval"].values() for c in r["changed"]]
        ids = list(dict.fromkeys([q for q in changed if q in options] + ids))
    if st.session_state.get("ev_question") not in ids:
        st.session_state.pop("ev_question", None)
    question_id = st.selectbox("Question", ids, key="ev_question", format_func=lambda q: options[q])
    question = run["questions"][question_id]
    st.markdown(f"**{ui.escape_inline(question['question'])}**")
    st.caption(ui.escape_inline(" · ".join(v for v in (question_id, question["type"], f"split {question['split']}",
                                                        question.get("intent", ""), question.get("style", ""),
                                                        question.get("unanswerable_kind", "")) if v)))
    left, right = st.columns(2)
    with left:
        st.markdown("**Gold answer**")
        st.markdown(ui.escape_markdown(question.get("answer", "(not kept in this run)")))
        evidence = question.get("evidence", [])
        if evidence:
            st.markdown("**Gold evidence**")
            for e in evidence:
                st.markdown(":orange-background[" + ui.escape_inline(e.get("quote", "")) + "]")
                st.caption(ui.escape_inline(f"{e.get('locator', '')} · {e.get('doc_id', '')}"))
        elif question["type"] == "unanswerable":
            st.caption("Unanswerable: the documents do not answer it, so it has no evidence.")
    with right:
        answer_given(run, question_id)
        if comparison:
            for change in comparison["answers"]["changed"]:
                if change["id"] == question_id:
                    st.markdown(f"**Change from run A** ({ui.escape_inline(change['change'])})")
                    st.code(ev.diff_text(change["diff"]), language="diff", wrap_lines=True)
    passages_for(run, question_id, comparison, settings)


def answer_given(run: dict, question_id: str) -> None:
    answer = run["answers"].get(question_id)
    st.markdown("**Answer given**")
    if answer is None:
        st.caption("This run has no answer for the question.")
        return
    flags = ["abstained" + (f" ({answer['abstention']})" if answer.get("abstention") else "")
             if answer["abstained"] else ("gold evidence in the answer" if answer["contains_evidence"]
                                           else "no gold evidence in the answer")]
    if answer.get("citation_precision") is not None:
        flags.append(f"citation precision {answer['citation_precision']:.2f}")
    if answer.get("named_unit_first") is not None:
        flags.append("named unit cited first" if answer["named_unit_first"] else "named unit not cited first")
    st.caption(ui.escape_inline(" · ".join(flags)))
    if "answer" in answer:
        with st.container(border=True):
            st.markdown(ui.answer_markdown(answer["answer"]))
        for note in answer.get("notes", []):
            st.caption(ui.escape_inline(note))
    else:
        st.caption("The committed reference run keeps only a hash of each answer's text.")


def passages_for(run: dict, question_id: str, comparison: dict | None, settings: Settings) -> None:
    modes = list(run["retrieval"])
    in_mode = [m for m in modes if question_id in run["retrieval"][m]]
    if in_mode:
        mode = st.segmented_control("Passages retrieved by", in_mode, key="ev_passage_mode", required=True,
                                    default="hybrid" if "hybrid" in in_mode else in_mode[-1])
        mode = mode if mode in in_mode else in_mode[-1]
        ranks = {m: ev.fmt_ranks(sorted(i for i, u in enumerate(run["retrieval"][m][question_id]["ranked"][:10], 1)
                                        if u in run["questions"][question_id]["relevant"])) for m in in_mode}
        line = "Ranks of the relevant units: " + "; ".join(f"{m} {r}" for m, r in ranks.items())
        if comparison and mode in comparison["retrieval"]:
            for change in comparison["retrieval"][mode]["changed"]:
                if change["id"] == question_id:
                    line += (f" · {mode} in run A: {ev.fmt_ranks(change['ranks_a'])} → run B: "
                             f"{ev.fmt_ranks(change['ranks_b'])} ({change['change']})")
        st.caption(ui.escape_inline(line))
    else:
        mode = ""
        st.caption("No retrieval ranking for this question (unanswerable questions are not ranked); the passages "
                   "the answer read are shown.")
    units = None
    if run.get("slim"):
        try:
            units = _corpus_units(str(settings.corpus_dir))
        except AssistantError:
            units = None
    passages = ev.retrieved_passages(run, question_id, mode, units)
    st.markdown(f"**Passages** ({len(passages)}; :orange-background[highlighted]: the gold evidence)")
    for p in passages:
        mark = " · relevant" if p["relevant"] else ""
        title = p["doc_title"] or p["unit_id"]
        title = title if len(title) <= 70 else title[:69] + "…"
        label = ui.escape_inline(f"{p['rank']}. {p['locator']} · {title}{mark}")
        with st.expander(label, expanded=p["relevant"] and p["rank"] <= 3):
            if p["text"] is None:
                st.caption("The text of this passage is not in this run nor in the current corpus.")
            else:
                st.markdown(ev.evidence_markdown(p["text"], p["quotes"]))
