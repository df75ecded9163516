"""The production path on loopback, for tests and the load benchmark.

``running_production(work, rasa=2, actions=2)`` starts, on free ports:

* two fresh PostgreSQL databases (Rasa's tracker store and ours), dropped on exit;
* ``actions`` action servers and ``rasa`` Rasa servers (``bot/endpoints.production.yml``:
  PostgreSQL tracker store, Redis lock store under a per-run key prefix, RabbitMQ broker
  into a per-run queue), the Rasa API closed by a random token;
* ``bot/gateway.py`` in front of both: the one URL customers and Rasa use.

``TcpProxy`` sits between a process and a service so a test can cut and restore the
connection (a faithful database outage without restarting the machine's shared server).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.stack import MODEL, RASA, StackError, free_port, get, with_token
from tests.conftest import ROOT

__all__ = ["PG", "ProductionStack", "TcpProxy", "pg_database", "running_production", "services_available"]

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
PG_ADMIN_URL = f"{PG}/test"
STARTUP_SECONDS = 600


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def services_available() -> str | None:
    """``None`` when PostgreSQL, Redis and RabbitMQ all listen on loopback; else which is down."""
    down = [name for name, port in (("PostgreSQL", 5432), ("Redis", 6379), ("RabbitMQ", 5672)) if not _port_open(port)]
    return ", ".join(down) or None


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (its name); dropped on exit, connections and all."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Service:
    """One started process and how to start it again."""

    name: str
    url: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart) the process."""
        # Its own process group: the action server (Sanic) serves from a child process, and a
        # crash must take both down.
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self.log.open("ab"),
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def _signal_group(self, signal_number: int) -> None:
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal_number)

    def kill(self) -> None:
        """Kill it at once (SIGKILL), as a crash would."""
        if self.process is not None:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop it politely, then firmly."""
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        self._signal_group(signal.SIGKILL)  # whatever is left of the group
        self.process.wait(timeout=30)


@dataclass
class ProductionStack:
    """The running production path."""

    url: str
    token: str
    rasa: list[Service]
    actions: list[Service]
    gateway: Service
    tracker_db_url: str
    shop_db_url: str
    redis_prefix: str
    queue: str
    work: Path
    env: dict[str, str] = field(default_factory=dict)

    def api(self, path: str, rasa: int | None = None) -> str:
        """A Rasa HTTP API URL with the token (through the gateway, or on replica ``rasa``)."""
        base = self.url if rasa is None else self.rasa[rasa].url
        return with_token(f"{base}{path}", self.token)


def _wait(check: object, service: Service, deadline: float) -> None:
    assert callable(check)
    while time.monotonic() < deadline:
        if check():
            return
        if service.process is not None and service.process.poll() is not None:
            raise StackError(f"{service.name} exited with {service.process.returncode}:\n"
                             f"{service.log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)
    raise StackError(f"{service.name} did not start in time:\n{service.log.read_text(errors='replace')[-3000:]}")


def wait_healthy(service: Service, token: str | None = None, seconds: float = STARTUP_SECONDS) -> None:
    """Wait until a (re)started service answers its health check."""
    deadline = time.monotonic() + seconds
    if "rasa" in service.name:
        _wait(lambda: "model_file" in get(with_token(f"{service.url}/status", token))[1], service, deadline)
    elif "actions" in service.name:
        _wait(lambda: get(f"{service.url}/health")[0] == 200, service, deadline)
    else:
        _wait(lambda: get(f"{service.url}/gateway/health")[0] == 200, service, deadline)


def _production_env(gateway_url: str, tracker_db: str, shop_db_url: str, tracker_url: str, prefix: str,
                    queue: str) -> dict[str, str]:
    """The environment every process of the stack runs with (on top of this one's): where each service is."""
    return {
        "ACTION_SERVER_URL": f"{gateway_url}/webhook",
        "RASA_DB_HOST": "127.0.0.1", "RASA_DB_PORT": "5432", "RASA_DB_NAME": tracker_db,
        "RASA_DB_USER": "postgres", "RASA_DB_PASSWORD": "",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": "0", "REDIS_PASSWORD": "",
        "RASA_LOCK_PREFIX": prefix,
        "RABBITMQ_HOST": "127.0.0.1", "RABBITMQ_PORT": "5672", "RABBITMQ_USER": "guest",
        "RABBITMQ_PASSWORD": "guest", "RABBITMQ_QUEUE": queue,
        "SHOPKEEPER_DB_URL": shop_db_url,
        "SHOPKEEPER_TRACKER_DB_URL": tracker_url,
        "RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONUNBUFFERED": "1",  # the tests read the logs while the services run
    }


def _action_services(count: int, env: dict[str, str], work: Path) -> list[Service]:
    """``count`` action servers, each on a free port (not started)."""
    services = []
    for n in range(count):
        port = free_port()
        services.append(Service(
            f"actions-{n}", f"http://127.0.0.1:{port}",
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "-p", str(port)], env,
            work / f"actions-{n}.log"))
    return services


def _rasa_services(count: int, env: dict[str, str], work: Path, token: str, cors: str) -> list[Service]:
    """``count`` Rasa servers on the production endpoints, each on a free port (not started)."""
    services = []
    for n in range(count):
        port = free_port()
        services.append(Service(
            f"rasa-{n}", f"http://127.0.0.1:{port}",
            [str(RASA), "run", "--enable-api", "--auth-token", token, "--cors", cors, "-i", "127.0.0.1",
             "-p", str(port), "-m", str(MODEL), "--endpoints", "bot/endpoints.production.yml",
             "--credentials", "bot/credentials.yml"], env, work / f"rasa-{n}.log"))
    return services


@contextmanager
def running_production(work: Path, *, rasa: int = 2, actions: int = 2, rate: float = 1.0, burst: int = 10,
                       cors: str = "http://127.0.0.1:8000", shop_db_port: int = 5432,
                       extra_env: dict[str, str] | None = None) -> Iterator[ProductionStack]:
    """Start the production path (see the module docstring); stop everything and drop its data on exit.

    Args:
        work: folder for logs.
        rasa: how many Rasa servers.
        actions: how many action servers.
        rate: the gateway's per-sender rate limit (messages per second after the burst).
        burst: how many messages a sender may send at once.
        cors: origins allowed to call Rasa from a browser.
        shop_db_port: the port the action servers reach our (fresh) database on; tests put a
            :class:`TcpProxy` there to cut it.
        extra_env: more environment for every process.

    Raises:
        StackError: when a service is down or a process does not start.
    """
    down = services_available()
    if down:
        raise StackError(f"not running on 127.0.0.1: {down}")
    if not RASA.exists() or not MODEL.exists():
        raise StackError("the Rasa environment or model is missing: run `make model`")
    work.mkdir(parents=True, exist_ok=True)
    run_id = secrets.token_hex(4)
    token = secrets.token_urlsafe(24)
    prefix, queue = f"shopkeepertest{run_id}", f"shopkeeper_test_{run_id}"
    with pg_database("shopkeeper_test_rasa") as tracker_db, pg_database("shopkeeper_test_shop") as shop_db:
        tracker_url, shop_url = f"{PG}/{tracker_db}", f"{PG}/{shop_db}"
        gateway_port = free_port()
        gateway_url = f"http://127.0.0.1:{gateway_port}"
        # the action servers reach our database through ``shop_db_port``, where a test may cut it
        shop_db_url = f"postgresql+psycopg://postgres@127.0.0.1:{shop_db_port}/{shop_db}"
        env = {
            **os.environ,
            **_production_env(gateway_url, tracker_db, shop_db_url, tracker_url, prefix, queue),
            **(extra_env or {}),
        }
        action_services = _action_services(actions, env, work)
        rasa_services = _rasa_services(rasa, env, work, token, cors)
        gateway = Service(
            "gateway", gateway_url,
            [sys.executable, "bot/gateway.py", "--port", str(gateway_port), "--rate", str(rate), "--burst", str(burst),
             "--cors", cors, *[a for s in rasa_services for a in ("--rasa", s.url)],
             *[a for s in action_services for a in ("--actions", s.url)]], env, work / "gateway.log")
        services = [gateway, *action_services, *rasa_services]
        stack = ProductionStack(gateway_url, token, rasa_services, action_services, gateway, tracker_url, shop_url,
                                prefix, queue, work, env)
        with _serving(services, token, shop_url, prefix, queue):
            yield stack


@contextmanager
def _serving(services: list[Service], token: str, shop_url: str, prefix: str, queue: str) -> Iterator[None]:
    """Start the services on our fresh schema and wait until each is healthy; stop them and clean up on exit."""
    try:
        # Our schema first, so the replicas starting together find it (they would also take turns).
        from store.db import create_schema, make_engine

        engine = make_engine(shop_url)
        create_schema(engine)
        engine.dispose()
        for service in services:
            service.start()
        for service in services:
            wait_healthy(service, token)
        yield
    finally:
        for service in services:
            service.stop()
        with suppress(Exception):
            cleanup_broker_and_locks(prefix, queue)


def cleanup_broker_and_locks(prefix: str, queue: str) -> None:
    """Delete the run's Redis lock keys and RabbitMQ queue (best effort)."""
    subprocess.run(["bash", "-c", f"redis-cli -h 127.0.0.1 --scan --pattern '{prefix}:*' "
                    "| xargs -r redis-cli -h 127.0.0.1 del"], capture_output=True, timeout=20, check=False)
    code = (
        "import asyncio, aio_pika\n"
        "async def main():\n"
        "    c = await aio_pika.connect('amqp://guest:guest@127.0.0.1/')\n"
        "    ch = await c.channel()\n"
        f"    await ch.queue_delete({queue!r})\n"
        "    await c.close()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([str(RASA.parent / "python"), "-c", code], capture_output=True, timeout=60, check=False)


def queue_depth(queue: str) -> int:
    """How many messages wait in a RabbitMQ queue (declared passively, with the Rasa environment's aio-pika)."""
    code = (
        "import asyncio, aio_pika\n"
        "async def main():\n"
        "    c = await aio_pika.connect('amqp://guest:guest@127.0.0.1/')\n"
        "    ch = await c.channel()\n"
        f"    q = await ch.declare_queue({queue!r}, passive=True)\n"
        "    print(q.declaration_result.message_count)\n"
        "    await c.close()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([str(RASA.parent / "python"), "-c", code], capture_output=True, text=True, timeout=60,
                          check=True)
    return int(done.stdout.strip().splitlines()[-1])


class TcpProxy:
    """A loopback TCP proxy to a service that a test can cut (close everything, refuse new) and restore.

    >>> with TcpProxy(5432) as proxy:       # doctest: +SKIP
    ...     proxy.cut(); proxy.restore()
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self.cut()

    def restore(self) -> None:
        """Listen again: new connections reach the service."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close the listener and every open connection, as a server restart does."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = list(self._sockets), set()
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            with suppress(OSError):
                listener.close()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
