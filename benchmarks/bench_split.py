#!/usr/bin/env python
"""Split benchmark: the streamed `lhama.split.write_split` against the split it replaced (every example loaded, then
split in memory), on one synthetic examples file, in the same run.

    python benchmarks/bench_split.py [--examples 400000] [--by article|pair] [--out-dir benchmarks/out/split]

Each side runs in its own child process; its peak RSS is the kernel's high-water mark from `wait4`, its wall time is
measured from outside. Both must write byte-identical train and test files. Prints the two rows and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

BASELINE = """
import sys
from pathlib import Path
from lhama.config.sections import SplitConfig
from lhama.files import read_jsonl, write_jsonl
from lhama.split import split_examples
source, out, by = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
train, test, _ = split_examples(list(read_jsonl(source)), by=by, test_size=0.1, seed=42)
write_jsonl(out / "train.jsonl", train)
write_jsonl(out / "test.jsonl", test)
"""

STREAMED = """
import sys
from pathlib import Path
from lhama.config.sections import SplitConfig
from lhama.split import write_split
source, out, by = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
write_split(source, out, SplitConfig(by=by, test_size=0.1, seed=42))
"""


def write_examples(path: Path, count: int, seed: int = 1) -> None:
    """Instruction examples shaped like lhama's (about 4 per article, a rendered prompt of a few hundred bytes)."""
    rng = random.Random(seed)
    words = ["capital", "fundada", "história", "império", "república", "município", "população", "rio", "século"]
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            article = number // 4
            sentence = " ".join(rng.choice(words) for _ in range(40))
            out.write(json.dumps({
                "id": f"{article}-{number % 4}", "instruction": "Responda à pergunta.", "input": f"Pergunta {number}?",
                "output": sentence, "answers": [str(number)], "text": f"### Pergunta {number}?\n{sentence}",
                "kind": "section", "source_id": article, "source_title": f"Artigo {article}"},
                ensure_ascii=False) + "\n")


def run(code: str, source: Path, out: Path, by: str) -> tuple[float, float]:
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code, str(source), str(out), by])
    _, status, usage = os.wait4(process.pid, 0)
    if status:
        raise SystemExit(f"bench_split: a side failed (status {status})")
    return time.perf_counter() - started, usage.ru_maxrss / 1024  # KiB -> MiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=400_000)
    parser.add_argument("--by", choices=("article", "pair"), default="article")
    parser.add_argument("--out-dir", type=Path, default=Path("benchmarks/out/split"))
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    source = args.out_dir / "examples.jsonl"
    write_examples(source, args.examples)
    size_mb = source.stat().st_size / 2**20
    baseline = run(BASELINE, source, args.out_dir / "in-memory", args.by)
    streamed = run(STREAMED, source, args.out_dir / "streamed", args.by)
    same = all((args.out_dir / "in-memory" / name).read_bytes() == (args.out_dir / "streamed" / name).read_bytes()
               for name in ("train.jsonl", "test.jsonl"))
    print(f"{args.examples:,} examples ({size_mb:.0f} MiB), split by {args.by}")
    print(f"{'':>22}  {'seconds':>8}  {'peak RSS MiB':>12}")
    for name, (seconds, rss) in (("in memory (baseline)", baseline), ("streamed", streamed)):
        print(f"{name:>22}  {seconds:8.1f}  {rss:12.0f}")
    print(f"ratio streamed / baseline: time {streamed[0] / baseline[0]:.2f}x, peak RSS {streamed[1] / baseline[1]:.2f}x;"
          f" outputs identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
