"""The `lhama` command line: one subcommand per stage, each a thin layer over the package's functions.

A subcommand's module is imported only when it runs (`lhama --help` imports none of them), so a command needs only
its own stage's packages: `python -m lhama.cli.train` is the training launcher's entry point and imports what
training needs, nothing of retrieval or scoring.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lhama import __version__
from lhama.errors import LhamaError

# command -> (module under lhama.cli that defines it, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "extract": ("corpus", "clean articles from a MediaWiki dump (.xml, .xml.bz2, multistream)"),
    "qa": ("corpus", "instruction examples (instruction/input/output JSONL) from articles"),
    "split": ("corpus", "deterministic train/test split (the study's particiona.py, or by article)"),
    "questions": ("corpus", "validate a question file; with --articles, check the corpus covers it"),
    "download": ("corpus", "fetch a dump, its index and checksums; verify; resume"),
    "index": ("rag", "build a FAISS index (chunk, embed, save) from extracted articles"),
    "retrieve": ("rag", "the top-k passages of an index for a question"),
    "prepare-model": ("models", "make a model folder (HF format + lhama_model.json) from a GGUF package, hub or folder"),
    "generate": ("models", "generate answers to prompts with a prepared model"),
    "ask": ("models", "answer a question with a model, optionally with retrieval (RAG) and an adapter"),
    "train": ("train", "fine-tune a model (LoRA/QLoRA/full) with TRL; resumable"),
    "perplexity": ("perplexity", "held-out perplexity and bits/byte of base and tuned model"),
    "answer": ("answer", "answer a question file with one model variant into a JSONL file"),
    "evaluate": ("answer", "score answer files: metrics with intervals and paired comparisons between variants"),
    "plan": ("plan", "plan GPU memory and time: one job from flags, or every training job of a config"),
    "config": ("config", "show the configuration a run would use; write its schema and reference page"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with the arguments of `command` only (the one being run): the others are listed, not loaded."""
    parser = argparse.ArgumentParser(prog="lhama", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"lhama {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == command:
            importlib.import_module(f"lhama.cli.{module}").configure(name, sub)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    return next((item for item in argv if not item.startswith("-")), None)


def run(args: argparse.Namespace, program: str) -> int:
    """Run a parsed command: a user-facing error is one line on stderr and exit status 1."""
    from lhama.logs import setup_logging

    setup_logging(getattr(args, "verbose", False))
    try:
        args.run(args)
    except LhamaError as error:
        print(f"{program}: error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command(argv)
    args = build_parser(command if command in COMMANDS else None).parse_args(argv)
    return run(args, f"lhama {args.command}")


if __name__ == "__main__":
    sys.exit(main())
