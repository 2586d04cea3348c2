"""Extraction: a MediaWiki dump to clean articles as JSON Lines shards plus a manifest.

With a multistream index the dump is cut into byte ranges of whole bz2 streams (the plan depends only on the index
and `range_bytes`) and each range is decoded and cleaned by a worker process; results are written in plan order,
so the output is identical whatever the number of workers. Without an index the dump is read sequentially and,
with several workers, batches of pages are cleaned in parallel. Output goes to a temporary folder renamed into
place at the end: a failed run leaves nothing behind.

Each article record also holds its `tables` (rows of labelled cells, and the text they are in the section) and
image `captions` (with their section); the manifest's `templates` counts the templates the kept articles rendered
and, by name with the first article that has it, those dropped unrendered (not in the catalogue).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

import orjson
from tqdm import tqdm

from lhama import __version__
from lhama.dump import (
    ByteRange, DumpReader, Page, RangeXMLError, SiteInfo, decode_range, header_line_count, plan_ranges, range_pages,
    read_header, read_index,
)
from lhama.errors import DumpError, IndexMismatchError, LhamaError
from lhama.download import file_digest
from lhama.files import atomic_dir
from lhama.wikitext import DEFAULT_DROPPED_SECTIONS, TemplateStats, clean, is_disambiguation, is_redirect

log = logging.getLogger(__name__)

SKIP_REASONS = ("namespace", "not_wikitext", "redirect", "disambiguation", "too_short")
MANIFEST = "manifest.json"
# Ranges in flight per worker: results come back in order, so one slow range stalls the pool once the window behind
# it is done; each result waits on disk (a spill file), so a wide window costs no memory.
IN_FLIGHT_PER_WORKER = 8
SHARD_PATTERN = "articles-{:05d}.jsonl"
MAX_DROPPED_TEMPLATES_LISTED = 1000


@dataclass(frozen=True)
class ExtractOptions:
    min_chars: int = 200
    namespaces: tuple[int, ...] = (0,)
    range_bytes: int = 2**20
    articles_per_shard: int = 100_000
    batch_pages: int = 500
    dropped_sections: frozenset[str] = field(default=DEFAULT_DROPPED_SECTIONS)

    def to_json(self) -> dict:
        values = asdict(self)
        values["namespaces"] = list(self.namespaces)
        values["dropped_sections"] = sorted(self.dropped_sections)
        return values


@dataclass
class BatchResult:
    """Serialized articles and counts. From a worker process the articles come back as a spill file, not through
    the pipe: pickling hundreds of MB of JSON into the parent cost more than the parallel speed-up could spare."""

    jsonl: bytes = b""
    spill: str | None = None
    line_ends: list[int] = field(default_factory=list)  # byte offset just past each article's line
    articles: int = 0
    characters: int = 0
    pages: int = 0
    xml_bytes: int = 0
    xml_lines: int = 0  # lines of the decoded range: the extraction places XML errors at their line in the dump
    skipped: Counter = field(default_factory=Counter)
    templates_rendered: int = 0
    templates_dropped: Counter = field(default_factory=Counter)  # template name -> count, over kept articles
    dropped_examples: dict[str, str] = field(default_factory=dict)  # template name -> first article with it


# ---------------------------------------------------------------------------------------------------- conversion


def article_url(prefix: str, title: str) -> str:
    return prefix + quote(title.replace(" ", "_"), safe="/:(),'!*-._~")


def skip_reason(page: Page, options: ExtractOptions) -> str | None:
    if page.ns not in options.namespaces:
        return "namespace"
    if page.model != "wikitext":
        return "not_wikitext"
    if page.redirect is not None or is_redirect(page.text):
        return "redirect"
    if is_disambiguation(page.text):
        return "disambiguation"
    return None


def convert_pages(pages: Iterable[Page], url_prefix: str, options: ExtractOptions) -> BatchResult:
    result = BatchResult()
    lines: list[bytes] = []
    for page in pages:
        result.pages += 1
        reason = skip_reason(page, options)
        if reason is None:
            article = clean(page.text, dropped_sections=options.dropped_sections)
            text = article.text
            if len(text) < options.min_chars:
                reason = "too_short"
            else:
                record = {
                    "id": page.id,
                    "revid": page.revid,
                    "title": page.title,
                    "url": article_url(url_prefix, page.title),
                    "text": text,
                    "sections": [section.to_json() for section in article.sections],
                    "infobox": article.infobox.to_json() if article.infobox else None,
                    "tables": [table.to_json() for table in article.tables],
                    "captions": [caption.to_json() for caption in article.captions],
                }
                lines.append(orjson.dumps(record))
                result.articles += 1
                result.characters += len(text)
                _count_templates(result, article.templates, page.title)
        if reason is not None:
            result.skipped[reason] += 1
    result.jsonl = b"\n".join(lines) + b"\n" if lines else b""
    end = 0
    for line in lines:
        end += len(line) + 1
        result.line_ends.append(end)
    return result


def _count_templates(result: BatchResult, stats: TemplateStats, title: str) -> None:
    result.templates_rendered += stats.rendered
    for name, count in stats.dropped.items():
        result.templates_dropped[name] += count
        result.dropped_examples.setdefault(name, title)


def _convert_range(dump_path: Path, byte_range: ByteRange, opening_tag: str, url_prefix: str,
                   options: ExtractOptions) -> BatchResult:
    decoded = decode_range(dump_path, byte_range)
    pages = range_pages(dump_path, byte_range, opening_tag, decoded)
    result = convert_pages(pages, url_prefix, options)
    result.xml_bytes = sum(len(page.text) for page in pages)
    result.xml_lines = decoded.count(b"\n")
    return result


def _convert_batch(pages: list[Page], url_prefix: str, options: ExtractOptions) -> BatchResult:
    return convert_pages(pages, url_prefix, options)


def _spilled(function: Callable, arguments: tuple, spill_path: str) -> BatchResult:
    """Run a task in a worker; write its articles to `spill_path` and send back only the counts."""
    result = function(*arguments)
    if result.jsonl:
        with open(spill_path, "wb") as handle:
            handle.write(result.jsonl)
        result.spill, result.jsonl = spill_path, b""
    return result


# ---------------------------------------------------------------------------------------------------- output


class ShardWriter:
    """Appends serialized articles to numbered shards of at most `per_shard` articles."""

    def __init__(self, directory: Path, per_shard: int) -> None:
        self.directory = directory
        self.per_shard = per_shard
        self.shards: list[dict] = []
        self._handle = None
        self._in_shard = 0

    def write(self, result: BatchResult) -> None:
        """Append a batch, cutting shards at article boundaries; a spill file is copied in the kernel and removed."""
        if not result.articles:
            return
        source = os.open(result.spill, os.O_RDONLY) if result.spill else None
        try:
            start = written = 0
            while written < result.articles:
                if self._handle is None or self._in_shard >= self.per_shard:
                    self._open_next()
                take = min(self.per_shard - self._in_shard, result.articles - written)
                end = result.line_ends[written + take - 1]
                if source is None:
                    self._handle.write(memoryview(result.jsonl)[start:end])
                else:
                    _copy_range(source, self._handle.fileno(), start, end - start)
                start, written = end, written + take
                self._in_shard += take
                self.shards[-1]["articles"] += take
        finally:
            if source is not None:
                os.close(source)
                os.unlink(result.spill)

    def _open_next(self) -> None:
        self.close()
        name = SHARD_PATTERN.format(len(self.shards))
        self._handle = open(self.directory / name, "wb", buffering=0)
        self.shards.append({"file": name, "articles": 0})
        self._in_shard = 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _copy_range(source: int, target: int, offset: int, count: int) -> None:
    while count > 0:
        copied = os.copy_file_range(source, target, count, offset)
        if copied == 0:
            raise OSError(f"short copy from a spill file ({count} bytes left)")
        offset, count = offset + copied, count - copied


class _BackgroundDigest(threading.Thread):
    """sha1 of the dump while workers decode it (hashlib releases the GIL)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.value: str | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = file_digest(self.path, "sha1")
        except OSError as error:
            self.error = error


# ---------------------------------------------------------------------------------------------------- orchestration


def _ordered_results(tasks: Iterator[tuple[Callable, tuple]], workers: int,
                     on_started: Callable[[], None], spill_dir: Path) -> Iterator[BatchResult]:
    """Run tasks in a process pool, at most IN_FLIGHT_PER_WORKER x workers in flight, yielding results in
    submission order.

    Workers are forked (a Snakemake `script:` has no `__main__` guard, so spawn/forkserver cannot re-import it);
    `on_started` runs once every worker exists, so threads it starts are never forked.
    """
    if workers <= 1:
        on_started()
        for function, arguments in tasks:
            yield function(*arguments)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future] = deque()
        started = False
        for number, (function, arguments) in enumerate(tasks):
            pending.append(pool.submit(_spilled, function, arguments, str(spill_dir / f".spill-{number:08d}.jsonl")))
            if not started:  # with fork, the first submit launches every worker
                on_started()
                started = True
            if len(pending) >= IN_FLIGHT_PER_WORKER * workers:
                yield pending.popleft().result()
        if not started:
            on_started()
        while pending:
            yield pending.popleft().result()


def _batched(pages: Iterable[Page], size: int) -> Iterator[list[Page]]:
    batch: list[Page] = []
    for page in pages:
        batch.append(page)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def extract(
    dump_path: str | Path,
    out_dir: str | Path,
    *,
    index_path: str | Path | None = None,
    workers: int = 1,
    options: ExtractOptions = ExtractOptions(),
    progress: bool = True,
) -> dict:
    """Extract clean articles from a dump into `out_dir`; returns the manifest (also written there)."""
    dump_path, out_dir = Path(dump_path), Path(out_dir)
    if not dump_path.exists():
        raise DumpError(dump_path, "no such file")
    if dump_path.stat().st_size == 0:
        raise DumpError(dump_path, "file is empty")
    with atomic_dir(out_dir) as tmp_dir:
        manifest = _extract_into(dump_path, tmp_dir, index_path, workers, options, progress)
        (tmp_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def _extract_into(dump_path: Path, tmp_dir: Path, index_path: str | Path | None, workers: int,
                  options: ExtractOptions, progress: bool) -> dict:
    started = time.perf_counter()
    size = dump_path.stat().st_size
    digest = _BackgroundDigest(dump_path)
    writer = ShardWriter(tmp_dir, options.articles_per_shard)
    totals = BatchResult()
    bar = tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=f"extract {dump_path.name}",
               disable=None if progress else True, mininterval=1.0)  # None: only on a terminal
    index_info = None
    progress_line = _ProgressLine(started, size)
    try:
        if index_path is not None:
            index_path = Path(index_path)
            entries = read_index(index_path)
            if entries[-1].offset >= size:
                raise IndexMismatchError(
                    dump_path, f"{index_path} points at offset {entries[-1].offset}, beyond the end of the dump "
                    f"({size} bytes): the dump is truncated or the index belongs to another dump")
            siteinfo, opening_tag = read_header(dump_path, entries[0].offset)
            ranges = plan_ranges(entries, size, options.range_bytes)
            url_prefix = siteinfo.article_url_prefix
            tasks = ((_convert_range, (dump_path, r, opening_tag, url_prefix, options)) for r in ranges)
            dump_format = "multistream"
            index_info = {"path": str(index_path), "name": index_path.name,
                          "sha1": file_digest(index_path, "sha1"),
                          "entries": len(entries), "ranges": len(ranges)}
            bar.update(entries[0].offset)
            lines_before = header_line_count(dump_path, entries[0].offset)
            try:
                for byte_range, result in zip(ranges, _ordered_results(tasks, workers, digest.start, tmp_dir)):
                    _accumulate(totals, result, writer)
                    lines_before += result.xml_lines
                    bar.update(byte_range.end - byte_range.start)
                    progress_line(bar, totals.pages, byte_range.end)
            except RangeXMLError as error:  # results come in plan order: every range before this one is counted
                raise error.at_dump_line(lines_before) from None
        else:
            reader = DumpReader(dump_path)
            dump_format = reader.compression
            first_pages = iter(reader)
            siteinfo_holder: list[SiteInfo] = []

            def tasks_from_reader() -> Iterator[tuple[Callable, tuple]]:
                for batch in _batched(first_pages, options.batch_pages):
                    if not siteinfo_holder:
                        siteinfo_holder.append(reader.siteinfo)
                    yield _convert_batch, (batch, siteinfo_holder[0].article_url_prefix, options)

            for result in _ordered_results(tasks_from_reader(), workers, digest.start, tmp_dir):
                _accumulate(totals, result, writer)
                bar.update(reader.bytes_read - bar.n)
                progress_line(bar, totals.pages, reader.bytes_read)
            siteinfo = reader.siteinfo or SiteInfo(namespaces={0: ""})
            if totals.pages == 0:
                raise DumpError(dump_path, "the dump contains no <page> elements")
    finally:
        bar.close()
        writer.close()
    if digest.ident is None:
        digest.run()  # never started: no task ran
    else:
        digest.join()
    if digest.error is not None:
        raise DumpError(dump_path, f"could not read for checksum: {digest.error}")
    elapsed = time.perf_counter() - started
    log.info("extracted %d articles from %d pages of %s in %.1f s (%.1f MB/s compressed, %.0f pages/s)",
             totals.articles, totals.pages, dump_path.name, elapsed, size / 1e6 / max(elapsed, 1e-9),
             totals.pages / max(elapsed, 1e-9))
    if totals.articles == 0:
        log.warning("no article survived filtering in %s", dump_path)
    return {
        "lhama_version": __version__,
        "dump": {
            "path": str(dump_path), "name": dump_path.name, "bytes": size, "sha1": digest.value,
            "format": dump_format, "schema_version": siteinfo.schema_version,
            "siteinfo": {"sitename": siteinfo.sitename, "dbname": siteinfo.dbname, "base": siteinfo.base,
                         "lang": siteinfo.lang},
        },
        "index": index_info,
        "options": options.to_json(),
        "counts": {
            "pages_read": totals.pages,
            "articles": totals.articles,
            "skipped": {reason: totals.skipped.get(reason, 0) for reason in SKIP_REASONS},
            "characters": totals.characters,
        },
        "templates": templates_summary(totals),
        "shards": writer.shards,
    }


def templates_summary(totals: BatchResult, listed: int = MAX_DROPPED_TEMPLATES_LISTED) -> dict:
    """What the templates of the kept articles became: how many rendered, and the ones dropped unrendered (not in
    the catalogue), most frequent first, each with the first article that has it (the same whatever `--workers`)."""
    ranked = sorted(totals.templates_dropped.items(), key=lambda item: (-item[1], item[0]))
    return {
        "rendered": totals.templates_rendered,
        "dropped": sum(totals.templates_dropped.values()),
        "dropped_distinct": len(ranked),
        "dropped_by_name": [{"name": name, "count": count, "example": totals.dropped_examples[name]}
                            for name, count in ranked[:listed]],
    }


class _ProgressLine:
    """pages/s on the bar; on a non-terminal (SLURM logs) a log line every `every_s` seconds instead."""

    def __init__(self, started: float, size: int, every_s: float = 30.0) -> None:
        self.started, self.size, self.every_s = started, size, every_s
        self.last = started

    def __call__(self, bar: tqdm, pages: int, done_bytes: int) -> None:
        now = time.perf_counter()
        elapsed = max(now - self.started, 1e-9)
        bar.set_postfix(pages=pages, pages_s=f"{pages / elapsed:.0f}", refresh=False)
        if bar.disable and now - self.last >= self.every_s:
            self.last = now
            log.info("%.1f%% of %.0f MB, %d pages, %.0f pages/s, %.1f MB/s", 100 * done_bytes / self.size,
                     self.size / 1e6, pages, pages / elapsed, done_bytes / 1e6 / elapsed)


def _accumulate(totals: BatchResult, result: BatchResult, writer: ShardWriter) -> None:
    writer.write(result)
    totals.articles += result.articles
    totals.characters += result.characters
    totals.pages += result.pages
    totals.skipped.update(result.skipped)
    totals.templates_rendered += result.templates_rendered
    totals.templates_dropped.update(result.templates_dropped)
    for name, title in result.dropped_examples.items():
        totals.dropped_examples.setdefault(name, title)


# ---------------------------------------------------------------------------------------------------- reading back


def read_manifest(articles_dir: str | Path) -> dict:
    path = Path(articles_dir) / MANIFEST
    if not path.exists():
        raise LhamaError(f"{articles_dir}: not an extracted corpus (no {MANIFEST}); run `lhama extract` first")
    return json.loads(path.read_text(encoding="utf-8"))


def iter_articles(articles_dir: str | Path) -> Iterator[dict]:
    """Articles in extraction order, shard by shard."""
    articles_dir = Path(articles_dir)
    for shard in read_manifest(articles_dir)["shards"]:
        with open(articles_dir / shard["file"], encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)
