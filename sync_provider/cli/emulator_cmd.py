"""`sync-cli emulator start`: run the local Databricks workspace (REST API + S3 for log delivery) until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import typer

from sync_provider.cli._common import CliError

app = typer.Typer(no_args_is_help=True, help="The local Databricks workspace emulator.")


def _positive(value: float) -> float:
    if value <= 0:
        raise typer.BadParameter(f"must be positive, got {value:g}")
    return value


@app.command("start")
def start(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", help="Port of the Databricks REST API (0: any free port)."),
    data_dir: Path = typer.Option(
        Path(".emulator"), "--data-dir", help="Where runs, jobs, workspace files and DBFS persist."
    ),
    time_scale: float = typer.Option(
        1000.0, "--time-scale", callback=_positive, help="Simulated seconds per wall second."
    ),
    token: str = typer.Option(None, "--token", help="Bearer token clients must send (default: a development token)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of run-to-run noise and spot losses (repeatable runs)."),
    s3_endpoint: str = typer.Option(
        None, "--s3-endpoint", help="S3 endpoint for log delivery (default: start moto's S3 server)."
    ),
) -> None:
    """Serve the emulated workspace; prints the URL, the token and the S3 endpoint to configure clients with.

    Example: sync-cli emulator start --port 8765 --data-dir .emulator --time-scale 600
    """
    from sync_provider.emulator.server import DEFAULT_TOKEN, EmulatorServer

    server = EmulatorServer(
        host=host,
        port=port,
        data_dir=data_dir,
        time_scale=time_scale,
        token=token or DEFAULT_TOKEN,
        s3_endpoint=s3_endpoint,
        seed=seed,
    )
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - report why it could not start
        raise CliError(f"could not start the emulator: {exc}", hint="pick another --port or stop what uses it") from exc
    # plain lines (no wrapping) so scripts can read the URL and endpoint
    typer.echo(f"Databricks emulator at {server.url} (time scale x{time_scale:g}, data in {data_dir})")
    if token:
        typer.echo("Token: the one given with --token")
    else:
        typer.echo(f"Token: {DEFAULT_TOKEN} (development token; pass --token to set your own)")
    typer.echo(f"S3 endpoint for log delivery: {server.s3_endpoint_url}", err=False)
    typer.echo("Press Ctrl-C to stop.")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        typer.echo("Emulator stopped.")
