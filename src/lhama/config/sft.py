"""`train.args` checked by Hugging Face's own parser: `transformers.HfArgumentParser` over TRL's `SFTConfig`.

The values go through the same argparse types and choices as `python -m trl.scripts.sft --learning_rate ...`, then
an `SFTConfig` is built from them so its own `__post_init__` checks run too; a bad key or value is a `ConfigError`
naming `train.args.<key>`. The check imports transformers and TRL (about ten seconds on a laptop), so its result
is cached per (arguments, library versions, this module) in the user's cache folder: a dry run of any working copy
after the first pays nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from lhama.config.training import AUTO_ARGS, OPTIM_AUTO
from lhama.errors import ConfigError

# SFTConfig fields lhama sets itself: a value in the config would be ignored or would break resuming
MANAGED_ARGS = {
    "output_dir": "set by --work-dir (checkpoints go to <work_dir>/checkpoints)",
    "deepspeed": "use train.deepspeed",
    "resume_from_checkpoint": "lhama resumes from the newest complete checkpoint by itself",
    "save_only_model": "checkpoints without optimizer state cannot be resumed",
    "include_num_input_tokens_seen": "lhama counts the non-pad training tokens itself",
}
_ARGUMENT = re.compile(r"argument --([A-Za-z0-9_]+)")
CACHE_ENTRIES = 64  # the newest argument sets kept; older ones are checked again when next seen


def user_cache_file() -> Path:
    """Where the check's results are kept: `$XDG_CACHE_HOME/lhama/sft-args.json` (`~/.cache` without it), shared by
    every working copy of the user, as the Hugging Face cache is."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "lhama" / "sft-args.json"


def check_sft_args(args: Mapping[str, Any], key: str = "train.args", *, cache: str | Path | None = None) -> dict:
    """`args` with each value typed as SFTConfig types it (`"1e-5"` -> 1e-05, `"true"` -> True); a `ConfigError`
    names the first unknown key, unparsable value or combination SFTConfig refuses."""
    for name in args:
        if name in MANAGED_ARGS:
            raise ConfigError(f"{key}.{name}", f"set by lhama: {MANAGED_ARGS[name]}")
    cache_file = Path(cache) if cache else None
    digest = _digest(args)
    if cache_file and (known := _read_cache(cache_file).get(digest)) is not None:
        return known
    typed = _parse(args, key)
    if cache_file:
        _write_cache(cache_file, digest, typed)
    return typed


def _parse(args: Mapping[str, Any], key: str) -> dict:
    from transformers import HfArgumentParser
    from trl import SFTConfig

    class Parser(HfArgumentParser):
        def error(self, message: str):  # argparse exits; a config check must raise instead
            raise ValueError(message)

    parser = Parser(SFTConfig, allow_abbrev=False)  # `learning_rat` must not pass as `learning_rate`
    argv: list[str] = []
    passed_as_is: dict[str, Any] = {}
    for name, value in args.items():
        # lists and mappings go to SFTConfig as they are (argparse would flatten them); its checks still apply
        if value is None or isinstance(value, (list, tuple, dict)) or (name in AUTO_ARGS and value == OPTIM_AUTO):
            passed_as_is[name] = value
        else:
            argv += [f"--{name}", *_command_line(value)]
    try:
        namespace, unknown = parser.parse_known_args(argv)
    except ValueError as error:
        found = _ARGUMENT.search(str(error))
        raise ConfigError(f"{key}.{found.group(1)}" if found else key, str(error)) from None
    if unknown:
        name = next(item for item in unknown if item.startswith("--")).removeprefix("--")
        raise ConfigError(f"{key}.{name}", "not an SFTConfig/TrainingArguments field (names as Hugging Face spells "
                                           "them, e.g. max_steps, learning_rate, optim)")
    typed = {name: getattr(namespace, name) for name in args if name not in passed_as_is} | passed_as_is
    built = {name: value for name, value in typed.items() if not (name in AUTO_ARGS and value == OPTIM_AUTO)}
    built.setdefault("use_cpu", True)  # a login node has no GPU: bf16 and the like are checked as on a CPU
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            SFTConfig(output_dir=scratch, **built)
        except (ValueError, TypeError) as error:
            raise ConfigError(key, str(error).splitlines()[0]) from None
    return {name: typed[name] for name in args}


def _command_line(value: Any) -> list[str]:
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def _digest(args: Mapping[str, Any]) -> str:
    versions = [_version(name) for name in ("transformers", "trl")]
    checker = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()  # a changed check is not answered from cache
    text = json.dumps([dict(args), versions, checker], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _read_cache(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_cache(path: Path, digest: str, typed: dict) -> None:
    from lhama.files import write_json

    entries = _read_cache(path)
    entries.pop(digest, None)
    entries[digest] = typed
    try:
        write_json(path, dict(list(entries.items())[-CACHE_ENTRIES:]))
    except OSError:  # a read-only home only loses the cache
        pass
