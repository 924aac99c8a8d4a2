"""Local stand-ins for the production services, started on demand by `companion dev` and
the tests: an embedded Postgres, PgBouncer in transaction mode, an S3 endpoint (moto)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing answers on {host}:{port}") from None
            time.sleep(0.05)


def postgres_answers(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) a Postgres 16 of our own under `data_dir`; returns its URL."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    # Stopped when the last process using it exits: Ctrl-C on `companion dev` stops it too.
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    return server.get_uri()


def recreate_database(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class PgBouncer:
    url: str
    process: subprocess.Popen
    workdir: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def restart(self) -> None:
        """Stop and start again on the same port (drops every server connection)."""
        self.stop()
        self.process = _spawn_pgbouncer(self.workdir)
        parts = urlsplit(self.url)
        wait_for_port(parts.hostname, parts.port)


def pgbouncer_available() -> bool:
    return shutil.which("pgbouncer") is not None


def _spawn_pgbouncer(workdir: Path) -> subprocess.Popen:
    command = [shutil.which("pgbouncer")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        command += ["-u", (workdir / "user").read_text().strip()]
    command.append(str(workdir / "pgbouncer.ini"))
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _unprivileged_user(socket_dir: str | None) -> str:
    """Who PgBouncer runs as under root: the owner of a Unix-socket Postgres (an embedded
    server's folder admits only its owner), else a system user."""
    if socket_dir and socket_dir.startswith("/"):
        owner = pwd.getpwuid(os.stat(socket_dir).st_uid).pw_name
        if owner != "root":
            return owner
    for name in ("postgres", "pgserver", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user to run pgbouncer as")


def start_pgbouncer(upstream_url: str, workdir: Path, pool_size: int = 10) -> PgBouncer:
    """PgBouncer in transaction mode in front of `upstream_url`; returns the pooled URL."""
    from psycopg.conninfo import conninfo_to_dict

    given = conninfo_to_dict(upstream_url)
    host = given.get("host") or "127.0.0.1"
    database = given.get("dbname") or "postgres"
    user = given.get("user") or "postgres"
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    upstream = f"host={host} port={given.get('port') or 5432} dbname={database} user={user}"
    if given.get("password"):
        upstream += f" password={given['password']}"
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
* = {upstream}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits,options,application_name
query_timeout = 30
server_reset_query =
logfile = {workdir / "pgbouncer.log"}
pidfile = {workdir / "pgbouncer.pid"}
"""
    )
    if os.geteuid() == 0:
        (workdir / "user").write_text(_unprivileged_user(host))
        os.chmod(workdir, 0o777)  # noqa: S103 - the unprivileged pgbouncer writes its log here
        for name in ("pgbouncer.log", "pgbouncer.pid"):
            (workdir / name).unlink(missing_ok=True)
    process = _spawn_pgbouncer(workdir)
    wait_for_port("127.0.0.1", port)
    pooled = urlunsplit(("postgresql", f"{user}@127.0.0.1:{port}", f"/{database}", "", ""))
    return PgBouncer(url=pooled, process=process, workdir=workdir)


@dataclass
class S3Endpoint:
    url: str
    server: object

    def stop(self) -> None:
        self.server.stop()


def start_s3(bucket: str) -> S3Endpoint:
    """moto's S3 server on a free port, with `bucket` created."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    import boto3

    boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto
    ).create_bucket(Bucket=bucket)
    return S3Endpoint(url=url, server=server)


@dataclass
class LocalServices:
    """Every service a function talks to, started locally, with the environment that points
    this process at them (tests and benchmarks)."""

    admin_url: str
    direct_url: str
    pooled_url: str
    pgbouncer: PgBouncer | None
    upstash_url: str
    upstash_token: str
    s3: S3Endpoint
    bucket: str
    environment: dict[str, str]
    _stops: list
    _saved_environment: dict[str, str]

    def close(self) -> None:
        """Stop everything, drop the database, and give the process its environment back."""
        from companion import cache, db
        from companion.settings import reset_settings

        db.close_all()
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - stop the rest anyway
                print(f"warning: could not stop a service: {exc}", file=sys.stderr)
        if self.pgbouncer:
            shutil.rmtree(self.pgbouncer.workdir, ignore_errors=True)
        drop_database(self.admin_url, urlsplit(self.direct_url).path.lstrip("/"))
        os.environ.clear()
        os.environ.update(self._saved_environment)
        reset_settings()
        cache.reset()


def start_local_services(
    admin_url: str,
    database: str,
    work_dir: Path,
    *,
    bucket: str,
    content_dir: Path,
    pool_size: int = 10,
    redis_url: str | None = None,
    extra_environment: dict[str, str] | None = None,
) -> LocalServices:
    """A fresh database `database` on the server at `admin_url`, migrated; PgBouncer in
    transaction mode in front of it when installed; the local Upstash endpoint; moto's S3
    with the course from `content_dir` published. The process's environment then points at
    them (settings and clients reset)."""
    import secrets

    from companion import cache, catalogue, db
    from companion.settings import reset_settings
    from companion_dev import migrations
    from companion_dev.upstash_local import serve_in_background

    saved = dict(os.environ)
    stops: list = []
    try:
        direct_url = recreate_database(admin_url, database)
        migrations.upgrade(direct_url)
        bouncer = None
        if pgbouncer_available():
            bouncer = start_pgbouncer(direct_url, work_dir / f"pgbouncer-{database}", pool_size)
            stops.append(bouncer.stop)
        token = secrets.token_urlsafe(16)
        upstash = serve_in_background(token, redis_url=redis_url)
        stops.append(upstash.stop)
        s3 = start_s3(bucket)
        stops.append(s3.stop)
    except BaseException:
        for stop in reversed(stops):
            stop()
        raise
    environment = {
        "DATABASE_URL": bouncer.url if bouncer else direct_url,
        "DATABASE_DIRECT_URL": direct_url,
        "UPSTASH_REDIS_REST_URL": upstash.url,
        "UPSTASH_REDIS_REST_TOKEN": token,
        "CONTENT_BUCKET": bucket,
        "CONTENT_ENDPOINT_URL": s3.url,
        "CONTENT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "JWT_SECRET": secrets.token_urlsafe(48),
        **(extra_environment or {}),
    }
    os.environ.update(environment)
    reset_settings()
    cache.reset()
    db.close_all()
    catalogue.publish(content_dir)
    return LocalServices(
        admin_url=admin_url,
        direct_url=direct_url,
        pooled_url=environment["DATABASE_URL"],
        pgbouncer=bouncer,
        upstash_url=upstash.url,
        upstash_token=token,
        s3=s3,
        bucket=bucket,
        environment=environment,
        _stops=stops,
        _saved_environment=saved,
    )
