#!/usr/bin/env python
"""Extraction benchmark: lhama's extractor against LangChain's MWDumpLoader and mwparserfromhell, on one dump.

    python benchmarks/bench_extract.py [--size-mb 200] [--seed 1] [--skip-generate] [--baseline-mb N]
                                       [--before-rev f5b1d24 | --no-before]

Steps, in one run:

1. Generate the synthetic ptwiki-like dump (`make_synthetic_dump.py`) in `--out-dir` unless `--skip-generate`.
2. (a) `lhama extract DUMP --index INDEX --out OUTDIR --workers N` for N = 1 and 2, from the multistream `.xml.bz2`.
   (a0) The same extraction with the wikitext cleaning of an earlier commit (`--before-rev`, default f5b1d24, the
   code before templates, tables and captions were rendered): its `src/lhama/wikitext.py`, read with `git show`,
   is loaded as a module in place of `lhama.wikitext`, so before and after are timed on the same dump and machine.
3. (b) LangChain `MWDumpLoader(xml, namespaces=[0], skip_redirects=True, stop_on_error=False).lazy_load()`, counted.
4. (c) lxml iterparse over the same XML (ns 0, non-redirect) + `mwparserfromhell.parse(text).strip_code()`.

Every tool runs as a child process; its wall time is measured from outside, and its process tree is sampled every
250 ms with psutil (and the kernel's VmHWM of each process) for the peak RSS of the largest single process and of
the sum over the tree (the kernel's
high-water mark of the largest process, from `wait4`, is reported too). Throughput is uncompressed XML bytes of
the input the tool read divided by wall seconds, for every tool, so the numbers compare even though lhama reads the
bz2 file. With `--baseline-mb N`, (b) and (c) read only a copy of the first N MB of pages (cut at a page boundary)
and their MB/s and pages/s are over those bytes and pages. Each lhama row runs `--repeat` times (default 3): the
table shows the fastest run (identical runs vary by some 15% on a shared 2-core machine), worker scaling and the
before/now ratio compare fastest runs, and ratios against the baselines (one run each) use lhama's median run.

Markup residue: over all output documents, the share of non-empty text lines that contain any of the tokens in
`RESIDUE_TOKENS` (`Categoria:` only with a name right after the colon, as a leaked category link has it, not a table
column named so), with counts per token, for every tool.

Targets (all must pass, on the current code): (a, 1 worker) MB/s >= 5x (b); (a, 2 workers) / (a, 1 worker) >= 1.8;
peak RSS of the
largest single process < 500 MB for both lhama runs; lhama's residue share < 0.1%. The table, ratios and
PASS/FAIL go to stdout and `OUT_DIR/bench_extract.json`. Exit status: 0 when every target passes, 1 when any target
fails (or a tool crashes), 2 on a usage or setup error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_synthetic_dump import DUMP_NAME, INDEX_NAME, META_NAME, XML_NAME  # noqa: E402

MB = 1_000_000
RESIDUE_TOKENS = ("{{", "}}", "[[", "]]", "<ref", "{|", "thumb|", "Categoria:", "&nbsp;")
# "Categoria:" counts as residue only as a link leaks it, with the name right after the colon ("Categoria:Rios"):
# a table's column named Categoria is shown "Categoria: valor".
LEAKED_CATEGORY = re.compile(r"Categoria:\S")
# Counted and shown too, but not part of the target: other traces of markup the synthetic dump contains.
OTHER_MARKERS = ("|", "''", "<", ">", "__", "&", "http", "px", "=", "miniaturadaimagem", "~~~~")
EXAMPLES_PER_TOKEN = 5
# The sampler shares the 2 cores with what it measures: sample sparsely and take each process's exact peak from
# the kernel (VmHWM), so the monitor neither misses peaks nor slows the 2-worker run it is timing.
SAMPLE_S = 0.25

TARGET_SPEEDUP_VS_LANGCHAIN = 5.0
TARGET_SCALING_2_WORKERS = 1.8
TARGET_PEAK_RSS_MB = 500.0
TARGET_RESIDUE_SHARE = 0.001


# ---------------------------------------------------------------------------------------------------- residue


class Residue:
    """Counts non-empty text lines and those holding leftover markup, per token, with a few examples."""

    def __init__(self) -> None:
        self.lines = 0
        self.lines_with_residue = 0
        self.per_token: Counter = Counter()
        self.examples: dict[str, list[str]] = {token: [] for token in RESIDUE_TOKENS + OTHER_MARKERS}
        self.docs = 0
        self.empty_docs = 0

    def add(self, text: str) -> None:
        self.docs += 1
        if not text.strip():
            self.empty_docs += 1
        for line in text.split("\n"):
            if not line.strip():
                continue
            self.lines += 1
            hit = False
            for token in RESIDUE_TOKENS:
                if token in line and (token != "Categoria:" or LEAKED_CATEGORY.search(line)):
                    hit = True
                    self.per_token[token] += 1
                    if len(self.examples[token]) < EXAMPLES_PER_TOKEN:
                        self.examples[token].append(_excerpt(line, token))
            self.lines_with_residue += hit
            for token in OTHER_MARKERS:
                if token in line:
                    self.per_token[token] += 1
                    if len(self.examples[token]) < EXAMPLES_PER_TOKEN:
                        self.examples[token].append(_excerpt(line, token))

    def to_json(self) -> dict:
        return {
            "docs": self.docs,
            "empty_docs": self.empty_docs,
            "lines": self.lines,
            "lines_with_residue": self.lines_with_residue,
            "share": self.lines_with_residue / self.lines if self.lines else 0.0,
            "per_token": {token: self.per_token[token] for token in RESIDUE_TOKENS},
            "other_markers": {token: self.per_token[token] for token in OTHER_MARKERS},
            "examples": {token: examples for token, examples in self.examples.items() if examples},
        }


def _excerpt(line: str, token: str, width: int = 90) -> str:
    at = line.find(token)
    start = max(0, at - width)
    end = min(len(line), at + len(token) + width)
    return ("…" if start else "") + line[start:end] + ("…" if end < len(line) else "")


# ---------------------------------------------------------------------------------------------------- baselines (child mode)


def _run_langchain(xml_path: str) -> dict:
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.getLogger("langchain_community").setLevel(logging.CRITICAL)  # one log line per bad page otherwise
    from langchain_community.document_loaders import MWDumpLoader

    loader = MWDumpLoader(xml_path, namespaces=[0], skip_redirects=True, stop_on_error=False)
    residue = Residue()
    residue_s = 0.0
    for document in loader.lazy_load():
        started = time.perf_counter()
        residue.add(document.page_content)
        residue_s += time.perf_counter() - started
    return {"residue": residue.to_json(), "residue_seconds": residue_s}


def _run_mwparserfromhell(xml_path: str) -> dict:
    import mwparserfromhell
    from lxml import etree

    residue = Residue()
    residue_s = 0.0
    errors = 0
    context = etree.iterparse(xml_path, events=("end",), tag="{*}page", huge_tree=True, resolve_entities=False)
    for _, page in context:
        ns = page.findtext("{*}ns")
        redirect = page.find("{*}redirect")
        text = page.findtext("{*}revision/{*}text") or ""
        page.clear()
        while page.getprevious() is not None:
            del page.getparent()[0]
        if ns != "0" or redirect is not None:
            continue
        try:
            plain = mwparserfromhell.parse(text).strip_code()
        except Exception:  # noqa: BLE001 - like stop_on_error=False
            errors += 1
            continue
        started = time.perf_counter()
        residue.add(plain)
        residue_s += time.perf_counter() - started
    return {"residue": residue.to_json(), "residue_seconds": residue_s, "errors": errors}


def _run_lhama_before(module_path: str, dump: str, index: str, out: str, workers: str) -> int:
    """`lhama extract` (the same command line, so the same start-up) with an earlier commit's `wikitext.py` doing
    the cleaning, adapted to today's record fields: it knows no tables, captions or template counts."""
    import importlib.util
    import types

    import lhama.corpus as corpus
    from lhama.wikitext import TemplateStats

    spec = importlib.util.spec_from_file_location("lhama_wikitext_before", module_path)
    before = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = before  # dataclasses look their module up
    spec.loader.exec_module(before)

    def clean(text: str, **options) -> types.SimpleNamespace:
        article = before.clean(text, **options)
        return types.SimpleNamespace(sections=article.sections, infobox=article.infobox, text=article.text,
                                     tables=(), captions=(), templates=TemplateStats())

    corpus.clean, corpus.is_redirect, corpus.is_disambiguation = clean, before.is_redirect, before.is_disambiguation
    from lhama.cli import main

    return main(["extract", dump, "--index", index, "--out", out, "--workers", workers])


def child_main(argv: list[str]) -> int:
    if argv[0] == "lhama-before":
        return _run_lhama_before(*argv[1:])
    tool, xml_path, result_path = argv
    runner = {"langchain": _run_langchain, "mwparserfromhell": _run_mwparserfromhell}[tool]
    result = runner(xml_path)
    Path(result_path).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


def before_module(rev: str, out_dir: Path) -> Path | None:
    """The earlier commit's `src/lhama/wikitext.py`, written to `out_dir`; None if git cannot give it."""
    repo = HERE.parent
    try:
        source = subprocess.run(["git", "-C", str(repo), "show", f"{rev}:src/lhama/wikitext.py"], check=True,
                                capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"note: no 'before' runs: git show {rev}:src/lhama/wikitext.py failed ({error})", file=sys.stderr)
        return None
    path = out_dir / f"wikitext-{rev}.py"
    path.write_bytes(source)
    return path


# ---------------------------------------------------------------------------------------------------- measuring


def _peak_rss(pid: int) -> int:
    """The kernel's high-water mark of a process's resident memory (VmHWM), in bytes; 0 if unreadable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def measure(cmd: list[str], log_path: Path) -> dict:
    """Run `cmd`; wall time from outside, process-tree RSS sampled every 250 ms, per-process kernel high-water marks."""
    import psutil

    load_before = os.getloadavg()
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            root = None
        peak_single = peak_sum = 0
        cpu_by_pid: dict[int, float] = {}
        max_procs = 0
        samples = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if root is not None:
                try:
                    tree = [root] + root.children(recursive=True)
                except psutil.NoSuchProcess:
                    tree = []
                rss = []
                for member in tree:
                    try:
                        peak_single = max(peak_single, _peak_rss(member.pid))
                        rss.append(member.memory_info().rss)
                        times = member.cpu_times()
                        cpu_by_pid[member.pid] = times.user + times.system
                    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                        pass
                if rss:
                    samples += 1
                    peak_single = max(peak_single, max(rss))
                    peak_sum = max(peak_sum, sum(rss))
                    max_procs = max(max_procs, len(rss))
            time.sleep(SAMPLE_S)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "cmd": shlex.join(cmd),
        "returncode": proc.returncode,
        "wall_s": wall,
        # CPU of the child and every descendant it reaped (wait4), or the sum of the last samples over the tree
        # (misses each process's last <250 ms) where descendants were not reaped by their parent.
        "cpu_s": max(usage.ru_utime + usage.ru_stime, sum(cpu_by_pid.values())),
        "peak_rss_largest_mb": peak_single / MB,
        "peak_rss_tree_mb": peak_sum / MB,
        "kernel_maxrss_largest_mb": usage.ru_maxrss * 1024 / MB,  # ru_maxrss is in KiB on Linux
        "max_processes": max_procs,
        "rss_samples": samples,
        "loadavg_before": [round(value, 2) for value in load_before],
        "log": str(log_path),
    }


def measure_fastest(cmd: list[str], log_path: Path, target: Path, repeat: int) -> dict:
    """`measure` `repeat` times, `target` removed before each: the fastest run, with every run's wall time and the
    median (a shared 2-core machine varies by some 15% between identical runs; the fastest is the least disturbed)."""
    runs = []
    for _ in range(repeat):
        shutil.rmtree(target, ignore_errors=True)
        runs.append(measure(cmd, log_path))
        if runs[-1]["returncode"] != 0:
            return runs[-1]
    walls = sorted(run["wall_s"] for run in runs)
    fastest = min(runs, key=lambda run: run["wall_s"])
    return {**fastest, "wall_s_runs": [run["wall_s"] for run in runs], "wall_s_median": walls[len(walls) // 2],
            "peak_rss_largest_mb": max(run["peak_rss_largest_mb"] for run in runs),
            "peak_rss_tree_mb": max(run["peak_rss_tree_mb"] for run in runs)}


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------------- inputs


def truncated_xml(xml_path: Path, out_path: Path, limit_mb: float) -> tuple[int, int]:
    """Copy the header and the first pages of `xml_path` until at least `limit_mb` MB, then close the root.

    Returns (bytes, pages) of the copy. Relies on the writer's layout: `  <page>` / `  </page>` on their own lines.
    """
    limit = int(limit_mb * MB)
    pages = 0
    written = 0
    with open(xml_path, "rb") as source, open(out_path, "wb") as out:
        for line in source:
            out.write(line)
            written += len(line)
            if line == b"  </page>\n":
                pages += 1
                if written >= limit:
                    break
        else:
            return written, pages  # the whole file fitted (already has its footer)
        footer = b"</mediawiki>\n"
        out.write(footer)
        written += len(footer)
    return written, pages


def lhama_output(out_dir: Path) -> dict:
    """Residue and counts over `articles-*.jsonl`, plus the manifest and a digest of the shards' contents."""
    import hashlib

    residue = Residue()
    digest = hashlib.sha1()
    with_infobox = 0
    shards = sorted(out_dir.glob("articles-*.jsonl"))
    for shard in shards:
        with open(shard, "rb") as handle:
            for raw in handle:
                digest.update(raw)
                article = json.loads(raw)
                residue.add(article.get("text") or "")
                with_infobox += bool(article.get("infobox"))
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else None
    return {
        "shards": len(shards),
        "articles": residue.docs,
        "with_infobox": with_infobox,
        "content_sha1": digest.hexdigest(),
        "residue": residue.to_json(),
        "manifest": manifest,
    }


# ---------------------------------------------------------------------------------------------------- report


def fmt(value, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict]) -> None:
    header = ("tool", "input MB", "MB/s", "pages/s", "wall s", "CPU s", "RSS max MB", "RSS tree MB", "docs", "residue %")
    lines = [header]
    for row in rows:
        run = row.get("run") or {}
        residue = row.get("residue") or {}
        lines.append((
            row["name"], fmt(row["input_bytes"] / MB), fmt(row.get("mb_per_s"), ".2f"), fmt(row.get("pages_per_s"), ".0f"),
            fmt(run.get("wall_s")), fmt(run.get("cpu_s")),
            fmt(max(run.get("peak_rss_largest_mb", 0), run.get("kernel_maxrss_largest_mb", 0)) if run else None, ".0f"),
            fmt(run.get("peak_rss_tree_mb"), ".0f"), str(row.get("docs", "-")),
            fmt(100 * residue["share"], ".3f") if residue else "-",
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for number, line in enumerate(lines):
        print("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)))
        if number == 0:
            print("  ".join("-" * width for width in widths))


def print_residue(rows: list[dict]) -> None:
    tokens = RESIDUE_TOKENS
    print("\nMarkup residue: non-empty text lines containing each token (a line may count under several)")
    head = ["tool", "lines", "with any"] + list(tokens)
    table = [head]
    for row in rows:
        residue = row.get("residue")
        if not residue:
            continue
        table.append([row["name"], str(residue["lines"]), f"{residue['lines_with_residue']} ({100 * residue['share']:.3f}%)"]
                     + [str(residue["per_token"][token]) for token in tokens])
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)))
    print("\nOther markup traces (informational, not a target): lines containing")
    head = ["tool"] + list(OTHER_MARKERS)
    table = [head] + [[row["name"]] + [str(row["residue"]["other_markers"][token]) for token in OTHER_MARKERS]
                      for row in rows if row.get("residue")]
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)))


def print_examples(row: dict, per_token: int = 3) -> None:
    residue = row.get("residue") or {}
    examples = residue.get("examples") or {}
    if not examples:
        return
    print(f"\nResidue examples, {row['name']}:")
    for token, lines in examples.items():
        for line in lines[:per_token]:
            print(f"  [{token}] {line}")


# ---------------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        return child_main(argv[1:])

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="exit status: 0 all targets pass, "
                                     "1 a target fails or a tool crashes, 2 usage/setup error")
    parser.add_argument("--size-mb", type=float, default=200.0, help="synthetic dump size (uncompressed XML, MB)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-dir", type=Path, default=HERE / "out")
    parser.add_argument("--skip-generate", action="store_true", help="reuse the dump already in --out-dir")
    parser.add_argument("--baseline-mb", type=float, default=None,
                        help="run (b) and (c) over only the first N MB of pages (default: the whole dump)")
    parser.add_argument("--lhama", default=str(Path(sys.executable).with_name("lhama")), help="the lhama CLI")
    parser.add_argument("--extract-args", default="", help="extra arguments for `lhama extract` (one string)")
    parser.add_argument("--skip-baselines", action="store_true", help="measure lhama only (targets needing (b) fail)")
    parser.add_argument("--before-rev", default="f5b1d24",
                        help="also time the wikitext cleaning of this commit (default: %(default)s)")
    parser.add_argument("--no-before", action="store_true", help="do not time an earlier commit's cleaning")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each lhama row: the fastest is shown, ratios against the baselines (one run "
                             "each) use the median")
    args = parser.parse_args(argv)

    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    logs = out_dir / "logs"
    logs.mkdir(exist_ok=True)
    dump, index, xml, meta_path = out_dir / DUMP_NAME, out_dir / INDEX_NAME, out_dir / XML_NAME, out_dir / META_NAME
    total_started = time.perf_counter()

    # 1. the dump
    generate_s = None
    if not args.skip_generate:
        print(f"generating a {args.size_mb:g} MB synthetic dump (seed {args.seed}) in {out_dir} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "make_synthetic_dump.py"), "--size-mb", str(args.size_mb),
                        "--out-dir", str(out_dir), "--seed", str(args.seed)], check=True)
        generate_s = time.perf_counter() - started
    if not (meta_path.exists() and dump.exists() and index.exists() and xml.exists()):
        print(f"error: no complete synthetic dump in {out_dir} (run without --skip-generate)", file=sys.stderr)
        return 2
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    xml_bytes = xml.stat().st_size
    total_pages = meta["pages"]

    rows: list[dict] = []
    failures: list[str] = []

    # 2. lhama
    lhama = args.lhama if os.path.exists(args.lhama) else shutil.which("lhama")
    # multistream bz2 with its index (the real use), and the uncompressed XML the baselines read (same input)
    runs = [(1, dump, ["--index", str(index)], "lhama_w1", ""), (2, dump, ["--index", str(index)], "lhama_w2", ""),
            (1, xml, [], "lhama_xml_w1", ", uncompressed XML")]
    for workers, source, source_args, key, label in runs:
        name = f"(a) lhama extract, {workers} worker{'s' if workers > 1 else ''}{label}"
        row = {"name": name, "key": key, "input": str(source), "input_bytes": xml_bytes, "pages": total_pages}
        rows.append(row)
        if lhama is None:
            row["error"] = "lhama CLI not found"
            failures.append(f"{name}: {row['error']}")
            continue
        target = out_dir / f"extract-{key}"
        cmd = [lhama, "extract", str(source), *source_args, "--out", str(target), "--workers", str(workers)]
        cmd += shlex.split(args.extract_args)
        print(f"running {name} ({args.repeat}x): {shlex.join(cmd)}", file=sys.stderr, flush=True)
        run = measure_fastest(cmd, logs / f"{key}.log", target, args.repeat)
        row["run"] = run
        if run["returncode"] != 0:
            row["error"] = f"exit status {run['returncode']}: {log_tail(Path(run['log']))}"
            failures.append(f"{name}: exit status {run['returncode']} (see {run['log']})")
            continue
        output = lhama_output(target)
        row.update(output)
        row["docs"] = output["articles"]
        row["mb_per_s"] = xml_bytes / MB / run["wall_s"]
        row["mb_per_s_median"] = xml_bytes / MB / run["wall_s_median"]
        row["pages_per_s"] = total_pages / run["wall_s"]

    # 2b. lhama with an earlier commit's cleaning, on the same dump
    module = None if args.no_before else before_module(args.before_rev, out_dir)
    for workers in (1, 2) if module else ():
        key = f"lhama_before_w{workers}"
        name = f"(a0) lhama extract at {args.before_rev}, {workers} worker{'s' if workers > 1 else ''}"
        row = {"name": name, "key": key, "input": str(dump), "input_bytes": xml_bytes, "pages": total_pages}
        rows.append(row)
        target = out_dir / f"extract-{key}"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "lhama-before", str(module), str(dump),
               str(index), str(target), str(workers)]
        print(f"running {name} ({args.repeat}x) ...", file=sys.stderr, flush=True)
        run = measure_fastest(cmd, logs / f"{key}.log", target, args.repeat)
        row["run"] = run
        if run["returncode"] != 0:
            row["error"] = f"exit status {run['returncode']}: {log_tail(Path(run['log']))}"
            failures.append(f"{name}: exit status {run['returncode']} (see {run['log']})")
            continue
        output = lhama_output(target)
        row.update(output)
        row["docs"] = output["articles"]
        row["mb_per_s"] = xml_bytes / MB / run["wall_s"]
        row["mb_per_s_median"] = xml_bytes / MB / run["wall_s_median"]
        row["pages_per_s"] = total_pages / run["wall_s"]

    # 3. baselines
    baseline_xml, baseline_bytes, baseline_pages = xml, xml_bytes, total_pages
    if args.baseline_mb and args.baseline_mb * MB < xml_bytes:
        baseline_xml = out_dir / f"ptwiki-synthetic-first-{args.baseline_mb:g}MB.xml"
        baseline_bytes, baseline_pages = truncated_xml(xml, baseline_xml, args.baseline_mb)
    baselines = [] if args.skip_baselines else [
        ("(b) LangChain MWDumpLoader", "langchain"), ("(c) mwparserfromhell strip_code", "mwparserfromhell"),
    ]
    for name, tool in baselines:
        row = {"name": name, "key": tool, "input": str(baseline_xml), "input_bytes": baseline_bytes, "pages": baseline_pages}
        rows.append(row)
        result_path = out_dir / f"baseline-{tool}.json"
        result_path.unlink(missing_ok=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", tool, str(baseline_xml), str(result_path)]
        print(f"running {name} over {baseline_bytes / MB:.1f} MB ...", file=sys.stderr, flush=True)
        run = measure(cmd, logs / f"{tool}.log")
        row["run"] = run
        if run["returncode"] != 0 or not result_path.exists():
            row["error"] = f"exit status {run['returncode']}: {log_tail(Path(run['log']))}"
            failures.append(f"{name}: exit status {run['returncode']} (see {run['log']})")
            continue
        result = json.loads(result_path.read_text(encoding="utf-8"))
        row.update(result)
        row["docs"] = result["residue"]["docs"]
        row["mb_per_s"] = baseline_bytes / MB / run["wall_s"]
        row["pages_per_s"] = baseline_pages / run["wall_s"]

    # 4. targets
    by_key = {row["key"]: row for row in rows}
    a1, a2, b = by_key.get("lhama_w1", {}), by_key.get("lhama_w2", {}), by_key.get("langchain", {})
    def ratio(row: dict, other: dict, key: str = "mb_per_s") -> float | None:
        return row[key] / other["mb_per_s"] if row.get(key) and other.get("mb_per_s") else None

    # lhama against itself: fastest runs on both sides; against a one-run baseline: lhama's median run
    ratios = {
        "lhama_w1_vs_langchain": ratio(a1, b, "mb_per_s_median"),
        "lhama_w1_vs_mwparserfromhell": ratio(a1, by_key.get("mwparserfromhell", {}), "mb_per_s_median"),
        "lhama_w2_vs_w1": ratio(a2, a1),
        "lhama_xml_w1_vs_langchain": ratio(by_key.get("lhama_xml_w1", {}), b, "mb_per_s_median"),
    }
    for workers in (1, 2):
        ratios[f"lhama_w{workers}_vs_before"] = ratio(by_key.get(f"lhama_w{workers}", {}),
                                                      by_key.get(f"lhama_before_w{workers}", {}))
    ratios["before_w1_vs_langchain"] = ratio(by_key.get("lhama_before_w1", {}), b, "mb_per_s_median")

    def peak(row: dict) -> float | None:
        run = row.get("run")
        return max(run["peak_rss_largest_mb"], run["kernel_maxrss_largest_mb"]) if run and "error" not in row else None

    def residue_share(row: dict) -> float | None:
        return row["residue"]["share"] if row.get("residue") else None

    peaks = [peak(a1), peak(a2)]
    shares = [residue_share(a1), residue_share(a2)]
    targets = [
        {"target": f"(a, 1 worker) MB/s >= {TARGET_SPEEDUP_VS_LANGCHAIN:g}x (b)", "value": ratios["lhama_w1_vs_langchain"],
         "shown": f"{fmt(ratios['lhama_w1_vs_langchain'], '.2f')}x",
         "pass": ratios["lhama_w1_vs_langchain"] is not None and ratios["lhama_w1_vs_langchain"] >= TARGET_SPEEDUP_VS_LANGCHAIN},
        {"target": f"(a, 2 workers) / (a, 1 worker) >= {TARGET_SCALING_2_WORKERS:g}", "value": ratios["lhama_w2_vs_w1"],
         "shown": f"{fmt(ratios['lhama_w2_vs_w1'], '.2f')}x",
         "pass": ratios["lhama_w2_vs_w1"] is not None and ratios["lhama_w2_vs_w1"] >= TARGET_SCALING_2_WORKERS},
        {"target": f"peak RSS of the largest lhama process < {TARGET_PEAK_RSS_MB:g} MB", "value": peaks,
         "shown": " / ".join(f"{fmt(p, '.0f')} MB" for p in peaks),
         "pass": all(p is not None and p < TARGET_PEAK_RSS_MB for p in peaks)},
        {"target": f"lhama markup residue < {100 * TARGET_RESIDUE_SHARE:g}% of non-empty lines", "value": shares,
         "shown": " / ".join(f"{fmt(None if s is None else 100 * s, '.3f')}%" for s in shares),
         "pass": all(s is not None and s < TARGET_RESIDUE_SHARE for s in shares)},
    ]
    same_output = (a1.get("content_sha1") is not None and a1.get("content_sha1") == a2.get("content_sha1"))

    # 5. report
    print()
    print(f"Dump: {dump.name}, {xml_bytes / MB:.1f} MB XML ({dump.stat().st_size / MB:.1f} MB bz2), {total_pages} pages "
          f"{meta['pages_by_kind']}, seed {meta['seed']}")
    if baseline_xml != xml:
        print(f"Baselines (b), (c) over the first {baseline_bytes / MB:.1f} MB ({baseline_pages} pages); "
              "their MB/s and pages/s are over that part")
    print(f"Machine: {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}; "
          "MB = 10^6 bytes of uncompressed XML; pages/s = input pages (all kinds) per second\n")
    print_table(rows)
    print_residue(rows)
    for row in rows:
        if row["key"] == "lhama_w1":
            print_examples(row)
    print("\nRatios:")
    print(f"  (a, 1 worker) / (b) LangChain:        {fmt(ratios['lhama_w1_vs_langchain'], '.2f')}x")
    print(f"  (a, 1 worker) / (c) mwparserfromhell: {fmt(ratios['lhama_w1_vs_mwparserfromhell'], '.2f')}x")
    print(f"  (a, 2 workers) / (a, 1 worker):       {fmt(ratios['lhama_w2_vs_w1'], '.2f')}x")
    print(f"  (a, 1 worker, same uncompressed XML) / (b): {fmt(ratios['lhama_xml_w1_vs_langchain'], '.2f')}x")
    print(f"  1-worker and 2-worker outputs identical: {same_output}")
    if by_key.get("lhama_before_w1"):
        print(f"  before ({args.before_rev}) -> now, 1 worker: {fmt(ratios['lhama_w1_vs_before'], '.2f')}x MB/s; "
              f"2 workers: {fmt(ratios['lhama_w2_vs_before'], '.2f')}x")
        print(f"  (a0, 1 worker, {args.before_rev}) / (b) LangChain:   {fmt(ratios['before_w1_vs_langchain'], '.2f')}x")
        for workers in (1, 2):
            before_row = by_key.get(f"lhama_before_w{workers}", {})
            now_row = by_key.get(f"lhama_w{workers}", {})
            if before_row.get("residue") and now_row.get("residue"):
                print(f"  characters of clean text, {workers} worker(s): before {before_row['manifest']['counts']['characters']}"
                      f", now {now_row['manifest']['counts']['characters']}; articles before "
                      f"{before_row['articles']}, now {now_row['articles']}")
    print("\nTargets:")
    for target in targets:
        print(f"  {'PASS' if target['pass'] else 'FAIL'}  {target['target']}: {target['shown']}")
    for failure in failures:
        print(f"  FAIL  {failure}")
    all_pass = all(target["pass"] for target in targets) and not failures
    total_s = time.perf_counter() - total_started
    print(f"\n{'ALL TARGETS PASS' if all_pass else 'SOME TARGETS FAIL'}  (benchmark took {total_s:.0f} s)")

    report = {
        "dump": {"path": str(dump), "index": str(index), "xml": str(xml), "xml_bytes": xml_bytes, "meta": meta},
        "baseline_input": {"path": str(baseline_xml), "bytes": baseline_bytes, "pages": baseline_pages},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "rows": rows,
        "ratios": ratios,
        "same_output_1_and_2_workers": same_output,
        "targets": targets,
        "failures": failures,
        "all_pass": all_pass,
        "seconds": {"generate": generate_s, "total": total_s},
        "residue_tokens": list(RESIDUE_TOKENS),
    }
    (out_dir / "bench_extract.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0 if all_pass else 1


if __name__ == "__main__":
    sys.exit(main())
