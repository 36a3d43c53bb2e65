"""Reading, cleaning and encoding an export in worker processes, one range of ids each, while this process loads.

Python's share of a load (reading rows, cleaning them, building each movie's document) costs more CPU than the
engine's, and one process runs it on one core. Workers read their own ranges of the file (`legacy.id_ranges`), so
what crosses a process boundary is only encoded batches: strings, cheap to pickle, where a Movie or a tantivy
Document costs far more. Together the ranges yield exactly the movies one reader would, once each; batches arrive
in no fixed order, which no engine minds (ids are unique across ranges).

A bounded queue carries the batches: memory holds at most `QUEUED_PER_WORKER` batches per worker beside each
worker's own chunk, however large the export, and a slower engine makes the workers wait instead of piling up.
Workers ignore Ctrl-C: the loading process gets it, discards its version and ends them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import signal
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path

from etl.batches import batches
from etl.legacy import IdRange, id_ranges, read_movies
from search_svc.ports.index_loader import EncodedBatch, Encoder

QUEUED_PER_WORKER = 2
# How often a wait for the next batch checks that the workers are still alive.
_POLL_SECONDS = 1.0
_JOIN_SECONDS = 10.0


class WorkerFailed(RuntimeError):
    """A worker raised, or died without saying why (killed, out of memory)."""


@dataclass(frozen=True)
class _Done:
    worker: int


@dataclass(frozen=True)
class _Failed:
    worker: int
    error: str


_Message = EncodedBatch | _Done | _Failed


@contextmanager
def encoded_batches(
    source: Path, encoder: Encoder, *, workers: int, batch_size: int
) -> Iterator[Iterator[EncodedBatch]]:
    """Start `workers` processes reading `source` (fewer when it has fewer rows); yield their batches as they come.

    The iterator raises WorkerFailed when a worker fails. Leaving the block ends every worker still running.
    """
    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch_size must be at least 1")
    parts = id_ranges(source, workers)
    # Spawned, not forked: the loading process may already run threads (an engine's writer, a client's pool).
    context = multiprocessing.get_context("spawn")
    channel: Queue[_Message] = context.Queue(maxsize=QUEUED_PER_WORKER * len(parts))
    processes = [
        context.Process(
            target=_work,
            args=(_Part(number, source, part, encoder, batch_size), channel),
            name=f"etl-reader-{number}",
            daemon=True,
        )
        for number, part in enumerate(parts)
    ]
    try:
        for process in processes:
            process.start()
        yield _receive(channel, processes)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            if process.pid is not None:
                process.join(_JOIN_SECONDS)
        # Batches left in the pipe are not waited for.
        channel.cancel_join_thread()
        channel.close()


def _receive(channel: Queue[_Message], processes: Sequence[BaseProcess]) -> Iterator[EncodedBatch]:
    running = set(range(len(processes)))
    received = _relay(channel)
    quiet = 0
    while running:
        try:
            message = received.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            quiet += 1
            _check_alive(processes, running, quiet)
            continue
        quiet = 0
        if isinstance(message, EncodedBatch):
            yield message
        elif isinstance(message, _Done):
            running.discard(message.worker)
        else:
            raise WorkerFailed(f"reading the export failed in {processes[message.worker].name}:\n{message.error}")


def _relay(channel: Queue[_Message]) -> queue.Queue[_Message]:
    """Read the workers' pipe on a thread of its own, one message at a time.

    A worker killed while its feeder thread was writing leaves half a message in the pipe, and a read of it never
    returns; on a daemon thread that read cannot keep the loading process from noticing the dead worker, failing
    and discarding its version. Holding one message at a time keeps the queue's bound.
    """
    received: queue.Queue[_Message] = queue.Queue(maxsize=1)

    def relay() -> None:
        with contextlib.suppress(OSError, EOFError, ValueError):  # the pipe closed when the load ended
            while True:
                received.put(channel.get())

    threading.Thread(target=relay, name="etl-relay", daemon=True).start()
    return received


def _check_alive(processes: Sequence[BaseProcess], running: set[int], quiet: int) -> None:
    for number in running:
        code = processes[number].exitcode
        if code is not None and code != 0:
            raise WorkerFailed(f"{processes[number].name} died (exit code {code}) before reading its part")
    # A worker's last message reaches the pipe before it exits, yet may land just after a wait timed out: only a
    # second quiet wait with every worker gone means one ended without it.
    if quiet > 1 and all(processes[number].exitcode == 0 for number in running):
        raise WorkerFailed("workers ended without finishing their parts")


@dataclass(frozen=True)
class _Part:
    """One worker's share of the work."""

    worker: int
    source: Path
    ids: IdRange
    encoder: Encoder
    batch_size: int


def _work(part: _Part, channel: Queue[_Message]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for batch in batches(read_movies(part.source, ids=part.ids), part.batch_size):
            channel.put(part.encoder(batch))
    except BaseException:
        # Said once, by the loading process, which discards its version.
        channel.put(_Failed(part.worker, traceback.format_exc()))
        return
    channel.put(_Done(part.worker))
