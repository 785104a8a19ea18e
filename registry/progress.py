"""Progress bars for long imports and exports: on stderr, only when stderr is a terminal.

The library reports progress through a plain callback, `Progress = Callable[[int, int, str], None]`
called as `progress(done, total, what)` before each step; it never draws anything itself. The CLI
turns that callback into a rich progress bar:

    with progress.bar("importing") as step:
        registry.import_package(path, progress=step)

Nothing is drawn when stderr is not a terminal (a pipe, a file, CI logs), and nothing appears for
work that ends within `DELAY` seconds: the bar starts from a timer, so quick commands print
exactly what they printed before. The bar is transient (erased when done), so a terminal shows
the same final output as a pipe.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

Progress = Callable[[int, int, str], None]
# Seconds before a bar appears; REGISTRY_PROGRESS_DELAY=0 shows it at once (e.g. to see it on short work).
DELAY = float(os.environ.get("REGISTRY_PROGRESS_DELAY", "0.5"))


def _ignore(done: int, total: int, what: str) -> None:
    pass


@contextmanager
def bar(label: str, stream: IO[str] | None = None, delay: float | None = None) -> Iterator[Progress]:
    """A progress callback drawing a bar on `stream` (default stderr) when it is a terminal."""
    stream = sys.stderr if stream is None else stream
    delay = DELAY if delay is None else delay
    if not stream.isatty():
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as RichProgress

    display = RichProgress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=stream, force_terminal=True),
        transient=True,
    )
    task = display.add_task(label, total=None)
    lock = threading.Lock()
    state = {"started": False, "closed": False}

    def start() -> None:
        with lock:
            if not state["closed"]:
                display.start()
                state["started"] = True

    timer = threading.Timer(delay, start)
    timer.daemon = True

    def step(done: int, total: int, what: str) -> None:
        display.update(task, completed=done, total=total, description=f"{label}: {what}" if what else label)

    timer.start()
    try:
        yield step
    finally:
        timer.cancel()
        with lock:
            state["closed"] = True
            if state["started"]:
                display.stop()


__all__ = ["DELAY", "Progress", "bar"]
