"""Placeholder: filled in by the issue that owns this command group."""

import typer

app = typer.Typer(no_args_is_help=True)


def photon_roi() -> None:
    """Not implemented yet."""
    raise NotImplementedError("photon_roi")
