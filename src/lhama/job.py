"""The context of every rule's script (`with step(snakemake): ...`): the rule's log file, its thread count, one
error line and exit status 1 for a user-facing error; and its params back to typed config sections."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from lhama.config.loading import parse
from lhama.errors import LhamaError
from lhama.logs import log_to_file


def limit_threads(threads: int) -> None:
    """Keep torch (and OpenMP/BLAS in child processes) to the job's `threads:`. Oversubscribed cores made
    training and generation up to 10x slower when two jobs shared them."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


class step:
    """Context for a rule's script: logs to the rule's log file; a user-facing error becomes one line and exit 1.

    Usage in workflow/scripts: `with step(snakemake): ...`.
    """

    def __init__(self, smk) -> None:
        self.log_path = smk.log[0] if smk.log else None
        self.rule = smk.rule
        self.threads = getattr(smk, "threads", None)

    def __enter__(self) -> step:
        if self.log_path:
            log_to_file(self.log_path)
        if self.threads:
            limit_threads(self.threads)
        logging.getLogger("lhama").info("rule %s started", self.rule)
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if isinstance(error, LhamaError):
            logging.getLogger("lhama").error("%s", error)
            print(f"lhama ({self.rule}): error: {error}", file=sys.stderr)
            sys.exit(1)
        if error is None:
            logging.getLogger("lhama").info("rule %s done", self.rule)
        elif isinstance(error, Exception):  # the traceback goes to the rule's log too, not only to Snakemake's
            logging.getLogger("lhama").error("rule %s failed", self.rule, exc_info=(kind, error, traceback))
        return False


def section(params: Mapping, cls: type, key: str):
    """A rule param (plain data, as Snakemake's params trigger compares it) back to its typed section."""
    return parse(cls, params, key)
