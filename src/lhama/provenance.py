"""Provenance recorded next to results: package versions, hardware and the workflow's git commit, recorded by each
job that computes something (training, answering, perplexity) from its own environment, and the dump's checksum."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "lhama", "snakemake", "snakemake-executor-plugin-slurm", "torch", "transformers", "peft", "trl", "datasets",
    "accelerate", "bitsandbytes", "deepspeed", "sentence-transformers", "faiss-cpu", "langchain-core", "lxml",
    "mwparserfromhell", "scikit-learn",
)


def config_hash(config: dict) -> str:
    """sha256 of the config as canonical JSON (sorted keys), so equal configs hash equally."""
    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def hardware() -> dict:
    import psutil

    info = {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }
    try:
        import torch

        if torch.cuda.is_available():
            info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        pass
    return info


def git_commit(path: str | Path = ".") -> str | None:
    """The commit of the git checkout holding `path` (with `-dirty` for uncommitted changes), or None."""
    import subprocess

    try:
        found = subprocess.run(["git", "-C", str(path), "describe", "--always", "--dirty", "--abbrev=40"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found.stdout.strip() or None if found.returncode == 0 else None


def environment(workflow_dir: str | Path | None = None) -> dict:
    """What a job ran with: package versions, hardware and (for the workflow's jobs) its git commit."""
    return {"packages": package_versions(), "hardware": hardware(),
            "workflow_commit": git_commit(workflow_dir or Path(__file__).resolve().parent)}


def collect(manifest: dict) -> dict:
    dump = manifest["dump"]
    return {
        "dump": {"name": dump["name"], "sha1": dump["sha1"], "bytes": dump["bytes"], "format": dump["format"],
                 "schema_version": dump["schema_version"], "dbname": dump["siteinfo"]["dbname"]},
        "index": manifest.get("index") and {k: manifest["index"][k] for k in ("name", "sha1", "entries")},
        **environment(),
    }
