"""Sentence embeddings on onnxruntime + tokenizers: the fast, light twin of the PyTorch encoder.

Why: importing torch and sentence-transformers costs seconds before the first vector, and
PyTorch is slower than onnxruntime on a small CPU. The packaged model's transformer is
exported to ONNX once (`ensure_onnx`, run at install time) into the venv's share folder;
at run time only onnxruntime, tokenizers and numpy are imported. Pooling and normalization
are the sentence-transformers ones (mean over the attention mask, then L2), so the vectors
agree with the "torch" backend: fp32 to ~1e-7, int8 to ~0.99 cosine (both models; measured in
eval/results/embedding_bench.md). int8 activations are quantized per batch, so an int8 vector
shifts slightly (cosine ~0.995) with the batch it was computed in; fp32 vectors do not.

Nothing is downloaded: the weights and tokenizer come from `assistant.models.model_path`.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from assistant.errors import AssistantError
from assistant.models import model_path, model_spec
from assistant.offline import set_offline_flags
from assistant.settings import EmbeddingSettings

if TYPE_CHECKING:  # imported lazily at run time: only the encoder's own path pays for them
    import onnxruntime
    import tokenizers
    from tqdm import tqdm

__all__ = ["OPSET", "OnnxEncoder", "ensure_onnx", "export_onnx", "load_session", "onnx_path", "write_atomically"]

OPSET = 17
THREADS = EmbeddingSettings().threads
# Dynamic int8 settings measured in OFFLINE.md: MatMul weights only (attention's
# activation x activation MatMuls stay fp32), per output channel, 7-bit range so the
# u8 x s8 products cannot saturate on CPUs without VNNI.
INT8_SETTINGS = {"op_types_to_quantize": ["MatMul"], "per_channel": True, "reduce_range": True}
# MatMuls left in fp32, per model. Activations are quantized per tensor, so one outlier
# flattens every other value: mpnet's FFN down-projections in layers 6-10 see inputs whose
# max is 26-50x their 99.9th percentile (< 15x everywhere else, MiniLM included). Quantized,
# they drop the cosine to PyTorch from ~0.99 to ~0.85; kept in fp32 (5 of 72 MatMuls) it is
# back to ~0.99 (eval/results/embedding_bench.md).
INT8_FP32_NODES: dict[str, str] = {
    "all-mpnet-base-v2": r"/encoder/layer\.(6|7|8|9|10)/output/dense/MatMul$",
}


def onnx_path(name: str, quantized: bool) -> Path:
    """Where the exported model lives: beside the venv, like the extracted mpnet weights."""
    model_spec(name)  # an unknown name fails here with the list of known ones
    filename = "model-int8.onnx" if quantized else "model.onnx"
    return Path(sys.prefix) / "share" / "assistant" / "onnx" / name / filename


def ensure_onnx(name: str, quantized: bool) -> Path:
    """The ONNX file for this model, exported first if it is not there yet (the install step)."""
    path = onnx_path(name, quantized)
    return path if path.is_file() else export_onnx(name, quantized)


def export_onnx(name: str, quantized: bool) -> Path:
    """Export the packaged model's transformer to ONNX (and quantize it for int8), atomically.

    The fp32 file is the source of the int8 one, so it is exported first if missing.
    Files are written under a temporary name and renamed, so a reader never sees half a model
    and two concurrent exports cannot corrupt each other.
    """
    target = onnx_path(name, quantized)
    target.parent.mkdir(parents=True, exist_ok=True)
    if quantized:
        source = ensure_onnx(name, quantized=False)
        write_atomically(target, lambda temporary: _quantize(name, source, temporary))
    else:
        write_atomically(target, lambda temporary: _export_fp32(name, temporary))
    return target


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write under a temporary name beside `target`, then rename: a reader never sees half a model."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        write(temporary)
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)


def _export_fp32(name: str, destination: Path) -> None:
    """Trace the Hugging Face transformer (not the pooling) with the TorchScript exporter.

    dynamo=False because the torch.export-based exporter needs onnxscript and
    sentence-transformers' own backend="onnx" needs an optimum that pins an older
    transformers (OFFLINE.md). Eager attention traces to plain MatMul/Softmax ops.
    """
    set_offline_flags()
    try:
        import torch
        from transformers import AutoModel
    except ModuleNotFoundError as exc:
        from assistant.embedding.encoders import missing_torch

        raise AssistantError(missing_torch("Exporting the model to ONNX", exc)) from None

    folder = model_path(name)
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager", local_files_only=True).eval()
    input_names = _model_input_names(model)

    class LastHiddenState(torch.nn.Module):
        """Return a plain tensor so the graph has one named output."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(input_names, inputs))).last_hidden_state

    # A padded dummy batch, so that no "the mask is all ones, drop it" shortcut is traced in.
    batch, length = 2, 16
    input_ids = torch.full((batch, length), 100, dtype=torch.long)
    attention_mask = torch.ones((batch, length), dtype=torch.long)
    attention_mask[1, 10:] = 0
    dummies = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": torch.zeros_like(input_ids)}
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        # The legacy exporter's deprecation notice and tracer remarks (a shape check that is
        # constant for an encoder) would only alarm whoever runs the install step.
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*aten::index.*", category=UserWarning)
        try:
            torch.onnx.export(
                LastHiddenState(model),
                tuple(dummies[n] for n in input_names),
                str(destination),
                input_names=list(input_names),
                output_names=["last_hidden_state"],
                dynamic_axes={n: axes for n in (*input_names, "last_hidden_state")},
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        except Exception as error:  # the exporter raises many kinds; the user needs one sentence
            raise AssistantError(f"Exporting {name} to ONNX failed ({type(error).__name__}: {error}).") from error


def _model_input_names(model: object) -> tuple[str, ...]:
    """BERT takes token_type_ids, MPNet does not; export exactly what forward accepts."""
    import inspect

    accepted = inspect.signature(model.forward).parameters  # type: ignore[attr-defined]
    return tuple(n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted)


def _quantize(name: str, source: Path, destination: Path) -> None:
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ModuleNotFoundError as exc:  # onnx, from the [torch] extra: quantizing is part of the export
        from assistant.embedding.encoders import missing_torch

        raise AssistantError(missing_torch("Quantizing the model", exc)) from None
    import logging

    excluded = _fp32_nodes(source, INT8_FP32_NODES.get(name))
    logging.disable(logging.WARNING)  # "consider pre-processing" is advice for its developers
    try:
        quantize_dynamic(
            str(source), str(destination), weight_type=QuantType.QInt8, nodes_to_exclude=excluded, **INT8_SETTINGS
        )
    finally:
        logging.disable(logging.NOTSET)


def _fp32_nodes(source: Path, pattern: str | None) -> list[str]:
    """Names of the MatMul nodes to keep in fp32; a pattern that matches none is an error, not a no-op."""
    if pattern is None:
        return []
    import re

    import onnx

    graph = onnx.load(str(source), load_external_data=False).graph
    names = [n.name for n in graph.node if n.op_type == "MatMul" and re.search(pattern, n.name)]
    if not names:
        raise AssistantError(f"No MatMul in {source} matches {pattern!r}; the exporter's node names changed.")
    return names


class OnnxEncoder:
    """The Encoder protocol on onnxruntime: float32 unit vectors, inputs sorted by length for batching."""

    def __init__(self, name: str, quantized: bool = False, threads: int = THREADS) -> None:
        spec = model_spec(name)
        self.name = name
        self.backend = "onnx-int8" if quantized else "onnx"
        self.dimension = spec.dimension
        self.max_seq_length = spec.max_seq_length
        folder = model_path(name)
        self._tokenizer = _load_tokenizer(folder, spec.max_seq_length)
        self._pad_id = _pad_id(self._tokenizer, folder)
        self._session = load_session(ensure_onnx(name, quantized), threads)
        self._inputs = tuple(i.name for i in self._session.get_inputs())

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Embed texts; longest-first batches waste little padding, results come back in input order."""
        output = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return output
        ids = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        batch_size = max(batch_size, 1)
        bar = _progress_bar(len(texts), f"Embedding ({self.backend})") if progress else None
        try:
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                output[batch] = self._embed([ids[i] for i in batch])
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
        return output

    def _embed(self, batch: list[list[int]]) -> np.ndarray:
        """Pad to the batch's longest sequence, run the graph, mean-pool over real tokens, normalize."""
        length = max(len(ids) for ids in batch)
        input_ids = np.full((len(batch), length), self._pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(batch), length), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": np.zeros_like(input_ids)}
        (hidden,) = self._session.run(["last_hidden_state"], {n: feeds[n] for n in self._inputs})
        mask = attention_mask[:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def _load_tokenizer(folder: Path, max_length: int) -> tokenizers.Tokenizer:
    """The fast tokenizer from tokenizer.json, truncating where sentence-transformers does."""
    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    if not path.is_file():
        raise AssistantError(f"The model folder {folder} has no tokenizer.json; reinstall the model package.")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()  # we pad per batch ourselves, after sorting by length
    tokenizer.enable_truncation(max_length=max_length)  # counts the [CLS]/[SEP] the post-processor adds
    return tokenizer


def _pad_id(tokenizer: tokenizers.Tokenizer, folder: Path) -> int:
    """The model's pad token id (0 for BERT, 1 for MPNet); masked out anyway, but keep it faithful."""
    import json

    pad_token = "[PAD]"
    for filename in ("special_tokens_map.json", "tokenizer_config.json"):
        config = folder / filename
        if config.is_file():
            value = json.loads(config.read_text(encoding="utf-8")).get("pad_token")
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str):
                pad_token = value
                break
    pad_id = tokenizer.token_to_id(pad_token)
    return 0 if pad_id is None else pad_id


def load_session(path: Path, threads: int, arena: bool = True) -> onnxruntime.InferenceSession:
    """A CPU session on a model file, with the thread settings every encoder here shares.

    `arena=False` frees each run's activations instead of keeping them in onnxruntime's arena: for the
    multilingual encoder, whose batches of long passages grew the process by ~180 MB that were never given
    back, at no cost to a question (9.99 vs 9.94 ms, 453 gold questions)."""
    try:
        import onnxruntime
    except ImportError:
        raise AssistantError("The onnx backends need onnxruntime; run: pip install -e .") from None
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = arena
    # Idle threads sleep instead of spinning: the cores are shared (app, index search, other
    # jobs), and with a busy neighbour spinning cost ~15% throughput and doubled query latency.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # onnxruntime's warnings are for its developers, not our users
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped failures
        raise AssistantError(f"The ONNX model {path} cannot be loaded ({error}); delete it so it is exported again.") from error


def _progress_bar(total: int, description: str) -> tqdm:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="passage")
