"""Commands about the index: build it (`index`) and say where it stands (`status`)."""

from __future__ import annotations

import click

from assistant.cli.group import cli, emit, say, settings_for
from assistant.settings import Settings
from assistant.vocabulary import EMBEDDING_BACKENDS, STORES

STORE_HELP = ("Vector store for dense search: faiss (the index's own, default) or milvus (synced by "
              "`assistant index --store milvus`). Default: ASSISTANT_STORE or faiss.")


@cli.command()
@click.option("--if-stale", is_flag=True, help="Build only when the index is missing or stale.")
@click.option("--model", default=None, help="Embedding model (a registry name; see `assistant status`).")
@click.option("--backend", default=None, type=click.Choice(EMBEDDING_BACKENDS), help="Embedding runtime.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--store", "store_name", default=None, type=click.Choice(STORES),
              help="Vector store (not --backend: that is the embedding runtime). milvus also syncs the Milvus "
                   "collection at ASSISTANT_MILVUS_URI (default index/milvus.db). Default: ASSISTANT_STORE or faiss.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Embed new chunks on this many processes (torch backend), for large ingests.")
@click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
              help="Embed new chunks on Ray Data (pip install -e '.[cluster]'): 'auto' joins the cluster `ray start` "
                   "set up, ray://host:10001 a remote one, 'local' starts one here; --workers actors.")
@click.option("--verify", is_flag=True,
              help="Check every file of the served index against its checksum (loading checks sizes, and the "
                   "checksums of small files only); builds nothing.")
def index(if_stale: bool, model: str | None, backend: str | None, quiet: bool, store_name: str | None,
          workers: int, ray_address: str | None, verify: bool) -> None:
    """Build the index (FAISS, BM25, chunk store, manifest); only changed chunks are embedded."""
    from assistant.index import build_index, index_status, verify_index

    settings = settings_for(model, backend, store_name)
    if verify:
        say(verify_index(settings.index_dir))
        return
    if if_stale:
        status = index_status(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
        if status.fresh:
            say(status.reason)
            _sync_store(settings)
            return
        say(f"{status.reason} Building it now.")
    encoder = None
    if ray_address:
        from assistant.embedding.ray_data import RayEncoder

        encoder = RayEncoder(settings.model, settings.backend, ray_address, actors=workers)
    report = build_index(settings.index_dir, settings.corpus_dir, settings.model, settings.backend, progress=not quiet,
                         workers=workers, encoder=encoder)
    say(report.sentence())
    _sync_store(settings)


def _sync_store(settings: Settings) -> None:
    """Bring the Milvus collection to the served index's chunks (incremental, keyed by content)."""
    from assistant.search import checked_store_name

    if checked_store_name(settings.store.name) != "milvus":
        return
    from assistant.index import load_index
    from assistant.search.milvus import MilvusSettings, sync_milvus

    report = sync_milvus(load_index(settings.index_dir), MilvusSettings.from_settings(settings.store, settings.index_dir))
    say(report.sentence("Milvus"))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Index status: built when, with which model, how many units, and whether it is stale."""
    from assistant.index import index_status
    from assistant.present import status_record

    settings = settings_for()
    state = index_status(settings.index_dir, settings.corpus_dir, settings.model, settings.backend)
    emit(status_record(state, settings.index_dir), as_json, lambda r: "\n".join(f"{k}: {v}" for k, v in r.items()))
