"""`lhama index | retrieve`: build a retrieval index in one process, and query it."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from lhama.cli.common import config_section
from lhama.config.sections import RagConfig, RetrievalSettings


def cmd_index(args: argparse.Namespace) -> None:
    from lhama.rag.index import index_articles

    manifest = index_articles(args.articles, args.out, config_section(args.config, "rag", RagConfig))
    print(f"{manifest['counts']['chunks']} chunks from {manifest['counts']['articles']} articles -> {args.out} "
          f"({manifest['index']['type']} index, {manifest['embedder']['name']}, {manifest['dimension']} dimensions)")


def retrieval_settings(args: argparse.Namespace) -> RetrievalSettings | None:
    """The `rag` section of --config (or, without one, the index's own embedder) with -k, --hybrid and --mmr."""
    from lhama.rag.index import settings_for, verified_manifest

    base = RetrievalSettings.of(config_section(args.config, "rag", RagConfig)) if args.config else \
        settings_for(verified_manifest(args.index), None)
    retriever = dataclasses.replace(base.retriever, k=args.k,
                                    hybrid=base.retriever.hybrid if args.hybrid is None else args.hybrid,
                                    mmr=args.mmr or base.retriever.mmr)
    return dataclasses.replace(base, retriever=retriever)


def cmd_retrieve(args: argparse.Namespace) -> None:
    from lhama.rag.index import load_index

    found = load_index(args.index, retrieval_settings(args)).retrieve(args.question, args.k)
    if args.json:
        print(json.dumps([chunk.to_json() for chunk in found], ensure_ascii=False, indent=2))
        return
    for chunk in found:
        print(f"[{chunk.rank}] {chunk.score:.4f}  {chunk.title}{' — ' + chunk.section if chunk.section else ''}")
        print("    " + chunk.text.replace("\n", " ")[:300])


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "index":
        parser.add_argument("articles", type=Path, help="folder written by `lhama extract`")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--config", help="workflow config YAML whose `rag` section sets embedder, chunker, index")
        parser.set_defaults(run=cmd_index)
    else:
        parser.add_argument("index", type=Path)
        parser.add_argument("question")
        parser.add_argument("-k", type=int, default=RetrievalSettings().retriever.k)
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--hybrid", dest="hybrid", action="store_true", default=None,
                            help="fuse BM25 (default: the config's choice)")
        parser.add_argument("--no-hybrid", dest="hybrid", action="store_false")
        parser.add_argument("--mmr", action="store_true")
        parser.add_argument("--config", help="workflow config YAML whose `rag` section sets the query side "
                                             "(embedder prefix, search depth, retriever)")
        parser.set_defaults(run=cmd_retrieve)
