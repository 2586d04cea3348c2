"""`lhama extract | qa | split | questions | download`: the corpus stages."""

from __future__ import annotations

import argparse
from pathlib import Path

from lhama.cli.common import config_section
from lhama.config.sections import ExtractConfig, PromptConfig, QAConfig, SplitConfig


def cmd_extract(args: argparse.Namespace) -> None:
    from lhama.corpus import ExtractOptions, extract

    options = ExtractOptions(min_chars=args.min_chars, range_bytes=int(args.range_mb * 2**20),
                             articles_per_shard=args.articles_per_shard)
    manifest = extract(args.dump, args.out, index_path=args.index, workers=args.workers, options=options,
                       progress=not args.no_progress)
    counts = manifest["counts"]
    print(f"{counts['articles']} articles from {counts['pages_read']} pages -> {args.out} "
          f"(skipped: {', '.join(f'{k} {v}' for k, v in counts['skipped'].items())})")


def cmd_qa(args: argparse.Namespace) -> None:
    from lhama.corpus import iter_articles
    from lhama.files import write_jsonl
    from lhama.qa import build_examples, pretraining_records, qa_options

    options = qa_options(config_section(args.config, "qa", QAConfig), config_section(args.config, "prompt",
                                                                                      PromptConfig))
    count = write_jsonl(args.out, build_examples(iter_articles(args.articles), options))
    if args.pretraining_out:
        write_jsonl(args.pretraining_out, pretraining_records(iter_articles(args.articles)))
    print(f"{count} instruction examples -> {args.out}")


def cmd_split(args: argparse.Namespace) -> None:
    from lhama.config.loading import parse
    from lhama.split import write_split

    config = parse(SplitConfig, {"by": args.by, "test_size": args.test_size, "seed": args.seed}, "split")
    report = write_split(args.examples, Path(args.out_dir), config)
    print(f"train {report.train} / test {report.test} (by {report.by}, seed {report.seed}); "
          f"{report.test_with_train_article} test examples share an article with training data")


def cmd_questions(args: argparse.Namespace) -> None:
    from lhama.files import write_json
    from lhama.questions import load_questions, question_coverage

    questions = load_questions(args.questions)
    coverage = question_coverage(questions, args.articles) if args.articles else None
    if args.out:
        write_json(args.out, {"file": str(args.questions), "questions": len(questions), "coverage": coverage})
    print(f"{args.questions}: {len(questions)} valid questions")
    if coverage:
        print(f"answer found in the source article for {coverage['answer_in_source']} of "
              f"{coverage['with_source']} questions with a source; anywhere in the corpus for "
              f"{coverage['answer_in_corpus']} of {len(questions)}")


def cmd_download(args: argparse.Namespace) -> None:
    from lhama.download import download_dump

    result = download_dump(args.url, Path(args.dest), mirror=args.mirror, algorithm=args.algorithm)
    print(f"dump {result.dump}\nindex {result.index}\nchecksums {result.checksums}")


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "extract":
        defaults = ExtractConfig()
        parser.add_argument("dump", type=Path)
        parser.add_argument("--out", type=Path, required=True, help="output folder (JSONL shards + manifest.json)")
        parser.add_argument("--index", type=Path, help="multistream index (offset:page_id:title): parallel decoding")
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--min-chars", type=int, default=defaults.min_chars,
                            help="drop articles with shorter clean text")
        parser.add_argument("--range-mb", type=float, default=defaults.range_mb,
                            help="compressed MiB per parallel work unit")
        parser.add_argument("--articles-per-shard", type=int, default=defaults.articles_per_shard)
        parser.add_argument("--no-progress", action="store_true")
        parser.set_defaults(run=cmd_extract)
    elif name == "qa":
        parser.add_argument("articles", type=Path, help="folder written by `lhama extract`")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--config", help="workflow config YAML whose `qa` and `prompt` sections are used")
        parser.add_argument("--pretraining-out", type=Path, help="also write title+text records for pre-training")
        parser.set_defaults(run=cmd_qa)
    elif name == "split":
        defaults = SplitConfig()
        parser.add_argument("examples", type=Path)
        parser.add_argument("--out-dir", type=Path, required=True)
        parser.add_argument("--by", choices=("pair", "article"), default=defaults.by)
        parser.add_argument("--test-size", type=float, default=defaults.test_size)
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.set_defaults(run=cmd_split)
    elif name == "questions":
        parser.add_argument("questions", type=Path)
        parser.add_argument("--articles", type=Path)
        parser.add_argument("--out", type=Path)
        parser.set_defaults(run=cmd_questions)
    elif name == "download":
        parser.add_argument("url")
        parser.add_argument("--dest", required=True)
        parser.add_argument("--mirror")
        parser.add_argument("--algorithm", choices=("sha1", "md5"), default="sha1")
        parser.set_defaults(run=cmd_download)
