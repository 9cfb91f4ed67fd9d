"""EmulatorServer: the local Databricks workspace as a real HTTP server (uvicorn in a thread) plus moto's S3."""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from sync_provider.emulator.api import Emulator, create_app
from sync_provider.emulator.clock import SimClock
from sync_provider.emulator.delivery import DeliveryLoop, S3Sink
from sync_provider.emulator.workspace import Workspace

DEFAULT_TOKEN = "dapi-emulator-development-token"
log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now (for servers started on "any free port")."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class EmulatorServer:
    """Serves the emulated workspace in-process (a thread); use as a context manager or start()/stop()."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: str | Path | None = None,
        time_scale: float = 1000.0,
        token: str = DEFAULT_TOKEN,
        s3_endpoint: str | None = None,
        seed: int | None = None,
    ):
        if not token:
            raise ValueError("token must not be empty")
        self.host = host
        self.port = port or free_port(host)
        self._tmp = None if data_dir else tempfile.mkdtemp(prefix="sync-emulator-")
        self.data_dir = Path(data_dir or self._tmp).expanduser()
        self.time_scale = time_scale
        self.token = token
        self.s3_endpoint_url = s3_endpoint
        self.seed = seed
        self._moto = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._delivery: DeliveryLoop | None = None
        self.emulator: Emulator | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        """Start S3 (unless an endpoint was given) and the HTTP server; returns once both are serving."""
        try:
            return self._start()
        except BaseException:
            self.stop()  # leave nothing running behind a failed start
            raise

    def _start(self) -> EmulatorServer:
        if self.s3_endpoint_url is None:
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log

            s3_port = free_port(self.host)
            self._moto = ThreadedMotoServer(ip_address=self.host, port=s3_port, verbose=False)
            self._moto.start()
            self.s3_endpoint_url = f"http://{self.host}:{s3_port}"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        workspace = Workspace(self.data_dir, SimClock(self.time_scale), base_url=self.url, seed=self.seed)
        self.emulator = Emulator(workspace, self.token, S3Sink(self.s3_endpoint_url))
        app = create_app(self.emulator)
        config = uvicorn.Config(
            app, host=self.host, port=self.port, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="emulator-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator could not start on {self.url}: is the port free?")
            time.sleep(0.02)
        self._delivery = DeliveryLoop(self.emulator.deliver_due)
        self._delivery.start()
        return self

    def stop(self) -> None:
        """Stop serving, persist state, stop S3; a temporary data directory is removed."""
        if self._delivery:
            self._delivery.stop()
            self._delivery.join(timeout=5)
        if self._server:
            self._server.should_exit = True
        if self._thread:
            self._thread.join(timeout=10)
        if self.emulator:
            self.emulator.shutdown()
            self.emulator.ws.shutdown()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
            self.s3_endpoint_url = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
