"""The `assistant` click group and what every command shares: settings, output, errors.

A user-facing failure is an AssistantError, shown as one plain sentence with exit code 1,
never a traceback.
"""

from __future__ import annotations

import json
from typing import Callable

import click

from assistant.errors import AssistantError
from assistant.offline import set_offline_flags
from assistant.settings import Settings, load_settings

set_offline_flags()


class _Group(click.Group):
    """Turns every AssistantError into one plain sentence and exit code 1."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except AssistantError as exc:
            raise click.ClickException(str(exc)) from None


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


def emit(record: dict, as_json: bool, human: Callable[[dict], str]) -> None:
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        click.echo(human(record))
