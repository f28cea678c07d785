"""``wattsup dashboard``: serve the read-only web dashboard over a results store (:mod:`wattsup.web`)."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Annotated

import typer

from wattsup.cli.results_cmd import DbOption
from wattsup.errors import InvalidInput, WattsupError

ALL_INTERFACES = ("0.0.0.0", "::", "")
KEEP_ALIVE_S = 30
"""How long an idle connection stays open (uvicorn's default, 5 s, makes a busy page's browser or a
client pool reconnect, and race the server closing a connection it is about to reuse)."""


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard_cmd)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_free(host: str, port: int) -> None:
    """Fail early, with the flag to change, when the address cannot be bound."""
    try:
        infos = socket.getaddrinfo(host.strip("[]") or None, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise InvalidInput("--host", f"cannot resolve {host!r} ({err.strerror})") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as err:
            raise InvalidInput(
                "--port", f"cannot listen on {host}:{port} ({err.strerror}); pick another --port"
            ) from None


def _no_new_file(db: str | None) -> None:
    """The dashboard only reads: a SQLite path that does not exist is a mistake, not a new store."""
    from wattsup.results.store import resolve_url

    url, source = resolve_url(db)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    if url.database.startswith("file:"):
        return
    if not Path(url.database).exists():
        raise InvalidInput(
            source if source.startswith(("--", "WATTSUP")) else "--db",
            f"no results store at {url.database}; measure some runs first ('wattsup bench') or give "
            "--db the store to show",
        )


def dashboard_cmd(
    db: DbOption = None,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Interface to listen on. The default serves this machine only; 0.0.0.0 serves every "
            "network the machine is on (anyone there can read the store).",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8050,
    cache_seconds: Annotated[
        float,
        typer.Option(
            "--cache-seconds",
            min=0,
            max=3600,
            help="Reuse an answer until the store changes (checked every second) and at most this long; "
            "0 asks the store every time.",
        ),
    ] = 300.0,
) -> None:
    """Serve the dashboard: leaderboards, the study's figures, runs, comparisons, the life-cycle
    calculator and energy labels, over the results store (read-only; fully offline)."""
    try:
        import uvicorn

        from wattsup.web import create_app
    except ImportError as err:
        raise WattsupError(
            f"the dashboard needs the web extra ({err.name} is missing): pip install 'wattsup[web]'"
        ) from None
    from wattsup.results import Store
    from wattsup.web.app import LOCAL_HOSTS

    _no_new_file(db)
    if host in ALL_INTERFACES:
        allowed = ["*"]
        typer.echo(
            "wattsup: warning: serving on every network interface: anyone who can reach this machine "
            "can read the results store",
            err=True,
        )
    else:
        allowed = [*LOCAL_HOSTS, host]
        if not _is_loopback(host):
            typer.echo(
                f"wattsup: warning: serving on {host}: machines on that network can read the store", err=True
            )
    _check_free(host, port)
    with Store.open(db, create=False) as store:
        app = create_app(store, allowed_hosts=allowed, cache_s=cache_seconds)
        shown = f"[{host}]" if ":" in host else (host or "0.0.0.0")
        typer.echo(f"wattsup dashboard: http://{shown}:{port}/  (store: {store.location}; Ctrl-C to stop)")
        uvicorn.run(
            app,
            host=host or "0.0.0.0",
            port=port,
            log_level="warning",
            server_header=False,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
