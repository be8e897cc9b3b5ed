"""Nothing downloads at run time: tokenizer files and model weights come from packages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access is not allowed in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_tiktoken_works_offline_from_the_packaged_file(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    from assistant import offline

    offline.prepare_tiktoken.cache_clear()
    offline.tiktoken_encoding.cache_clear()
    encoding = offline.tiktoken_encoding("cl100k_base")
    assert encoding.decode(encoding.encode("Türkiye and Bulgaria")) == "Türkiye and Bulgaria"
    assert encoding.encode("hello world") == [15339, 1917]  # tiktoken's published ids
    assert any(tmp_path.iterdir())


def test_importing_the_cli_sets_the_offline_flags_itself():
    """In a process started without the flags (the conftest sets them for this one), our import sets them."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    for module in ("assistant.cli",):
        code = f"import os, {module}; print(os.environ.get('HF_HUB_OFFLINE'), os.environ.get('TRANSFORMERS_OFFLINE'))"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["1", "1"], (module, result.stdout)


@pytest.mark.slow
def test_model_loads_and_embeds_with_no_network(no_network):
    from assistant.embedding import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder("all-MiniLM-L6-v2")
    vectors = encoder.encode(["returns cooperation with Bulgaria"])
    assert vectors.shape == (1, 384)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-4


def test_code_never_names_a_download_source():
    pattern = "huggingface.co|hf_hub_download|snapshot_download|openaipublic"
    result = subprocess.run(["git", "grep", "-nE", pattern, "--", "assistant", "app.py", "app_*.py"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.stdout == "", result.stdout


def test_a_fresh_process_answers_the_cli_offline(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "", "TRANSFORMERS_OFFLINE": "", "TIKTOKEN_CACHE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "glossary", "FRESO"], capture_output=True,
                            text=True, env=env, cwd=ROOT)
    assert result.returncode == 0 and "Forced Return Escort" in result.stdout
