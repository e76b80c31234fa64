"""The ``houqin`` command (see root.py): one module per command group, sharing context.py."""

from houqin.cli.root import cli, main

__all__ = ["cli", "main"]
