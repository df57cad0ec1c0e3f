"""``occ serve``: the dashboard on 127.0.0.1 (by default) with uvicorn."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer
import uvicorn
from sqlalchemy import Engine

from occ.cli.links import dashboard_address
from occ.cli.shared import ConfigOption, DbOption, handles_errors, open_engine, out, settings_from
from occ.config import Settings
from occ.errors import ConfigError
from occ.web import create_app

__all__ = ["check_port", "serve", "serve_app"]


def check_port(host: str, port: int) -> None:
    """Fail early, in one line, when the address is taken or not ours to bind.

    Raises:
        ConfigError: the port is out of range or in use, or the host is not a local address.
    """
    if not 1 <= port <= 65535:
        raise ConfigError(f"port {port} is not a TCP port; pass --port between 1 and 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(f"port {port} on {host} is in use; pass --port") from None
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); check --host"
            ) from None


def serve_app(settings: Settings, engine: Engine, host: str, port: int) -> None:
    """Run the dashboard until interrupted (Ctrl-C stops it cleanly)."""
    app = create_app(settings, engine)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False
    )
    uvicorn.Server(config).run()


@handles_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default 127.0.0.1, OCC_WEB_HOST)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000, OCC_WEB_PORT)")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve the dashboard and its JSON API (sign-in required; add operators with occ users)."""
    settings = settings_from(config, db)
    bind_host = host or settings.web_host
    bind_port = port or settings.web_port
    check_port(bind_host, bind_port)
    engine = open_engine(settings)
    out.print(
        f"occ dashboard on {dashboard_address(bind_host, bind_port)}/ (Ctrl-C stops it)",
        highlight=False,
    )
    try:
        serve_app(settings, engine, bind_host, bind_port)
    finally:
        engine.dispose()
