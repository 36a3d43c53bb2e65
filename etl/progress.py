"""A progress bar on stderr for long ETL commands.

rich draws it on a terminal when installed (it arrives with the dev dependencies, not the service's own);
otherwise a line every few seconds says the same, so a plain install, a pipe or a CI log still shows progress.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

Advance = Callable[[int], None]
_PLAIN_EVERY_SECONDS = 5.0


@contextlib.contextmanager
def progress(description: str, total: int, unit: str = "movies") -> Iterator[Advance]:
    """Yields `advance(n)`, to be called as each n more items are done."""
    if not sys.stderr.isatty():
        with _plain(description, total, unit) as advance:
            yield advance
        return
    try:
        from rich.console import Console  # noqa: PLC0415
        from rich.progress import (  # noqa: PLC0415
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
    except ImportError:
        with _plain(description, total, unit) as advance:
            yield advance
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        # Log lines go to the real stderr, which rich would otherwise redirect under the bar.
        redirect_stderr=False,
        redirect_stdout=False,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextlib.contextmanager
def _plain(description: str, total: int, unit: str) -> Iterator[Advance]:
    done = 0
    last = time.monotonic()

    def advance(n: int) -> None:
        nonlocal done, last
        done += n
        if time.monotonic() - last >= _PLAIN_EVERY_SECONDS:
            last = time.monotonic()
            _line(description, done, total, unit)

    yield advance
    _line(description, done, total, unit)


def _line(description: str, done: int, total: int, unit: str) -> None:
    share = f" ({100 * done / total:.0f}%)" if total else ""
    sys.stderr.write(f"{description}: {done}/{total} {unit}{share}\n")
    sys.stderr.flush()
