"""Saved evaluation runs: what `assistant eval` measured, kept so that two runs can be compared.

    eval/runs/<timestamp>-<config hash>/run.json   every run (ignored by git), with report.md beside it
    eval/runs/reference/run.json                   the one committed run the regression gate compares with

A run records its configuration (modes, model, backend, rrf_k, passages, the ranker file's
hash), the index it was measured on (the served generation's manifest corpus hashes), the
gold items, the per-question ranks per mode, the per-question answers with their abstained /
abstention / evidence flags, the summaries and the timings. On disk the rankings name units
by their position in the run's `units` list, which keeps the committed reference small;
`load_run` gives them back as unit ids. The reference drops what a comparison does not need
(answer and passage texts, gold answers and quotes: the drill-down reads those from the gold
file and the corpus).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT, Settings

FORMAT_VERSION = 1
RUN_FILE = "run.json"
REFERENCE = PROJECT_ROOT / "eval" / "runs" / "reference" / RUN_FILE
REFERENCE_NAMES = ("reference", "baseline")
REFRESH_REFERENCE = "assistant eval --save-reference"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def index_fingerprint(corpus: dict) -> str:
    """A short hash of the manifest's corpus hashes (every document and the glossary)."""
    return hashlib.sha256(json.dumps(corpus, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def code_version() -> dict:
    """The commit the code was run from, and whether the work tree had changes ('' when git is not there)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10,
                                  check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "HEAD")
    return {"commit": commit, "dirty": bool(git("status", "--porcelain", "--untracked-files=no")) if commit else False}


def run_config(settings: Settings, engine, report: dict, ranker_path: Path) -> dict:
    """The settings that shape the figures: what `--compare` lists when two runs differ."""
    return {
        "modes": list(report["modes"]),
        "answer_mode": settings.retrieval.mode,
        "model": report["model"],
        "backend": report["backend"],
        "rrf_k": settings.retrieval.rrf_k,
        "candidates": settings.retrieval.candidates,
        "passages": settings.answer.passages,
        "store": settings.store.name,
        "llm": settings.llm.model if settings.llm.url else "",
        "ranker": {"file": _relative(ranker_path), "sha256": sha256_file(ranker_path),
                   "answer_threshold": engine.answerer.model.answer_threshold},
        "baseline": report["baseline"] is not None,
    }


def run_record(report: dict, engine, settings: Settings, gold_path: Path, ranker_path: Path, command: str,
               seconds: float) -> dict:
    """The run as `run.json` holds it (unit ids, not yet positions), from the evaluation report."""
    from eval.evaluation import ranx_scores
    from eval.gold import load_gold

    manifest = engine.index.manifest
    gold = load_gold(gold_path)
    config = run_config(settings, engine, report, ranker_path)
    gold_hash = sha256_file(gold_path)
    fingerprint = index_fingerprint(manifest.corpus)
    code = code_version()
    short = hashlib.sha256(json.dumps([config, fingerprint, gold_hash, code], sort_keys=True).encode()).hexdigest()[:6]
    created = datetime.now(UTC)
    unit_of = {(u.doc_id, u.locator): u.unit_id for u in engine.index.units.values()}
    questions = {
        g.id: {"question": g.question, "type": g.type, "split": g.split, "intent": g.intent, "style": g.style,
               "unanswerable_kind": g.unanswerable_kind, "answer": g.answer,
               "evidence": [{"doc_id": e.doc_id, "locator": e.locator, "quote": e.quote} for e in g.evidence],
               "relevant": sorted({unit_of[(e.doc_id, e.locator)] for e in g.evidence if (e.doc_id, e.locator) in unit_of})}
        for g in gold
    }
    retrieval, summary_modes = {}, {}
    for mode, result in report["modes"].items():
        rows = result["per_question"]
        retrieval[mode] = {r["id"]: {"ranked": r["retrieved"], "first_relevant_rank": r["first_relevant_rank"],
                                     "ms": r.get("ms")} for r in rows}
        qrels = {r["id"]: {u: 1 for u in r["relevant"]} for r in rows}
        ranked = {r["id"]: {u: float(len(r["retrieved"]) - i) for i, u in enumerate(dict.fromkeys(r["retrieved"]))}
                  for r in rows}
        by_split = {}
        for split in ("fit", "calibrate", "test"):
            ids = [r["id"] for r in rows if questions[r["id"]]["split"] == split]
            if ids:
                by_split[split] = ranx_scores({i: qrels[i] for i in ids}, {i: ranked[i] for i in ids})
        summary_modes[mode] = {"overall": result["overall"], "by_type": result["by_type"], "by_split": by_split,
                               "containment": result["containment"], "latency_ms": result["latency_ms"],
                               "questions": len(rows)}
    answers = {}
    for row in report["answers"]["rows"]:
        answers[row["id"]] = {
            "abstained": row["abstained"], "abstention": row["abstention"],
            "contains_evidence": row["contains_evidence"], "citation_precision": row["citation_precision"],
            "names_unit": row["names_unit"], "named_unit_first": row["named_unit_first"],
            "answerable_probability": row["answerable_probability"], "ms": row["ms"],
            "answer_sha": hashlib.sha256(row["answer"].encode("utf-8")).hexdigest()[:12],
            "answer": row["answer"], "notes": row["notes"], "cited": row.get("cited", []),
            "passages": row.get("passages", []),
        }
    shown = {u for mode in retrieval.values() for r in mode.values() for u in r["ranked"]}
    shown |= {u for a in answers.values() for u in (*a["cited"], *a["passages"])}
    shown |= {u for q in questions.values() for u in q["relevant"]}
    units = {u.unit_id: {"doc_id": u.doc_id, "locator": u.locator, "doc_title": u.doc_title, "doc_date": u.doc_date,
                         "pages": u.pages, "text": u.text}
             for u in engine.index.units.values() if u.unit_id in shown}
    summary_answers = {k: report["answers"][k] for k in ("summary", "splits", "slices", "calibration")}
    return {
        "format_version": FORMAT_VERSION,
        "id": f"{created:%Y%m%dT%H%M%S}-{short}",
        "created_at": created.isoformat(timespec="seconds"),
        "command": command,
        "config": config,
        "code": code,
        "index": {"generation": engine.index.generation.name, "built_at": manifest.built_at,
                  "fingerprint": fingerprint, "corpus": manifest.corpus, "units": manifest.units,
                  "chunker": manifest.chunker},
        "gold": {"file": gold_path.name, "sha256": gold_hash, "questions": len(gold),
                 "by_type": report["gold"]["by_type"]},
        "summary": {"modes": summary_modes, "answers": summary_answers, "baseline": report["baseline"]},
        "timings": {"total_s": round(seconds, 2),
                    "retrieval_ms": {m: r["latency_ms"] for m, r in report["modes"].items()},
                    "answers_ms": report["answers"]["summary"]["latency_ms"]},
        "questions": questions,
        "retrieval": retrieval,
        "answers": answers,
        "units": units,
    }


# --- on disk -------------------------------------------------------------------------------


def slim(record: dict) -> dict:
    """The reference's copy: what a comparison needs, without answer, passage and gold texts."""
    record = json.loads(json.dumps(record))
    for question_id, question in record["questions"].items():
        record["questions"][question_id] = {k: v for k, v in question.items()
                                            if k not in ("answer", "evidence") and v not in ("", None)}
    for rows in record["retrieval"].values():
        for row in rows.values():
            row.pop("ms", None)
            row.pop("first_relevant_rank", None)  # the ranking and the relevant units give it
    record["summary"] = _rounded(record["summary"])
    for answer in record["answers"].values():
        for key in ("answer", "notes", "passages", "cited", "ms", "answerable_probability"):
            answer.pop(key, None)
    for unit in record["units"].values():
        for key in ("text", "doc_title", "doc_date", "pages"):
            unit.pop(key, None)
    record["slim"] = True
    return record


def _rounded(value: object, digits: int = 6) -> object:
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    return value


def _dumps(value: object, indent: str = "") -> str:
    """JSON with one line per record: a dict of dicts (or the top level) is laid out, anything else is one line."""
    if isinstance(value, dict) and value and (not indent or all(isinstance(v, dict) for v in value.values())):
        inner = indent + " "
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value and not indent:
        return "[\n" + ",\n".join(" " + json.dumps(v, ensure_ascii=False) for v in value) + "\n]"
    return json.dumps(value, ensure_ascii=False)


def _encode(record: dict) -> dict:
    """Unit ids in rankings and citations become positions in `units` (a list on disk)."""
    record = dict(record)
    order = sorted(record["units"])
    position = {u: i for i, u in enumerate(order)}
    record["units"] = [{"unit_id": u, **record["units"][u]} for u in order]
    record["retrieval"] = {mode: {q: {**r, "ranked": [position[u] for u in r["ranked"]]} for q, r in rows.items()}
                           for mode, rows in record["retrieval"].items()}
    record["answers"] = {q: {**a, **{k: [position[u] for u in a[k]] for k in ("cited", "passages") if k in a}}
                         for q, a in record["answers"].items()}
    return record


def _decode(record: dict) -> dict:
    order = [u["unit_id"] for u in record["units"]]
    record["units"] = {u["unit_id"]: {k: v for k, v in u.items() if k != "unit_id"} for u in record["units"]}
    for rows in record["retrieval"].values():
        for r in rows.values():
            r["ranked"] = [order[i] for i in r["ranked"]]
    for a in record["answers"].values():
        for key in ("cited", "passages"):
            if key in a:
                a[key] = [order[i] for i in a[key]]
    return record


def write_run(record: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(_dumps(_encode(record)) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def save_run(record: dict, runs_dir: Path, markdown: str = "") -> Path:
    """eval/runs/<id>/run.json (and report.md); an id taken already gets a suffix."""
    folder, n = runs_dir / record["id"], 1
    while folder.exists():
        n += 1
        folder = runs_dir / f"{record['id']}-{n}"
    record = {**record, "id": folder.name}
    path = write_run(record, folder / RUN_FILE)
    if markdown:
        (folder / "report.md").write_text(markdown, encoding="utf-8")
    return path


def save_reference(record: dict, path: Path = REFERENCE) -> Path:
    return write_run({**slim(record), "id": "reference"}, path)


def load_run(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError
        return _decode(data)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        raise AssistantError(f"{_relative(path)} is not a saved evaluation run this version can read; "
                             "run `assistant eval` again.") from None


@dataclass(frozen=True)
class RunInfo:
    id: str
    path: Path
    created_at: str


def list_runs(runs_dir: Path, reference: Path | None = None) -> list[RunInfo]:
    """Saved runs, newest first; the reference last."""
    reference = reference or REFERENCE
    found = []
    if runs_dir.is_dir():
        for path in runs_dir.glob(f"*/{RUN_FILE}"):
            if path.resolve() != reference.resolve():
                found.append(RunInfo(path.parent.name, path, path.parent.name))
    found.sort(key=lambda r: r.id, reverse=True)
    if reference.is_file():
        found.append(RunInfo("reference", reference, ""))
    return found


def resolve_run(name: str, runs_dir: Path, reference: Path | None = None) -> Path:
    """A run's file from its id (or a unique start of it), `latest`, `previous`, `reference`, or a path."""
    reference = reference or REFERENCE
    if name in REFERENCE_NAMES:
        if not reference.is_file():
            raise AssistantError(f"There is no reference run at {_relative(reference)}; make one with "
                                 f"`{REFRESH_REFERENCE}`.")
        return reference
    runs = [r for r in list_runs(runs_dir, reference) if r.id != "reference"]
    if name in ("latest", "previous"):
        wanted = 0 if name == "latest" else 1
        if len(runs) <= wanted:
            raise AssistantError(f"There is no {name} run in {_relative(runs_dir)}; run `assistant eval` first.")
        return runs[wanted].path
    path = Path(name)
    if path.is_dir() and (path / RUN_FILE).is_file():
        return path / RUN_FILE
    if path.is_file():
        return path
    matches = [r for r in runs if r.id == name] or [r for r in runs if r.id.startswith(name)]
    if len(matches) == 1:
        return matches[0].path
    if not matches:
        latest = ", ".join(r.id for r in runs[:3]) or "none yet"
        raise AssistantError(f"There is no run {name!r} in {_relative(runs_dir)} (latest: {latest}).")
    raise AssistantError(f"{name!r} names {len(matches)} runs in {_relative(runs_dir)}; give more of the id.")
