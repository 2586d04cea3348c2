"""What the train job costs before its first step, on a large training split: the rows a run takes against every row.

A run of `max_steps` steps of B rows trains on steps x B rows (`TrainConfig.trained_rows`, `lhama.training_rows`);
the job reads only those, by seeking after one byte scan of the file. The baseline is the same job over every row of
the split (what it did before, and still does for a run set by epochs): every row parsed, rendered and tokenized by
TRL before the first step. Both build the real trainer (`lhama.train.build_trainer`, SmolLM2-135M's tokenizer,
the study's 1,000 steps of batch 2) in their own subprocess, so each peak RSS is its own; no step is trained.

    python benchmarks/bench_train_rows.py [--rows 200000] [--steps 1000] [--batch-size 2]

The split is synthetic (rows shaped like lhama's instruction examples). Writes benchmarks/out/train_rows.json and
prints seconds and peak RSS of both and their ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_train import prepared_smollm2

REPO = Path(__file__).resolve().parents[1]
INSTRUCTION = "Responda à pergunta em português, de forma correta e concisa."


def write_split(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for number in range(rows):
            title = f"Município de Exemplo {number}"
            out.write(json.dumps({
                "instruction": INSTRUCTION, "input": f"Em que ano foi fundado o {title}?",
                "output": f"O {title} foi fundado em {1500 + number % 500}, na capitania da Bahia, segundo os "
                          f"registros da época.", "answers": [str(1500 + number % 500)], "kind": "infobox",
                "field": "fundação", "source_id": number, "source_title": title}, ensure_ascii=False) + "\n")


def worker(args: argparse.Namespace) -> None:
    from lhama.config.loading import parse
    from lhama.config.sections import PromptConfig, TrainConfig
    from lhama.train.trainer import build_trainer

    steps = {"max_steps": args.steps} if args.worker == "taken" else {"max_steps": -1, "num_train_epochs": 1}
    config = parse(TrainConfig, {"method": "lora", "args": {
        **steps, "per_device_train_batch_size": args.batch_size, "eval_strategy": "no", "save_steps": 10_000,
        "report_to": "none", "max_length": 512, "bf16": False, "optim": "adamw_torch"}}, "train")
    started = time.perf_counter()
    run = build_trainer(config, args.model, args.train, None, Path(tempfile.mkdtemp(prefix="bench-rows-")),
                        template=PromptConfig().template)
    seconds = time.perf_counter() - started
    Path(args.result).write_text(json.dumps({
        "rows_tokenized": len(run.trainer.train_dataset), "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def spawn(mode: str, args: argparse.Namespace, model_dir: Path, out: Path) -> dict:
    result = out / f".rows-{mode}.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": str(REPO / "src")}
    subprocess.run([sys.executable, __file__, "--worker", mode, "--model", str(model_dir), "--train", str(args.train),
                    "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--result", str(result)],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = json.loads(result.read_text())
    result.unlink()
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the synthetic training split")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--model", type=Path, help="prepared model folder (default: prepare SmolLM2 once)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "train_rows.json")
    parser.add_argument("--worker", choices=("taken", "every"), help=argparse.SUPPRESS)
    parser.add_argument("--train", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model_dir = prepared_smollm2(args.model or args.out.parent / "smollm2-hf")
    args.train = args.out.parent / f"train-{args.rows}.jsonl"
    if not args.train.is_file():
        write_split(args.train, args.rows)
    runs = {mode: spawn(mode, args, model_dir, args.out.parent) for mode in ("taken", "every")}
    report = {"rows": args.rows, "split_mb": args.train.stat().st_size / 1e6, "steps": args.steps,
              "batch_size": args.batch_size, "runs": runs,
              "seconds_ratio_every_vs_taken": runs["every"]["seconds"] / runs["taken"]["seconds"],
              "rss_ratio_every_vs_taken": runs["every"]["peak_rss_mb"] / runs["taken"]["peak_rss_mb"]}
    from lhama.files import write_json

    write_json(args.out, report)
    print(f"{'rows read':<12}{'tokenized':>10}{'setup s':>9}{'peak RSS MB':>13}")
    for mode, run in runs.items():
        print(f"{mode:<12}{run['rows_tokenized']:>10}{run['seconds']:>9.1f}{run['peak_rss_mb']:>13.0f}")
    print(f"split of {args.rows} rows ({report['split_mb']:.0f} MB): every row vs the {args.steps} x {args.batch_size} "
          f"taken: {report['seconds_ratio_every_vs_taken']:.1f}x the setup time, "
          f"{report['rss_ratio_every_vs_taken']:.2f}x the peak RSS -> {args.out}")


if __name__ == "__main__":
    main()
