"""The Milvus vector store: the same `VectorStore` contract on a Milvus engine, local or a cluster.

Where the engine runs (ASSISTANT_MILVUS_URI):
  - a path ending in .db (default: <index dir>/milvus.db): the Milvus engine of the
    milvus-lite 2.5 wheel (its native `milvus` binary, Milvus' segcore and knowhere), started
    here as a child process that serves gRPC on a Unix socket and stops when we release the
    database's lock. We start the binary ourselves because milvus-lite 2.5's Python wrapper
    imports `pkg_resources`, which setuptools >= 81 no longer ships. milvus-lite >= 3 is not
    this engine (a Python re-implementation), so 2.5.1 is pinned.
  - http(s)://host:19530 (Milvus standalone or a distributed cluster, or Zilliz Cloud), with
    ASSISTANT_MILVUS_TOKEN ("user:password" or an API key) and ASSISTANT_MILVUS_DB.
Both are reached with the same pymilvus `MilvusClient`; only the URI differs.

The collection (ASSISTANT_MILVUS_COLLECTION, default "assistant_chunks") has one row per
chunk: the primary key is `StoreEntry.key`; the scalar fields are what filters use. A filter
is a Milvus boolean expression (`milvus_filter`) evaluated by the engine inside the search.
A second small collection, `<name>_state`, records which index generation the collection was
last synced to and the fingerprint of its keys, so a stale collection is refused, not served.

Index (ASSISTANT_MILVUS_INDEX): FLAT (exact, the local default; the local engine offers only
FLAT, IVF_FLAT and AUTOINDEX), HNSW (the cluster default, M and efConstruction as the FAISS
rule in assistant/index/vectors.py, ef from its measured table), IVF_FLAT or AUTOINDEX.
Consistency (ASSISTANT_MILVUS_CONSISTENCY): Session by default, so a process reads its own
writes while other readers are not held back; sync checks run at Strong.
"""

from __future__ import annotations

import atexit
import fcntl
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from assistant.errors import AssistantError, StaleIndexError
from assistant.search.filters import Filters
from assistant.search.stores import StoreEntry, StoreHit, SyncReport, index_entries, keys_fingerprint, sync_store
from assistant.settings import StoreSettings, load_settings

if TYPE_CHECKING:
    from assistant.index import LoadedIndex

# pymilvus 2.5.12-2.5.18 cannot decode an empty query result from the 2.5.1 engine when the
# collection has an ARRAY field ("Unsupported data type: 0"); 2.5.11 can.
PYMILVUS_VERSION = "2.5.11"
INSTALL_HINT = "pip install -e '.[milvus]'"  # the extra pins pymilvus==2.5.11 and milvus-lite==2.5.1
MISSING = "The {what} needs {package}, which is not installed; run `" + INSTALL_HINT + "`."
DEFAULT_COLLECTION = "assistant_chunks"
DEFAULT_DB_FILE = "milvus.db"
LOCAL_INDEX_TYPES = ("FLAT", "IVF_FLAT", "AUTOINDEX")  # what the local engine accepts
INDEX_TYPES = ("FLAT", "HNSW", "IVF_FLAT", "AUTOINDEX")
CONSISTENCY_LEVELS = ("Strong", "Session", "Bounded", "Eventually")
IVF_NLIST, IVF_NPROBE = 128, 16  # Milvus builds IVF per sealed segment; these suit segments of ~1M rows
MAX_TOP_K = 16_384  # Milvus' limit on limit (and on offset + limit in queries)
WRITE_BATCH = 1000  # rows per upsert: ~1.6 MB of 384-d vectors, far below gRPC's 64 MB
CALL_TIMEOUT = 120.0  # seconds for one call to the engine
START_TIMEOUT = 60.0  # seconds for the local engine to open its socket
KEY_PATTERN = re.compile(r"^[0-9a-f]{1,64}$")
HEX = "0123456789abcdef"
STATE = "sync"

# Text fields and their maximum length in bytes (Milvus VARCHAR limits are in UTF-8 bytes).
VARCHAR_FIELDS = {"chunk_id": 512, "unit_id": 512, "content_hash": 128, "doc_id": 256, "kind": 64,
                  "section": 4096, "section_lower": 4096, "doc_date": 32, "embedding": 256}
MAX_COUNTRIES, MAX_COUNTRY_BYTES = 256, 128

logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # failures reach the user as one sentence


@dataclass(frozen=True)
class MilvusSettings:
    uri: str  # a local .db path (the local engine) or http(s)://host:port (a server or cluster)
    token: str = ""
    db_name: str = ""
    collection: str = DEFAULT_COLLECTION
    index_type: str = ""  # "" = FLAT locally, HNSW on a server
    consistency: str = "Session"
    log_level: str = "ERROR"  # the engine's own log level (MILVUS_LOG_LEVEL)

    @property
    def local(self) -> bool:
        return not re.match(r"^(https?|tcp|grpc|unix)://", self.uri) and not self.uri.startswith("unix:")

    @property
    def chosen_index_type(self) -> str:
        return self.index_type or ("FLAT" if self.local else "HNSW")

    @classmethod
    def from_settings(cls, store: StoreSettings, index_dir: Path) -> MilvusSettings:
        """The Milvus part of the store settings (ASSISTANT_MILVUS_*), with offline defaults."""
        settings = cls(
            uri=store.milvus_uri or str(Path(index_dir) / DEFAULT_DB_FILE),
            token=store.milvus_token,
            db_name=store.milvus_db,
            collection=store.milvus_collection or DEFAULT_COLLECTION,
            index_type=store.milvus_index.upper(),
            consistency=(store.milvus_consistency or "Session").capitalize(),
            log_level=store.milvus_log_level or "ERROR",
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.chosen_index_type not in INDEX_TYPES:
            raise AssistantError(f"Unknown Milvus index type {self.index_type!r}; choose one of {', '.join(INDEX_TYPES)}.")
        if self.local and self.chosen_index_type not in LOCAL_INDEX_TYPES:
            raise AssistantError(f"The local Milvus engine supports only {', '.join(LOCAL_INDEX_TYPES)} indexes, "
                                 f"not {self.chosen_index_type}; use it on a Milvus server.")
        if self.consistency not in CONSISTENCY_LEVELS:
            raise AssistantError(f"Unknown Milvus consistency level {self.consistency!r}; choose one of "
                                 f"{', '.join(CONSISTENCY_LEVELS)}.")
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$", self.collection):
            raise AssistantError(f"{self.collection!r} is not a Milvus collection name (letters, digits and _).")


# --- the local engine -------------------------------------------------------------------------


def _engine_dir() -> Path:
    """milvus-lite's folder of native files, found without importing its Python wrapper."""
    if importlib.util.find_spec("pymilvus") is None:
        raise AssistantError(MISSING.format(what="Milvus store", package="pymilvus"))
    spec = importlib.util.find_spec("milvus_lite")
    if spec is None:
        raise AssistantError(MISSING.format(what="local Milvus engine", package="milvus-lite"))
    folder = Path(next(iter(spec.submodule_search_locations or []), "")) / "lib" if spec else None
    if folder is None or not (folder / "milvus").is_file():
        raise AssistantError("The local Milvus engine is missing: milvus-lite 3 is a Python stand-in without it; "
                             f"install the 2.5 wheel: {INSTALL_HINT}.")
    return folder


class LocalMilvus:
    """The Milvus engine of milvus-lite on one database file, as a child process on a Unix socket.

    The engine holds no lock of its own: it runs while this process holds an exclusive lock on
    `.<name>.lock` beside the database and exits when the lock is released, also when this
    process dies. The lock file is the one milvus-lite's own launcher uses, so the two exclude
    each other.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path).absolute()
        name = self.db_path.name
        if not re.match(r"^[A-Za-z0-9.\-_]{1,36}$", name):
            raise AssistantError(f"The Milvus database file name {name!r} must be at most 36 letters, digits, '.', '-' or '_'.")
        self._lock_path = self.db_path.parent / f".{name}.lock"
        self._log_path = self.db_path.with_name(name + ".log")
        self._socket_dir = ""
        self._lock: Any = None
        self._process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"unix:{self._socket_dir}/milvus.sock"

    def start(self) -> str:
        engine = _engine_dir()
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = open(self._lock_path, "a")
        try:
            fcntl.lockf(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            raise AssistantError(f"The Milvus database {self.db_path} is open in another process; close it, or "
                                 "point ASSISTANT_MILVUS_URI at a Milvus server that many processes can share.") from None
        self._socket_dir = tempfile.mkdtemp(prefix="assistant-milvus-")
        env = os.environ.copy()  # the child inherits our environment, with the engine's libraries first
        env["LD_LIBRARY_PATH"] = f"{engine}:{env.get('LD_LIBRARY_PATH', '')}"
        with open(self._log_path, "w") as log:
            self._process = subprocess.Popen(
                [str(engine / "milvus"), str(self.db_path), self.uri, load_settings().store.milvus_log_level,
                 str(self._lock_path)],
                env=env, cwd=str(self.db_path.parent), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        socket = Path(self._socket_dir) / "milvus.sock"
        while not socket.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                tail = self._log_tail()
                self.stop()
                raise AssistantError(f"The local Milvus engine did not start on {self.db_path}"
                                     f"{': ' + tail if tail else ''}; see {self._log_path}.")
            time.sleep(0.05)
        return self.uri

    def _log_tail(self) -> str:
        try:
            lines = [line.strip() for line in self._log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""

    def stop(self) -> None:
        if self._lock is not None:
            fcntl.lockf(self._lock, fcntl.LOCK_UN)  # the engine exits when it sees the lock free
            self._lock.close()
            self._lock = None
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            self._process = None
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = ""
        try:
            self._lock_path.unlink()
        except FileNotFoundError:
            pass


def _check_local_client() -> None:
    from importlib.metadata import version

    installed = version("pymilvus")
    parts = tuple(int(p) for p in re.findall(r"\d+", installed)[:3])
    if parts[:2] != (2, 5) or parts[2] > 11:
        raise AssistantError(f"pymilvus {installed} does not work with the local Milvus 2.5 engine; {INSTALL_HINT}.")


class _LocalEngines:
    """One engine per database file per process, shared by the stores opened on it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: dict[Path, tuple[LocalMilvus, int]] = {}
        atexit.register(self.stop_all)

    def acquire(self, db_path: Path) -> str:
        path = Path(db_path).absolute()
        with self._lock:
            engine, users = self._engines.get(path, (None, 0))
            if engine is None:
                engine = LocalMilvus(path)
                engine.start()
            self._engines[path] = (engine, users + 1)
            return engine.uri

    def release(self, db_path: Path) -> None:
        path = Path(db_path).absolute()
        with self._lock:
            engine, users = self._engines.get(path, (None, 0))
            if engine is None:
                return
            if users > 1:
                self._engines[path] = (engine, users - 1)
            else:
                engine.stop()
                del self._engines[path]

    def stop_all(self) -> None:
        with self._lock:
            for engine, _ in self._engines.values():
                engine.stop()
            self._engines.clear()


LOCAL_ENGINES = _LocalEngines()


# --- filters ----------------------------------------------------------------------------------


def _literal(value: str) -> str:
    """A Milvus string literal: double-quoted, backslash and quote escaped, non-ASCII kept as is."""
    return json.dumps(value, ensure_ascii=False)


def _like_substring(value: str) -> str:
    """A LIKE pattern matching `value` anywhere: its own %, _ and backslashes escaped."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _literal(f"%{escaped}%")


def _in_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_literal(v) for v in values) + "]"


def milvus_filter(where: Filters | None) -> str:
    """The Milvus boolean expression for `where` ("" for no filter), same semantics as Filters.matches."""
    if where is None or where.is_empty():
        return ""
    clauses = []
    if where.doc_ids:
        clauses.append(f"doc_id in {_in_list(where.doc_ids)}")
    if where.kinds:
        clauses.append(f"kind in {_in_list(where.kinds)}")
    if where.sections and all(where.sections):  # an empty substring matches every section
        clauses.append("(" + " or ".join(f"section_lower like {_like_substring(s)}" for s in where.sections) + ")")
    if where.countries:
        clauses.append(f"array_contains_any(countries, {_in_list(where.countries)})")
    # The same dates as Filters.matches: undated ("") left out, a month ("2024-06") in when any of its days is.
    if where.date_from:
        clauses.append(f"(doc_date >= {_literal(where.date_from)} or doc_date == {_literal(where.date_from[:7])})")
    if where.date_to:
        clauses.append(f"doc_date <= {_literal(where.date_to)} and doc_date != \"\"")
    return " and ".join(clauses)


# --- the store --------------------------------------------------------------------------------


def _milvus_error(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())[:300]


class MilvusStore:
    """A `VectorStore` on a Milvus collection; filters run inside the engine's search."""

    name = "milvus"

    def __init__(self, settings: MilvusSettings, dimension: int, replace_other_schema: bool = False) -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise AssistantError(MISSING.format(what="Milvus store", package="pymilvus")) from None
        settings.check()
        if settings.local:
            _check_local_client()
        self.settings = settings
        self.dimension = dimension
        self.collection = settings.collection
        self._local_path = Path(settings.uri).absolute() if settings.local else None
        uri = LOCAL_ENGINES.acquire(self._local_path) if self._local_path else settings.uri
        try:
            self._client = MilvusClient(uri=uri, token=settings.token, db_name=settings.db_name, timeout=START_TIMEOUT)
            self._ensure_collections(replace_other_schema)
        except AssistantError:
            self.close()
            raise
        except Exception as exc:  # pymilvus raises MilvusException, grpc errors and timeouts
            self.close()
            raise AssistantError(f"Cannot use Milvus at {settings.uri} ({_milvus_error(exc)}); check "
                                 "ASSISTANT_MILVUS_URI and ASSISTANT_MILVUS_TOKEN, or use --store faiss.") from None
        self._closed = False

    # schema ---------------------------------------------------------------------------------

    def _schema(self) -> Any:
        from pymilvus import DataType

        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False,
                                            description="assistant chunks: one row per chunk, key = StoreEntry.key")
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        for name, length in VARCHAR_FIELDS.items():
            schema.add_field(name, DataType.VARCHAR, max_length=length)
        schema.add_field("countries", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=MAX_COUNTRIES,
                         max_length=MAX_COUNTRY_BYTES)
        return schema

    def index_params(self) -> dict[str, Any]:
        from assistant.index.vectors import HNSW_EF_CONSTRUCTION, HNSW_M

        kind = self.settings.chosen_index_type
        return {"FLAT": {}, "AUTOINDEX": {}, "IVF_FLAT": {"nlist": IVF_NLIST},
                "HNSW": {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}}[kind]

    def search_params(self, k: int) -> dict[str, Any]:
        from assistant.index.vectors import hnsw_ef_search

        kind = self.settings.chosen_index_type
        params: dict[str, Any] = {}
        if kind == "HNSW":
            params = {"ef": max(k, hnsw_ef_search(self._approximate_count()))}
        elif kind == "IVF_FLAT":
            params = {"nprobe": IVF_NPROBE}
        return {"metric_type": "IP", "params": params}

    def _ensure_collections(self, replace_other_schema: bool) -> None:
        from pymilvus import DataType

        client = self._client
        if client.has_collection(self.collection):
            fields = {f["name"]: f for f in client.describe_collection(self.collection)["fields"]}
            dim = int(fields.get("vector", {}).get("params", {}).get("dim", -1))
            expected = {"key", "vector", "countries", *VARCHAR_FIELDS}
            if (dim != self.dimension or set(fields) != expected) and replace_other_schema:
                self.drop()  # derived data: the sync that asked for this writes it all again
            elif dim != self.dimension or set(fields) != expected:
                raise StaleIndexError(
                    f"The Milvus collection {self.collection} has another schema (vector dimension {dim}, not "
                    f"{self.dimension}); run `assistant index --store milvus` to rebuild it.")
        if not client.has_collection(self.collection):
            index = client.prepare_index_params()
            index.add_index("vector", index_type=self.settings.chosen_index_type, metric_type="IP",
                            params=self.index_params())
            client.create_collection(self.collection, schema=self._schema(), index_params=index,
                                     consistency_level=self.settings.consistency, timeout=CALL_TIMEOUT)
        state = self.collection + "_state"
        if not client.has_collection(state):
            schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("name", DataType.VARCHAR, is_primary=True, max_length=64)
            schema.add_field("value", DataType.VARCHAR, max_length=65_535)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)  # Milvus needs one vector field
            index = client.prepare_index_params()
            index.add_index("vector", index_type="FLAT", metric_type="L2")
            client.create_collection(state, schema=schema, index_params=index, consistency_level="Strong")
        client.load_collection(self.collection, timeout=CALL_TIMEOUT)
        client.load_collection(state, timeout=CALL_TIMEOUT)

    # the contract ---------------------------------------------------------------------------

    @staticmethod
    def _row(entry: StoreEntry, vector: np.ndarray) -> dict[str, Any]:
        if not KEY_PATTERN.match(entry.key):
            raise ValueError(f"a Milvus store key is 1-64 lower-case hex characters, not {entry.key!r}")
        row: dict[str, Any] = {"key": entry.key, "vector": vector, "section_lower": entry.section.lower(),
                               "countries": list(entry.countries)}
        row.update({name: getattr(entry, name) for name in VARCHAR_FIELDS if name != "section_lower"})
        for name, limit in VARCHAR_FIELDS.items():
            if len(row[name].encode("utf-8")) > limit:
                raise AssistantError(f"The {name} of chunk {entry.chunk_id} is longer than the Milvus schema's "
                                     f"{limit} bytes.")
        if len(entry.countries) > MAX_COUNTRIES:
            raise AssistantError(f"Chunk {entry.chunk_id} names more than {MAX_COUNTRIES} countries.")
        return row

    def upsert(self, entries: Sequence[StoreEntry], vectors: np.ndarray) -> None:
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape != (len(entries), self.dimension):
            raise ValueError(f"expected {len(entries)} vectors of dimension {self.dimension}, got shape {matrix.shape}")
        if len({e.key for e in entries}) != len(entries):
            raise ValueError("the same key appears twice in one upsert")
        for start in range(0, len(entries), WRITE_BATCH):
            rows = [self._row(e, v) for e, v in zip(entries[start:start + WRITE_BATCH], matrix[start:start + WRITE_BATCH])]
            self._client.upsert(self.collection, rows, timeout=CALL_TIMEOUT)

    def delete(self, keys: Iterable[str]) -> int:
        wanted = list(dict.fromkeys(keys))
        deleted = 0
        for start in range(0, len(wanted), WRITE_BATCH):
            batch = wanted[start:start + WRITE_BATCH]
            stored = [row["key"] for row in self._client.get(self.collection, ids=batch, output_fields=["key"],
                                                               timeout=CALL_TIMEOUT, consistency_level="Strong")]
            if stored:
                self._client.delete(self.collection, ids=stored, timeout=CALL_TIMEOUT)
            deleted += len(stored)
        return deleted

    def search(self, queries: np.ndarray, k: int, where: Filters | None = None) -> list[list[StoreHit]]:
        if not 1 <= k <= MAX_TOP_K:
            raise AssistantError(f"Milvus returns between 1 and {MAX_TOP_K} results per query, not {k}.")
        matrix = np.ascontiguousarray(queries, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.dimension:
            raise ValueError(f"expected queries of dimension {self.dimension}, got shape {matrix.shape}")
        results = self._client.search(
            self.collection, data=[row for row in matrix], limit=k, filter=milvus_filter(where), anns_field="vector",
            search_params=self.search_params(k), output_fields=[], timeout=CALL_TIMEOUT,
            consistency_level=self.settings.consistency)
        return [[StoreHit(str(hit["id"]), float(hit["distance"])) for hit in hits] for hits in results]

    def keys(self) -> set[str]:
        """Every key, read by hex prefix so that no single query passes Milvus' 16,384-row window."""
        found: set[str] = set()
        prefixes = [""]
        while prefixes:
            prefix = prefixes.pop()
            # Not `filter=""` nor `like "%"`: the local engine answers those with an array field it cannot
            # decode (pymilvus: "Unsupported data type: 0"); `!= ""` and a real prefix work everywhere.
            rows = self._client.query(self.collection, filter=f'key like "{prefix}%"' if prefix else 'key != ""',
                                      output_fields=["key"], limit=MAX_TOP_K, timeout=CALL_TIMEOUT,
                                      consistency_level="Strong")
            if len(rows) < MAX_TOP_K:
                found.update(row["key"] for row in rows)
            else:
                prefixes.extend(prefix + h for h in HEX)
        return found

    def count(self) -> int:
        rows = self._client.query(self.collection, filter="", output_fields=["count(*)"], timeout=CALL_TIMEOUT,
                                  consistency_level="Strong")
        return int(rows[0]["count(*)"])

    def _approximate_count(self) -> int:
        return int(self._client.get_collection_stats(self.collection).get("row_count", 0))

    # sync state -----------------------------------------------------------------------------

    def read_state(self) -> dict[str, Any]:
        rows = self._client.get(self.collection + "_state", ids=[STATE], output_fields=["value"],
                                consistency_level="Strong")
        return json.loads(rows[0]["value"]) if rows else {}

    def write_state(self, state: dict[str, Any]) -> None:
        self._client.upsert(self.collection + "_state",
                            [{"name": STATE, "value": json.dumps(state), "vector": [0.0, 0.0]}])

    def flush(self) -> None:
        """Seal what was written so a server builds its index on it (a no-op cost locally)."""
        self._client.flush(self.collection, timeout=CALL_TIMEOUT)

    def drop(self) -> None:
        """Remove both collections: the store is derived data and `assistant index --store milvus` rebuilds it."""
        for name in (self.collection, self.collection + "_state"):
            if self._client.has_collection(name):
                self._client.drop_collection(name)

    def close(self) -> None:
        if getattr(self, "_closed", False):
            return
        self._closed = True
        client = getattr(self, "_client", None)
        if client is not None:
            try:
                client.close()
            except Exception:  # closing a broken channel must not hide the error that broke it
                pass
        if self._local_path is not None:
            LOCAL_ENGINES.release(self._local_path)

    def __enter__(self) -> MilvusStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the index and the store ------------------------------------------------------------------


def _index_state(index: LoadedIndex, fingerprint: str) -> dict[str, Any]:
    return {"generation": index.generation.name, "model": index.model, "backend": index.backend,
            "fingerprint": fingerprint}


def sync_milvus(index: LoadedIndex, settings: MilvusSettings) -> SyncReport:
    """Bring the collection to exactly the index's chunks (incremental), then record the sync."""
    entries = index_entries(index)
    with MilvusStore(settings, int(index.vectors.shape[1]), replace_other_schema=True) as store:
        report = sync_store(store, entries, index.vectors)
        if report.added or report.deleted:
            store.flush()
        stored = store.keys()
        expected = {e.key for e in entries}
        if stored != expected:
            raise AssistantError(f"The Milvus collection {store.collection} holds {len(stored)} keys after the sync, "
                                 f"not the index's {len(expected)}; run `assistant index --store milvus` again.")
        store.write_state(_index_state(index, keys_fingerprint(expected)))
    return report


def open_for_index(index: LoadedIndex, settings: MilvusSettings, entries: Sequence[StoreEntry] | None = None) -> MilvusStore:
    """The store for serving `index`, refused when it was not synced to exactly this index's chunks."""
    fingerprint = (keys_fingerprint(e.key for e in entries) if entries is not None
                   else index.manifest.keys_fingerprint)  # written by the build: no pass over the chunks
    store = MilvusStore(settings, int(index.vectors.shape[1]))
    try:
        state = store.read_state()
        expected = _index_state(index, fingerprint)
        if state.get("fingerprint") != expected["fingerprint"]:
            where = f"index generation {state['generation']}" if state.get("generation") else "no index yet"
            raise StaleIndexError(f"The Milvus collection {store.collection} holds {where}, not the served one; "
                                  "run `assistant index --store milvus` to sync it.")
    except BaseException:
        store.close()
        raise
    return store
