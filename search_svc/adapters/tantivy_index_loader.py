"""IndexLoader on tantivy: every version is its own index directory; a pointer file names the serving one.

The directory's layout is `tantivy_versions`. Readers open the version the pointer names and hold it until the
pointer changes. Publishing deletes older versions at once: a reader still serving one keeps working, because on
Linux unlinked files stay readable through the memory maps and descriptors it already holds, and a reader never
opens a file of its version later.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path

import tantivy

from meshkit.errors import FailedPrecondition
from search_svc.adapters import tantivy_schema
from search_svc.adapters.tantivy_versions import POINTER, VERSIONS, serving_path
from search_svc.domain.movie import Movie
from search_svc.ports.index_loader import EncodedBatch, Encoder

# Documents arrive analysed (`tantivy_schema`): the writer's threads only cut the text fields at spaces and index
# the terms, some 45 µs of CPU a movie against ~120 µs when they analysed the text themselves (1M movies, busy
# 2-core machine). Two threads beat one, ~8k against ~7k movies/s, when measured with the writer analysing (100k
# movies, 2 cores). The heap is shared by the threads and bounds the writer's memory: a thread flushes a segment
# when its share fills.
WRITER_HEAP_BYTES = 128_000_000
WRITER_THREADS = 2


class TantivyIndexLoader:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def new_version(self) -> TantivyIndexVersion:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return TantivyIndexVersion(self._directory, f"{stamp}-{secrets.token_hex(4)}")

    def serving_count(self) -> int | None:
        path = serving_path(self._directory)
        if path is None:
            return None
        return tantivy.Index.open(str(path)).searcher().num_docs

    def encoder(self) -> Encoder:
        return encode


def encode(movies: Sequence[Movie]) -> EncodedBatch:
    """Each movie as the JSON document the writer reads: built by Python, analysed by the writer's threads."""
    return EncodedBatch(tuple(movie.id for movie in movies), tuple(map(tantivy_schema.document_json, movies)))


class TantivyIndexVersion:
    def __init__(self, directory: Path, name: str) -> None:
        self.name = name
        self._directory = directory
        self._path = directory / VERSIONS / name
        self._path.mkdir(parents=True)
        index = tantivy.Index(tantivy_schema.schema(), path=str(self._path), reuse=False)
        tantivy_schema.register_analyzers(index)
        self._writer: tantivy.IndexWriter | None = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=WRITER_THREADS)
        # Hashes of the ids added so far. tantivy keeps every delete until the commit (~1.4 KB each), so a
        # delete is sent only for an id seen before; a hash collision costs one needless delete, never a movie.
        self._seen: set[int] = set()

    def add(self, movies: Sequence[Movie]) -> None:
        self.add_encoded(encode(movies))

    def add_encoded(self, batch: EncodedBatch) -> None:
        writer = self._open_writer()
        # The last of several copies wins, within a batch and (through the delete) across batches.
        for movie_id, document in dict(zip(batch.ids, batch.documents, strict=True)).items():
            key = hash(movie_id)
            if key in self._seen:
                writer.delete_documents_by_term(tantivy_schema.ID, movie_id)
            else:
                self._seen.add(key)
            writer.add_json(document)

    def publish(self, expected: int) -> None:
        writer = self._open_writer()
        writer.commit()
        # Merging now leaves readers a compact index and no writer thread behind.
        writer.wait_merging_threads()
        self._writer = None
        self._seen = set()
        found = tantivy.Index.open(str(self._path)).searcher().num_docs
        if found != expected:
            raise FailedPrecondition(f"index version {self.name} holds {found} movies, expected {expected}")
        _fsync_tree(self._path)
        _replace_pointer(self._directory, f"{VERSIONS}/{self.name}")
        for older in (self._directory / VERSIONS).iterdir():
            if older.name < self.name:
                shutil.rmtree(older, ignore_errors=True)

    def discard(self) -> None:
        if self._writer is not None:
            # Stop the writer's threads before its files go.
            with contextlib.suppress(ValueError):
                self._writer.rollback()
                self._writer.wait_merging_threads()
            self._writer = None
        self._seen = set()
        shutil.rmtree(self._path, ignore_errors=True)

    def _open_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise FailedPrecondition(f"index version {self.name} is already published or discarded")
        return self._writer


def _replace_pointer(directory: Path, target: str) -> None:
    temporary = directory / f".{POINTER}.{secrets.token_hex(4)}"
    with temporary.open("w", encoding="utf-8") as file:
        file.write(target + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, directory / POINTER)
    _fsync_directory(directory)


def _fsync_tree(path: Path) -> None:
    # tantivy syncs its files on commit; the directories holding them are ours to sync.
    _fsync_directory(path)
    _fsync_directory(path.parent)


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
