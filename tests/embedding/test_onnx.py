"""The onnxruntime encoder: same vectors as PyTorch, same contract as every Encoder, light to start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import AssistantError
from assistant.models import model_spec
from assistant.settings import DEFAULT_MODEL
from assistant.embedding import onnx_path

ROOT = Path(__file__).resolve().parents[2]
DIMENSION = model_spec(DEFAULT_MODEL).dimension


@pytest.fixture(scope="session")
def chunk_texts(chunked_corpus) -> list[str]:
    """About 20 real index texts, spread over the corpus so lengths and documents vary."""
    chunks = chunked_corpus.chunks
    step = max(len(chunks) // 20, 1)
    return [c.index_text for c in chunks[::step]][:20]


@pytest.fixture(scope="session")
def torch_vectors(chunk_texts) -> np.ndarray:
    from assistant.embedding import SentenceTransformerEncoder

    return SentenceTransformerEncoder(DEFAULT_MODEL).encode(chunk_texts)


@pytest.fixture(scope="session")
def onnx_encoders():
    """Both ONNX encoders, built once per session (exported first if the install step was skipped)."""
    from assistant.embedding import OnnxEncoder

    return {"onnx": OnnxEncoder(DEFAULT_MODEL), "onnx-int8": OnnxEncoder(DEFAULT_MODEL, quantized=True)}


def test_the_exported_files_live_beside_the_venv():
    assert onnx_path(DEFAULT_MODEL, quantized=False) == Path(sys.prefix) / "share/assistant/onnx" / DEFAULT_MODEL / "model.onnx"
    assert onnx_path(DEFAULT_MODEL, quantized=True).name == "model-int8.onnx"


def test_an_unknown_model_is_refused_in_one_sentence():
    with pytest.raises(AssistantError, match="Unknown embedding model"):
        onnx_path("bert-large-nonexistent", quantized=False)


@pytest.mark.slow
def test_fp32_vectors_match_pytorch(onnx_encoders, chunk_texts, torch_vectors):
    cosines = (onnx_encoders["onnx"].encode(chunk_texts) * torch_vectors).sum(axis=1)
    assert cosines.min() >= 0.999


@pytest.mark.slow
def test_int8_vectors_stay_close_to_pytorch(onnx_encoders, chunk_texts, torch_vectors):
    cosines = (onnx_encoders["onnx-int8"].encode(chunk_texts) * torch_vectors).sum(axis=1)
    assert cosines.mean() >= 0.98


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_vectors_are_float32_unit_vectors(onnx_encoders, chunk_texts, backend):
    encoder = onnx_encoders[backend]
    vectors = encoder.encode(chunk_texts, batch_size=8)
    assert encoder.backend == backend
    assert vectors.dtype == np.float32 and vectors.shape == (len(chunk_texts), DIMENSION)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_input_order_survives_length_sorting(onnx_encoders, chunk_texts, backend):
    """Short and long texts interleaved: row i of the batch is still text i."""
    encoder = onnx_encoders[backend]
    texts = ["Frontex", chunk_texts[0], "asylum", "BG", chunk_texts[1] * 3, "Who leads Action 2?", chunk_texts[2]]
    batched = encoder.encode(texts, batch_size=3)
    alone = np.vstack([encoder.encode([text]) for text in texts])
    similarity = batched @ alone.T
    assert list(similarity.argmax(axis=1)) == list(range(len(texts)))
    if backend == "onnx":  # int8 activations are scaled per batch, so only fp32 is batch-invariant
        assert np.diag(similarity).min() >= 0.9999


@pytest.mark.slow
def test_an_overlong_text_is_truncated_to_the_models_limit(onnx_encoders):
    encoder = onnx_encoders["onnx"]
    long_text = "The Commission coordinates returns with Frontex and the Member States. " * 400
    head, with_tail = encoder.encode([long_text, long_text + " Completely different closing words."])
    assert float(head @ with_tail) >= 0.9999  # the tail lies past max_seq_length tokens: it is cut off


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_no_texts_give_an_empty_matrix(onnx_encoders, backend):
    vectors = onnx_encoders[backend].encode([])
    assert vectors.shape == (0, DIMENSION) and vectors.dtype == np.float32


@pytest.mark.slow
def test_the_onnx_backend_reaches_a_first_vector_without_importing_torch():
    """The reason the backend exists: a cold start that never pays for torch."""
    script = (
        "import sys\n"
        "from assistant.embedding import load_encoder\n"
        f"vectors = load_encoder({DEFAULT_MODEL!r}, 'onnx-int8').encode(['Who leads Action 2?'])\n"
        "assert vectors.shape == (1, %d), vectors.shape\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules)\n"
        "assert not heavy, heavy\n" % DIMENSION
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
