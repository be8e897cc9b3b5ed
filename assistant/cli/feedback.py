"""`assistant feedback export`: what people said was wrong or missing in answers, as candidate gold items."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli.group import cli, settings_for, say


@cli.group()
def feedback() -> None:
    """Feedback left in the app on answers ("this answer is wrong / missing something")."""


@feedback.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the JSON Lines here instead of standard output.")
def export(out: Path | None) -> None:
    """JSON Lines of {"question", "answer_given", "comment", "cited_units", "asked_at", "conversation_id"}."""
    from assistant.conversations import ConversationStore

    text = ConversationStore(settings_for().data_dir).feedback_jsonl()
    if out is None:
        for line in text.splitlines():
            say(line)  # JSON Lines: json already escapes control characters, the sanitizer passes them as they are
    else:
        out.write_text(text, encoding="utf-8")
        say(f"Wrote {text.count(chr(10))} feedback items to {out}.")
