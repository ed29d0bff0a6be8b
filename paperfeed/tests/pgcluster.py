"""Throwaway PostgreSQL clusters for tests: a primary and its streaming replica.

Made with the installed server's own programs (``initdb``, ``pg_basebackup -R -X
stream``, ``pg_ctl``) in a temporary folder, each on a free loopback port. The server
refuses to run as root, so under root every program runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PROGRAMS = ("initdb", "pg_ctl", "pg_basebackup", "psql")


def _bin_dir() -> Path | None:
    """The newest folder holding every server program (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if shutil.which("pg_ctl"):
        candidates.append(str(Path(shutil.which("pg_ctl")).parent))
    for folder in candidates:
        if all((Path(folder) / program).exists() for program in PROGRAMS):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Unavailable(Exception):
    """What the tests need is missing here (said why, for the skip message)."""


class Cluster:
    def __init__(self, root: Path, name: str, bin_dir: Path, user: str | None):
        self.data = root / name
        self.root, self.bin_dir, self.user = root, bin_dir, user
        self.port = _free_port()

    def run(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=self.root)

    def describe(self) -> str:
        """For another process to drive this cluster (:meth:`described`)."""
        return json.dumps({"root": str(self.root), "data": str(self.data), "port": self.port,
                           "bin_dir": str(self.bin_dir), "user": self.user})

    @classmethod
    def described(cls, text: str) -> Cluster:
        facts = json.loads(text)
        cluster = cls(Path(facts["root"]), Path(facts["data"]).name, Path(facts["bin_dir"]),
                      facts["user"])
        cluster.port = facts["port"]
        return cluster

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        done = self.run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l",
                        str(self.data) + ".log", "-o", f"-p {self.port} -k {self.root} "
                        "-c listen_addresses=127.0.0.1 -c fsync=off", "start")
        if done.returncode:
            log = Path(str(self.data) + ".log")
            raise RuntimeError(f"pg_ctl start failed: {done.stderr}\n"
                               f"{log.read_text() if log.exists() else ''}")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = self.run("psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", "-d", database, "-c", sql)
        if done.returncode:
            raise RuntimeError(f"psql {sql!r}: {done.stderr}")
        return done.stdout.strip()


class PrimaryWithReplica:
    """``primary`` (initdb, replication allowed on loopback) and ``replica`` (its base
    backup, streaming from it). Use as a context manager: both stop and vanish after."""

    def __init__(self):
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise Unavailable(f"no folder holds all of the PostgreSQL server programs {PROGRAMS}")
        user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and there is no postgres user to run "
                                  "the server as") from None
            if not shutil.which("runuser"):
                raise Unavailable("running as root and runuser is missing")
            user = "postgres"
        self.root = Path(tempfile.mkdtemp(prefix="pf-replica-"))
        if user:
            shutil.chown(self.root, user)
        self.primary = Cluster(self.root, "primary", bin_dir, user)
        self.replica = Cluster(self.root, "replica", bin_dir, user)

    def __enter__(self) -> PrimaryWithReplica:
        try:
            self._make()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _make(self) -> None:
        done = self.primary.run("initdb", "-D", str(self.primary.data), "-U", "postgres",
                                "-A", "trust", "--no-sync")
        if done.returncode:
            raise Unavailable(f"initdb failed: {done.stderr.strip()[:500]}")
        with open(self.primary.data / "pg_hba.conf", "a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self.primary.start()
        done = self.replica.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port),
                                "-U", "postgres", "-D", str(self.replica.data), "-R",
                                "-X", "stream", "-c", "fast")
        if done.returncode:
            raise Unavailable("pg_basebackup could not connect for replication: "
                              f"{done.stderr.strip()[:500]}")
        self.replica.start()
        if self.replica.psql("SELECT pg_is_in_recovery()") != "t":
            raise RuntimeError("the base backup started as a primary, not as a replica")

    def __exit__(self, *exc) -> None:
        for cluster in (self.replica, self.primary):
            if (cluster.data / "postmaster.pid").exists():
                cluster.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_caught_up(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = self.primary.psql("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            behind = self.replica.psql(
                f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn()) > 0")
            if behind == "f":
                return
            time.sleep(0.05)
        raise TimeoutError(f"the replica did not replay up to {target} in {timeout}s")
