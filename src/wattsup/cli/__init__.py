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
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """What it costs, in energy and carbon, to deploy AI."""


def _register() -> None:
    # Each module adds its commands to ``app``; imports stay light (heavy libraries load inside commands).
    # One line per command module: ``from wattsup.cli import X; X.register(app)``.
    pass


_register()


def main(argv: list[str] | None = None) -> int:
    """Console entry point. Typed wattsup errors become one clear line on stderr and their exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except WattsupError as err:
        typer.echo(f"wattsup: error: {err}", err=True)
        return err.exit_code
    except typer.Exit as e:
        return int(e.exit_code or 0)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return 130
    except Exception as err:  # click usage errors and the like
        import click

        if isinstance(err, click.ClickException):
            err.show()
            return err.exit_code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
