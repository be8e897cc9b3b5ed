"""Commands about the embedding models carried by installed packages."""

from __future__ import annotations

import click

from assistant.cli.group import cli, say, settings_for
from assistant.errors import AssistantError


@cli.group()
def models() -> None:
    """The embedding models carried by installed packages."""


@models.command(name="list")
def models_list() -> None:
    """Registered models and whether their package is installed."""
    from assistant.models import MODELS

    for spec in MODELS.values():
        try:
            where = str(spec.resolve())
        except AssistantError as exc:
            where = f"not installed ({exc})"
        say(f"{spec.name}\t{spec.dimension}-d\tmax {spec.max_seq_length} tokens\t{where}")


@models.command(name="build-onnx")
@click.option("--model", default=None)
@click.option("--int8/--fp32", "int8", default=True, show_default=True)
def models_build_onnx(model: str | None, int8: bool) -> None:
    """Export the model to ONNX (and int8) from the installed weights, once; and build the multilingual encoder's graph."""
    from assistant.embedding import ensure_onnx
    from assistant.embedding.e5_file import PackedE5, packaged_model_path
    from assistant.embedding.e5_graph import ensure_graph, graph_path
    from assistant.embedding.e5_tokenizer import load_tokenizer
    from assistant.settings import EmbeddingSettings

    path = ensure_onnx(settings_for(model).model, quantized=int8)
    say(f"ONNX model ready at {path}.")
    packed = PackedE5(packaged_model_path())
    ensure_graph(packed, EmbeddingSettings().threads)
    load_tokenizer(packed)
    say(f"Multilingual encoder's graph and tokenizer ready in {graph_path().parent}.")
