"""Embedding on Ray Data (the optional `[cluster]` extra): the actors' vectors are one process's."""

from __future__ import annotations

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[cluster]'")
pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install -e '.[cluster]'")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield
    ray.shutdown()


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_map_batches_with_the_onnx_encoder_as_an_actor_equals_one_process(local_ray, chunked_corpus, backend):
    from assistant.embedding.onnx import OnnxEncoder
    from assistant.embedding.ray_data import embed_with_ray
    from assistant.settings import DEFAULT_MODEL

    texts = [c.index_text for c in chunked_corpus.chunks[:40]] + ["Bulgaria", "returns cooperation"]
    vectors = embed_with_ray(texts, DEFAULT_MODEL, backend, actors=2, batch_size=8)
    single = OnnxEncoder(DEFAULT_MODEL, quantized=backend == "onnx-int8", threads=1).encode(texts)
    assert vectors.shape == single.shape
    cosines = np.sum(vectors * single, axis=1)
    if backend == "onnx":  # float32: what a batch holds does not change a text's vector
        assert float(np.max(np.abs(vectors - single))) < 1e-5
    else:  # int8 quantizes activations per batch, so other batches give vectors a little apart (as in one process)
        assert float(cosines.min()) > 0.98 and float(cosines.mean()) > 0.99


def test_an_empty_ingest_needs_no_cluster():
    from assistant.embedding.ray_data import embed_with_ray
    from assistant.settings import DEFAULT_MODEL

    assert embed_with_ray([], DEFAULT_MODEL).shape == (0, 384)


def test_assistant_index_embeds_on_ray(local_ray, tmp_path, settings, engine):
    from click.testing import CliRunner

    from assistant.cli import cli
    from tests.conftest import copy_corpus_and_index

    corpus, index_dir = copy_corpus_and_index(tmp_path, settings)
    path = corpus / "council-action-file-eastern-mediterranean-route-2024-07-22.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("26 September 2023", "27 September 2023"),
                    encoding="utf-8")
    result = CliRunner().invoke(cli, ["index", "--quiet", "--ray", "local", "--workers", "2"],
                                env={"ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX": str(index_dir)})
    assert result.exit_code == 0, result.output
    assert "Indexed" in result.output and " 0 embedded" not in result.output
