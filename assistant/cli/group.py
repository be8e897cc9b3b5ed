"""The `assistant` click group and what every command shares: settings, output, errors.

A user-facing failure is an AssistantError, shown as one plain sentence with exit code 1,
never a traceback. Everything a command prints goes through `say` or `emit`, and so through
the one terminal sanitizer (`assistant.present.text.terminal_text`): document text cannot
send escape sequences to the user's terminal. JSON output escapes them as JSON does.
"""

from __future__ import annotations

from typing import Callable

import click

from assistant.errors import AssistantError
from assistant.offline import set_offline_flags
from assistant.present.text import json_line, terminal_text
from assistant.settings import Settings, load_settings

set_offline_flags()


class _Group(click.Group):
    """Turns every AssistantError into one plain sentence and exit code 1; no message reaches the terminal raw."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except AssistantError as exc:
            raise click.ClickException(terminal_text(str(exc))) from None
        except click.ClickException as exc:  # a usage error quotes what was typed
            exc.message = terminal_text(exc.message)
            raise


@click.group(cls=_Group)
@click.version_option(package_name="assistant")
def cli() -> None:
    """Offline, cited question answering over EU migration policy documents."""


def settings_for(model: str | None = None, backend: str | None = None, store: str | None = None) -> Settings:
    """The settings, with the command's own --model, --backend and --store on top."""
    settings = load_settings()
    changes: dict[str, object] = {}
    if model:
        changes["model"] = model
    if backend:
        changes["backend"] = backend
    if store:
        from dataclasses import replace

        changes["store"] = replace(settings.store, name=store)
    return settings.with_overrides(**changes) if changes else settings


def say(text: str, err: bool = False) -> None:
    """Print a line for a person, through the terminal sanitizer."""
    click.echo(terminal_text(text), err=err)


def emit(record: dict, as_json: bool, human: Callable[[dict], str]) -> None:
    """A record as one line of JSON, or laid out for a person; either way nothing reaches the terminal raw."""
    if as_json:
        click.echo(json_line(record))
    else:
        say(human(record))
