"""Where an embedder's files are: light enough for the Snakefile's planner, which reads the embedder's config.json
without loading sentence-transformers or LangChain."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from lhama.errors import ConfigError, InputFileError


def resolve_embedder(spec: str) -> str:
    """`package:<module>` -> the folder that module ships (`get_model_path()`); `hub:<repo id>` -> its snapshot in the
    Hugging Face cache (fetched beforehand by the download_embedder localrule); or a local folder."""
    if spec.startswith("package:"):
        module_name = spec.removeprefix("package:")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ConfigError("rag.embedder.model", f"no installed package module {module_name!r}") from None
        return str(module.get_model_path())
    if spec.startswith("hub:"):
        from lhama.models import cached_hub_model

        return str(cached_hub_model(spec))
    if spec.startswith((".", "/")) or os.sep in spec and Path(spec).exists():
        if not Path(spec).is_dir():
            raise InputFileError(spec, "embedder model folder not found")
        return spec
    return spec  # a hub id: loadable only when already downloaded (the cluster's login-node rule does that)
