"""occ's command line (Typer + Rich). Every user mistake ends in one line and a non-zero exit."""

from occ.cli.app import app, main

__all__ = ["app", "main"]
