"""Logging set-up, in one place: to stderr for the command line, to a rule's `log:` file in the workflow."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
# loggers that report every optional component they miss at INFO
QUIET = ("faiss.loader", "bm25s")


def _configure(handler: logging.Handler, level: int) -> None:
    handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)


def setup_logging(verbose: bool = False) -> None:
    """The command line's logs on stderr (DEBUG with --verbose)."""
    _configure(logging.StreamHandler(sys.stderr), logging.DEBUG if verbose else logging.INFO)


def log_to_file(path: str | Path) -> None:
    """The package's logs (and warnings) into a rule's `log:` file."""
    _configure(logging.FileHandler(path, mode="w", encoding="utf-8"), logging.INFO)
