"""Figures the slow tests measure (how long the cluster took to come up, the demo DAG locally and on SLURM), shown
in a `measured` section at the end of the run, so CI's log carries them without `-s`."""

from collections.abc import Callable

import pytest

_MEASURED: list[str] = []


@pytest.fixture(scope="session")
def measured() -> Callable[[str], None]:
    """`measured("demo DAG: local 454 s, SLURM 405 s")` adds a line to the end-of-run summary."""
    return _MEASURED.append


def pytest_terminal_summary(terminalreporter) -> None:
    if _MEASURED:
        terminalreporter.section("measured")
        for line in _MEASURED:
            terminalreporter.write_line(line)
