"""Provenance recorded next to results: config hash, package versions, dump checksum, hardware."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib import metadata

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


def collect(config: dict, manifest: dict) -> dict:
    dump = manifest["dump"]
    return {
        "config_sha256": config_hash(config),
        "seed": config.get("seed"),
        "dump": {"name": dump["name"], "sha1": dump["sha1"], "bytes": dump["bytes"], "format": dump["format"],
                 "schema_version": dump["schema_version"], "dbname": dump["siteinfo"]["dbname"]},
        "index": manifest.get("index") and {k: manifest["index"][k] for k in ("name", "sha1", "entries")},
        "packages": package_versions(),
        "hardware": hardware(),
    }
