"""Reading a pseudo-terminal in tests (the progress bar and the CLI's terminal output)."""

from __future__ import annotations

import os
import select


def read_until_closed(fd: int, timeout: float = 60.0) -> bytes:
    """Everything written to a pty's master side `fd` until the other side is closed.

    Fails when nothing arrives for `timeout` seconds, so a hung writer cannot hang the test."""
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise AssertionError(f"no output on the terminal within {timeout} s")
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
