"""The optional generative mode against a real OpenAI-compatible HTTP endpoint on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.answering import build_prompt

BULGARIA = "what is the status of returns cooperation with Bulgaria"


class _Endpoint(BaseHTTPRequestHandler):
    """A minimal chat-completions server whose reply the test chooses."""

    reply = ""
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        if self.reply == "<500>":
            self.send_response(500)
            self.end_headers()
            return
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": self.reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Endpoint.requests = []
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


def test_prompt_numbers_the_retrieved_passages(engine):
    hits = engine.retriever.search(BULGARIA, k=3)
    prompt = build_prompt(BULGARIA, hits)
    assert "[1] " in prompt and "[3] " in prompt and "Action 21" in prompt


def test_supported_sentences_are_kept_and_unsupported_ones_dropped_and_reported(engine, endpoint):
    server, url = endpoint
    _Endpoint.reply = ("Returns cooperation with Bulgaria under the pilot project is ongoing, with 2 return "
                       "specialists and 2 interpreters deployed [1]. Bulgaria received EUR 900 million for charter flights [1]. "
                       "The moon is made of cheese.")
    answer = engine.with_llm(url, "local-model").ask(BULGARIA)
    assert answer.mode == "generative" and not answer.abstained
    assert "return specialists" in answer.answer and "cheese" not in answer.answer
    assert "900 million" not in answer.answer
    assert any("Dropped 2 sentence" in note for note in answer.notes)
    assert answer.citations[0].unit.locator == "Action 21"
    assert _Endpoint.requests[0]["model"] == "local-model"


def test_the_extractive_answer_is_the_fallback_on_any_error(engine, endpoint):
    server, url = endpoint
    _Endpoint.reply = "<500>"
    answer = engine.with_llm(url, "m").ask(BULGARIA)
    assert answer.mode == "extractive" and any("could not be used" in n for n in answer.notes)
    answer = engine.with_llm("http://127.0.0.1:9", "m").ask(BULGARIA)  # nothing listens there
    assert answer.mode == "extractive" and "Action 21" in answer.answer
