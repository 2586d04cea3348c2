"""Typed errors. Each carries the offending file (and position or key) so the CLI can print one clear line."""

from __future__ import annotations

from pathlib import Path


class LhamaError(Exception):
    """Base class: a user-facing error with a one-line message."""


class InputFileError(LhamaError):
    """Something is wrong with an input file; `where` is a byte offset or line number when known."""

    def __init__(self, path: str | Path, problem: str, *, where: str | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.where = where
        location = f"{self.path}{f' ({where})' if where else ''}"
        super().__init__(f"{location}: {problem}")

    def __reduce__(self):
        # keyword-only `where` and the formatted message: rebuild from the fields, so errors raised in worker
        # processes come back to the parent as themselves
        return _rebuild_input_error, (type(self), self.path, self.problem, self.where)


def _rebuild_input_error(cls: type, path: str, problem: str, where: str | None) -> "InputFileError":
    return cls(path, problem, where=where)


class DumpError(InputFileError):
    """A dump that cannot be read: truncated or corrupt compression, malformed XML, wrong root, empty file."""


class IndexMismatchError(InputFileError):
    """A multistream index that is missing, unreadable, or does not describe its dump."""


class QuestionFileError(InputFileError):
    """A question file line that is not valid JSON or not a valid question."""


class ConfigError(LhamaError):
    """A configuration key with a wrong value or no meaning."""

    def __init__(self, key: str, problem: str, *, source: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__(f"{prefix}config key '{key}': {problem}")

    def __reduce__(self):
        return _rebuild_config_error, (self.key, self.problem, self.source)


def _rebuild_config_error(key: str, problem: str, source: str | None) -> "ConfigError":
    return ConfigError(key, problem, source=source)


class DownloadError(LhamaError):
    """A download that failed or whose checksum does not match."""

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(f"{url}: {problem}")

    def __reduce__(self):
        return type(self), (self.url, self.problem)
