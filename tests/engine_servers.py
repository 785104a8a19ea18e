"""Throwaway engines for the tests: a PostgreSQL server of our own and a local SparkSession.

PostgreSQL: Debian's server binaries (/usr/lib/postgresql/<version>/bin, not on PATH). initdb
refuses to run as root, so under root (CI) initdb and pg_ctl run as the `postgres` user, in a
temporary directory it can traverse (not under pytest's mode-0700 temp root). The cluster uses
the C locale (byte order, as DuckDB and Spark compare strings), trust authentication, and listens
on 127.0.0.1 only, on a free port, with no Unix socket. Start ~1.5 s, stop ~0.1 s.

    python tests/engine_servers.py      # start one by hand; prints its URL; Ctrl-C stops it
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class EngineMissing(RuntimeError):
    """PostgreSQL or Java is not installed (`make setup` installs them)."""


def postgres_bin() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise EngineMissing(
        "PostgreSQL server binaries not found (apt-get install postgresql; `make setup` does it)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary directory; `url` connects as the superuser `postgres`."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.base = Path(tempfile.mkdtemp(prefix="caseregistry-pg-", dir="/tmp"))
        self.data = self.base / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(a) for a in args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
            )

    def start(self) -> ThrowawayPostgres:
        if self.as_root:
            os.chmod(self.base, 0o777)
            shutil.chown(self.base, user="postgres")
        self._run(
            self.bin / "initdb",
            "-D",
            self.data,
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            self.bin / "pg_ctl",
            "-D",
            self.data,
            "-o",
            options,
            "-l",
            self.base / "log",
            "-w",
            "-t",
            "30",
            "start",
        )
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(
                    self.bin / "pg_ctl",
                    "-D",
                    self.data,
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                )
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:  # noqa: PYI034 - a final class in effect
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def java_available() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


def local_spark(app: str = "caseregistry-tests", warehouse: str | Path | None = None):
    """A local SparkSession with 2 threads, small shuffles and no UI; tables it creates go under
    `warehouse` (a temporary directory when None), never into the working directory."""
    if not java_available():
        raise EngineMissing(
            "Java not found (Spark needs Java 17; `make setup` installs it)"
        )
    from pyspark.sql import SparkSession

    warehouse = (
        Path(warehouse)
        if warehouse
        else Path(tempfile.mkdtemp(prefix="caseregistry-spark-"))
    )
    return (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )


if __name__ == "__main__":
    server = ThrowawayPostgres().start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
