"""A throw-away PostgreSQL server for the tests: initdb into a temporary folder, pg_ctl on a
free 127.0.0.1 port (and its Unix socket in that folder), stopped and removed afterwards.

PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` system user
(``runuser -u postgres --``), which then owns the folder."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from typing import Optional


def binaries() -> Optional[str]:
    """The newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl, or None."""
    found = [path for path in glob.glob("/usr/lib/postgresql/*/bin")
             if os.path.exists(os.path.join(path, "initdb")) and os.path.exists(os.path.join(path, "pg_ctl"))]
    return sorted(found, key=lambda path: int(path.split("/")[-2]) if path.split("/")[-2].isdigit() else 0)[-1] \
        if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``Server().start()`` gives a running server; ``url`` its SQLAlchemy URL; ``stop()``."""

    def __init__(self, bin_dir: str):
        self.bin_dir = bin_dir
        self.folder = tempfile.mkdtemp(prefix="crmkit-pg-")
        self.data = os.path.join(self.folder, "data")
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        self.url = f"postgresql+psycopg2://crmkit@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [os.path.join(self.bin_dir, args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        # The server is not ours to sanitize: under the ASan pytest run (.ci/run) the preload is
        # not handed on to initdb, pg_ctl and postgres.
        environment = {key: value for key, value in os.environ.items() if key != "LD_PRELOAD"}
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                env=environment)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                               f"{result.stdout}\n{result.stderr}")

    def start(self) -> "Server":
        if self.as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        os.chmod(self.folder, 0o755)
        self._run("initdb", "-D", self.data, "-U", "crmkit", "-A", "trust", "-E", "UTF8",
                  "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
                   "-c fsync=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", os.path.join(self.folder, "log"),
                  "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
