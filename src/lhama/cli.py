"""The `lhama` command line: one subcommand per stage, each a thin layer over the package's functions."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import yaml

from lhama import __version__
from lhama.errors import LhamaError

log = logging.getLogger("lhama")


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
        stream=sys.stderr,
    )
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # it logs every optional CPU variant it misses


def _config_section(path: str | None, key: str) -> dict:
    if path is None:
        return {}
    with open(path, encoding="utf-8") as handle:
        return (yaml.safe_load(handle) or {}).get(key) or {}


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
    from lhama.jsonl import write_jsonl
    from lhama.qa import build_examples, pretraining_records, qa_options_from_config

    options = qa_options_from_config(_config_section(args.config, "qa"))
    count = write_jsonl(args.out, build_examples(iter_articles(args.articles), options))
    if args.pretraining_out:
        write_jsonl(args.pretraining_out, pretraining_records(iter_articles(args.articles)))
    print(f"{count} instruction examples -> {args.out}")


def cmd_split(args: argparse.Namespace) -> None:
    from lhama.jsonl import read_jsonl, write_json, write_jsonl
    from lhama.qa import example_to_question
    from lhama.split import split_examples

    train, test, report = split_examples(list(read_jsonl(args.examples)), by=args.by, test_size=args.test_size,
                                         seed=args.seed)
    out = Path(args.out_dir)
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "test.jsonl", test)
    write_jsonl(out / "test_questions.jsonl", (example_to_question(example).to_json() for example in test))
    write_json(out / "split.json", report.to_json())
    print(f"train {report.train} / test {report.test} (by {report.by}, seed {report.seed}); "
          f"{report.test_with_train_article} test examples share an article with training data")


def cmd_questions(args: argparse.Namespace) -> None:
    from lhama.jsonl import write_json
    from lhama.evaluate import question_coverage
    from lhama.qa import load_questions

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


def cmd_ask(args: argparse.Namespace) -> None:
    """One question through one model, with or without retrieval and with or without an adapter: the same model
    weights and the same decoding settings in every variant, so only retrieval (or tuning) differs."""
    import json

    from lhama.generate import DecodingConfig, generate
    from lhama.models import load_model
    from lhama.rag import build_prompt, load_index

    model, tokenizer = load_model(args.model)
    if args.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, args.adapter)
    decoding = DecodingConfig(max_new_tokens=args.max_new_tokens)
    passages = load_index(args.index).retrieve(args.question, args.k) if args.index else []
    prompt = build_prompt(args.question, passages) if passages else args.question
    [answer] = generate(model, tokenizer, [prompt], decoding, progress=False)
    variant = ("tuned" if args.adapter else "base") + ("_rag" if args.index else "")
    if args.json:
        print(json.dumps({"variant": variant, "question": args.question, "answer": answer.text,
                          "sources": [chunk.to_json() for chunk in passages], **answer.to_json()}, ensure_ascii=False))
        return
    print(f"[{variant}] {answer.text}")
    for chunk in passages:
        print(f"  [{chunk.rank}] {chunk.title}{' — ' + chunk.section if chunk.section else ''}")


def add_ask_command(commands) -> None:
    ask = commands.add_parser("ask", help="answer a question with a model, optionally with retrieval (RAG) and an adapter")
    ask.add_argument("model", help="model folder written by `lhama prepare-model`")
    ask.add_argument("question")
    ask.add_argument("--index", help="retrieval index folder (`lhama index`): adds the numbered passages to the prompt")
    ask.add_argument("--adapter", help="PEFT adapter folder to apply (the tuned variant)")
    ask.add_argument("-k", type=int, default=5)
    ask.add_argument("--max-new-tokens", type=int, default=128)
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(run=cmd_ask)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lhama", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lhama {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)

    extract = commands.add_parser("extract", help="clean articles from a MediaWiki dump (.xml, .xml.bz2, multistream)")
    extract.add_argument("dump", type=Path)
    extract.add_argument("--out", type=Path, required=True, help="output folder (JSONL shards + manifest.json)")
    extract.add_argument("--index", type=Path, help="multistream index (offset:page_id:title), enables parallel decoding")
    extract.add_argument("--workers", type=int, default=1)
    extract.add_argument("--min-chars", type=int, default=200, help="drop articles with shorter clean text")
    extract.add_argument("--range-mb", type=float, default=1.0, help="compressed MiB per parallel work unit")
    extract.add_argument("--articles-per-shard", type=int, default=100_000)
    extract.add_argument("--no-progress", action="store_true")
    extract.set_defaults(run=cmd_extract)

    qa = commands.add_parser("qa", help="instruction examples (instruction/input/output JSONL) from articles")
    qa.add_argument("articles", type=Path, help="folder written by `lhama extract`")
    qa.add_argument("--out", type=Path, required=True)
    qa.add_argument("--config", help="workflow config YAML whose `qa` section sets templates and kinds")
    qa.add_argument("--pretraining-out", type=Path, help="also write title+text records for continued pre-training")
    qa.set_defaults(run=cmd_qa)

    split = commands.add_parser("split", help="deterministic train/test split (the study's particiona.py)")
    split.add_argument("examples", type=Path)
    split.add_argument("--out-dir", type=Path, required=True)
    split.add_argument("--by", choices=("pair", "article"), default="pair")
    split.add_argument("--test-size", type=float, default=0.1)
    split.add_argument("--seed", type=int, default=42)
    split.set_defaults(run=cmd_split)

    questions = commands.add_parser("questions", help="validate a question file; with --articles, check coverage")
    questions.add_argument("questions", type=Path)
    questions.add_argument("--articles", type=Path)
    questions.add_argument("--out", type=Path)
    questions.set_defaults(run=cmd_questions)

    download = commands.add_parser("download", help="fetch a dump, its index and checksums; verify; resume")
    download.add_argument("url")
    download.add_argument("--dest", required=True)
    download.add_argument("--mirror")
    download.add_argument("--algorithm", choices=("sha1", "md5"), default="sha1")
    download.set_defaults(run=cmd_download)

    from lhama import answer, evaluate, generate, models, perplexity, plan, rag, train

    rag.add_commands(commands)
    plan.add_commands(commands)
    models.add_commands(commands)
    generate.add_commands(commands)
    train.add_commands(commands)
    perplexity.add_commands(commands)
    answer.add_commands(commands)
    evaluate.add_commands(commands)
    add_ask_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        args.run(args)
    except LhamaError as error:
        print(f"lhama {args.command}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
