"""Embedding: normalized sentence vectors from the packaged models, on PyTorch or ONNX Runtime.

`load_encoder(model, backend)` gives one encoder per process; `ensure_onnx` exports the ONNX
files once at set-up; `encode_in_processes` spreads a large ingest over worker processes.
"""

from assistant.embedding.encoders import BACKENDS, Encoder, SentenceTransformerEncoder, load_encoder
from assistant.embedding.onnx import OnnxEncoder, ensure_onnx, export_onnx, onnx_path
from assistant.embedding.parallel import OnnxProcessPool, encode_in_processes

__all__ = ["BACKENDS", "Encoder", "OnnxEncoder", "OnnxProcessPool", "SentenceTransformerEncoder", "encode_in_processes", "ensure_onnx",
           "export_onnx", "load_encoder", "onnx_path"]
