"""A TCP relay on a fixed local port that a test can cut, turn into a black hole, or restore: an engine's outage
without touching the engine, which other tests and processes may be sharing."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from devstack.mesh import free_port

T = TypeVar("T")
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

_CHUNK = 65536


class TcpRelay:
    """Forwards 127.0.0.1:`port` to `upstream_host`:`upstream_port` until told otherwise.

    Runs its own event loop in a thread, so it keeps relaying while the test blocks on synchronous clients.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.port = free_port()
        self._upstream = (upstream_host, upstream_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-relay", daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        # Between a cut and a restore the port stays bound but not listening: connections are refused, and the OS
        # cannot hand the port to anyone else meanwhile (the service's URL names it, so it cannot change).
        self._reservation: socket.socket | None = None
        self._thread.start()
        self.cut()

    def restore(self) -> None:
        """Relay to the upstream again."""
        self._run(self._listen(self._relay))

    def cut(self) -> None:
        """Refuse new connections and reset every open one, like an engine that went down."""
        self._run(self._close())
        self._reservation = _bound_socket(self.port)

    def black_hole(self) -> None:
        """Accept connections and never answer, like an engine that hangs."""
        self._run(self._listen(self._swallow))

    def close(self) -> None:
        self._run(self._close())
        self._run(self._cancel_handlers())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self, handler: Handler) -> None:
        await self._close()
        sock = _bound_socket(self.port)
        self._server = await asyncio.start_server(handler, sock=sock)

    async def _close(self) -> None:
        if self._reservation is not None:
            self._reservation.close()
            self._reservation = None
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in self._writers:
            # abort() sends RST at once: the peer sees the connection die, not a polite end of stream.
            writer.transport.abort()
        self._writers.clear()

    async def _cancel_handlers(self) -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._writers.add(client_writer)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.add(upstream_writer)
        await asyncio.gather(
            _pump(client_reader, upstream_writer), _pump(upstream_reader, client_writer), return_exceptions=True
        )
        for writer in (client_writer, upstream_writer):
            writer.close()
            self._writers.discard(writer)

    async def _swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        # Reading keeps the request from filling the socket buffers, so the client really waits for an answer.
        with contextlib.suppress(OSError):
            while await reader.read(_CHUNK):
                pass


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    finally:
        # Either side ending ends both: HTTP clients reconnect, and a half-open pair would only linger.
        writer.close()


def _bound_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock
