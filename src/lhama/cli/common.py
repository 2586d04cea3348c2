"""What the subcommands share: reading config sections from a `--config` file, with the classes' defaults for
whatever the file leaves out."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from lhama.config.loading import parse, read_yaml

Section = TypeVar("Section")


def config_section(path: str | Path | None, key: str, cls: type[Section]) -> Section:
    """Section `key` of a workflow config file (a whole config such as config/atena.yaml, or one holding only the
    sections a command reads); its defaults without a file."""
    data = read_yaml(path) if path else {}
    return parse(cls, data.get(key), key, source=str(path) if path else None)
