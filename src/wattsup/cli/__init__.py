"""The ``wattsup`` command line: a typer app assembled from one thin module per command group."""

from __future__ import annotations

import sys

import typer

from wattsup import __version__
from wattsup.errors import WattsupError

app = typer.Typer(
    name="wattsup",
    help="What it costs, in energy and carbon, to deploy AI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wattsup {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """What it costs, in energy and carbon, to deploy AI."""


def _register() -> None:
    # Each module adds its commands to ``app``; imports stay light (heavy libraries load inside commands).
    from wattsup.cli import (
        analysis_cmd,
        bench_cmd,
        carbon_cmd,
        measure_cmd,
        results_cmd,
        serve_cmd,
        sweep_cmd,
        web_cmd,
    )

    for module in (
        measure_cmd,
        bench_cmd,
        serve_cmd,
        results_cmd,
        carbon_cmd,
        analysis_cmd,
        web_cmd,
        sweep_cmd,
    ):
        module.register(app)


_register()


def main(argv: list[str] | None = None) -> int:
    """Console entry point. Typed wattsup errors become one clear line on stderr and their exit code;
    usage errors print the usage and exit 2 (click's convention)."""
    try:
        app(args=argv, standalone_mode=True)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return int(e.code or 0)
        typer.echo(str(e.code), err=True)
        return 1
    except WattsupError as err:
        typer.echo(f"wattsup: error: {err}", err=True)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
