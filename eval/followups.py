"""Follow-up questions in scripted conversations: is the unit a reader expects retrieved first?

eval/conversations.jsonl holds 8 conversations written by someone who never saw the system:
each turn has the question as typed ("and Greece?"), the standalone question a person would
write, and the units a reader expects first. Each conversation is asked turn by turn through
`Engine.ask` with the earlier turns in `Query.context`, as the app and `assistant chat` do;
the literal question and the human standalone question are asked alone for comparison.

    .venv/bin/python eval/followups.py            # per-turn table, figures, eval/results/followups.md
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = ROOT / "eval" / "conversations.jsonl"
RESULTS = ROOT / "eval" / "results" / "followups.md"


@dataclass
class TurnResult:
    conversation: str
    turn: int  # 0 = the opening question
    question: str
    searched: str  # what the conversation-aware engine searched
    kind: str  # how the follow-up was read (standalone, substitution, reference, ellipsis)
    expected: list[str]  # "doc_id:locator"; empty for a turn the documents do not answer
    first: str  # the first retrieved unit, conversation-aware
    first_literal: str  # ... for the question alone
    first_standalone: str  # ... for the human standalone question

    @property
    def followup(self) -> bool:
        return self.turn > 0

    @property
    def answerable(self) -> bool:
        return bool(self.expected)

    def hit(self, which: str = "first") -> bool:
        return getattr(self, which) in self.expected


def read_conversations(path: Path = CONVERSATIONS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _first(answer) -> str:
    return f"{answer.hits[0].unit.doc_id}:{answer.hits[0].unit.locator}" if answer.hits else ""


def run_conversations(engine, path: Path = CONVERSATIONS) -> list[TurnResult]:
    """Every turn of every conversation, asked in order with the earlier turns as context."""
    from assistant.answering.conversation import context_turn
    from assistant.search import Query

    results = []
    for conversation in read_conversations(path):
        context: list[str] = []
        for number, turn in enumerate(conversation["turns"]):
            answer = engine.ask(Query(turn["question"], context=tuple(context)))
            context.append(context_turn(answer).to_context())
            results.append(TurnResult(
                conversation["id"], number, turn["question"], answer.searched, answer.followup.get("kind", "first"),
                [f"{e['doc_id']}:{e['locator']}" for e in turn["expected"]], _first(answer),
                _first(engine.ask(turn["question"])), _first(engine.ask(turn["standalone"]))))
    return results


def summary(results: list[TurnResult]) -> dict[str, int]:
    scored = [r for r in results if r.followup and r.answerable]
    return {"followups": sum(r.followup for r in results), "answerable_followups": len(scored),
            "first": sum(r.hit("first") for r in scored), "literal": sum(r.hit("first_literal") for r in scored),
            "standalone": sum(r.hit("first_standalone") for r in scored)}


def report(results: list[TurnResult]) -> str:
    figures = summary(results)
    n = figures["answerable_followups"]
    lines = [
        "# Follow-up questions (eval/conversations.jsonl)", "",
        "Command: `.venv/bin/python eval/followups.py`", "",
        f"Follow-up turns: {figures['followups']}, of which {n} have an expected unit (the others the documents do not "
        "answer). The expected unit retrieved first:", "",
        "| asked as | follow-ups with the expected unit first |", "|---|---|",
        f"| the question alone (no conversation) | {figures['literal']} of {n} |",
        f"| **with the conversation (Engine.ask, Query.context)** | **{figures['first']} of {n}** |",
        f"| the standalone question a person wrote | {figures['standalone']} of {n} |", "",
        "| turn | asked | searched | read as | expected | first retrieved | ok |", "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ok = "—" if not r.answerable else ("yes" if r.hit() else "no")
        expected = ", ".join(e.split(":", 1)[1] for e in r.expected) or "(not answered)"
        lines.append(f"| {r.conversation}.{r.turn} | {_cell(r.question)} | {_cell(r.searched)} | {r.kind} | {expected} "
                     f"| {r.first.split(':', 1)[-1]} | {ok} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown report (default: %(default)s).")
    args = parser.parse_args(argv)
    from assistant.engine import load_engine
    from assistant.offline import set_offline_flags
    from assistant.settings import load_settings

    set_offline_flags()
    results = run_conversations(load_engine(load_settings()))
    text = report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
