"""A private PostgreSQL server for the tests: Debian's binaries, a fresh cluster in a
temporary folder, a free port on 127.0.0.1 and a socket in that folder; stopped at exit.

``scripts/ensure-postgres.sh`` (run by ``make test``) installs the server where it is
absent. As root (CI), the cluster belongs to the ``postgres`` system user, as initdb
refuses to run as root.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self) -> None:
        self.bindir = _bindir()
        if self.bindir is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb) on this machine; "
                               "run scripts/ensure-postgres.sh")
        self.root = Path(tempfile.mkdtemp(prefix="aovlab-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o755)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "aovlab", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l",
                  str(self.root / "server.log"), "-o", opts, "start")
        atexit.register(self.stop)

    def _run(self, tool: str, *args: str) -> None:
        r = subprocess.run([*self._as, str(self.bindir / tool), *args], capture_output=True,
                           text=True)
        if r.returncode:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed: {r.stdout}{r.stderr}{tail}")

    def dsn(self, database: str = "postgres", schema: str | None = None) -> str:
        q = f"?schema={schema}" if schema else ""
        return f"postgresql://aovlab@127.0.0.1:{self.port}/{database}{q}"

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run([*self._as, str(self.bindir / "pg_ctl"), "-D", str(self.data),
                            "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


_SERVER: PgServer | None = None


def server() -> PgServer:
    """The test run's one server, started on first use."""
    global _SERVER
    if _SERVER is None:
        _SERVER = PgServer()
    return _SERVER
