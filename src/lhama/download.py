"""Fetching a Wikimedia dump, its multistream index and the mirror's checksum file (login-node step).

Wikimedia lays a run out as `/WIKI/DATE/WIKI-DATE-<kind>` plus `WIKI-DATE-sha1sums.txt` / `-md5sums.txt` (lines
`<hexdigest>  <filename>`). The `/WIKI/latest/` directory holds `WIKI-latest-<kind>` links to the last complete run
and `WIKI-latest-sha1sums.txt`, whose lines still name the *dated* files, so a `latest` file is looked up in it with
its date replaced by `latest` (`lookup_digest`).

Pure helpers (`derive_urls`, `parse_checksums`, `lookup_digest`) are separate from the I/O (`fetch`, `file_digest`,
`download_dump`). `fetch` streams into `<dest>.part`, resumes it with `Range: bytes=N-`, retries connection errors
and short reads with exponential backoff, and renames the part to `dest` only when it is complete. `download_dump`
verifies every file against the checksum file and deletes one that does not match. Every failure is a
`DownloadError(url, problem)`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from lhama import __version__
from lhama.errors import DownloadError

log = logging.getLogger("lhama.download")

USER_AGENT = f"lhama/{__version__} (Wikipedia dump downloader; Python urllib)"
TOKEN_ENV = "LHAMA_HTTP_TOKEN"
ALGORITHMS = ("sha1", "md5")  # what Wikimedia and its mirrors publish
CHUNK = 1 << 20  # 1 MiB
PROGRESS_LOG_SECONDS = 30.0

MULTISTREAM_SUFFIX = "-multistream.xml.bz2"
INDEX_SUFFIX = "-index.txt.bz2"
# WIKI-DATE-rest or WIKI-latest-rest; database names (ptwiki, zh_min_nanwiki, wikidatawiki) have no hyphen.
DUMP_NAME = re.compile(r"(?P<wiki>[A-Za-z0-9_]+)-(?P<run>\d{8}|latest)-(?P<rest>.+)")
DATED = re.compile(r"-\d{8}-")
CHECKSUM_LINE = re.compile(r"(?P<digest>[0-9A-Fa-f]+)[ \t]+\*?(?P<name>\S.*)")
CONTENT_RANGE = re.compile(r"bytes\s+(?:(?P<start>\d+)-(?P<end>\d+)|\*)/(?P<total>\d+|\*)")
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class DumpUrls:
    dump: str
    index: str | None  # None for a plain (non-multistream) .xml / .xml.bz2 dump
    checksums: str


@dataclass(frozen=True)
class DownloadedDump:
    dump: Path
    index: Path | None
    checksums: Path


# ------------------------------------------------------------------------------------------------------ pure helpers


def derive_urls(url: str, mirror: str | None = None, *, algorithm: str = "sha1") -> DumpUrls:
    """The dump, index and checksum-file URLs for a dump URL, optionally moved onto a mirror.

    Accepted: `.../WIKI-(YYYYMMDD|latest)-pages-articles-multistream.xml.bz2` (index derived) and any other
    `WIKI-(YYYYMMDD|latest)-*.xml.bz2` / `*.xml` dump (no index: `index=None`). Anything else (split `...xml-pN.bz2`
    files, `.7z`, the index itself, names without the `WIKI-RUN-` prefix the checksum file is named from) is a
    DownloadError. With `mirror`, the `WIKI/RUN/FILE` tail of the path (the whole path when it does not have that
    layout) is appended to the mirror base URL.
    """
    if algorithm not in ALGORITHMS:
        raise DownloadError(url, f"unknown checksum algorithm {algorithm!r} (use one of {', '.join(ALGORITHMS)})")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DownloadError(url, "not an http(s) URL of a dump")
    if parts.query or parts.fragment:
        raise DownloadError(url, "a dump URL has no query string or fragment")
    segments = [segment for segment in parts.path.split("/") if segment]
    name = segments[-1] if segments else ""
    if name.endswith(INDEX_SUFFIX):
        raise DownloadError(url, "this is a multistream index; give the dump URL (...-multistream.xml.bz2)")
    if not name.endswith((".xml.bz2", ".xml")):
        raise DownloadError(
            url, "not a dump file: expected WIKI-DATE-pages-articles-multistream.xml.bz2 (its index is derived) "
                 "or a plain .xml.bz2 / .xml dump (no index); split and .7z dumps are not supported")
    match = DUMP_NAME.fullmatch(name)
    if not match:
        raise DownloadError(
            url, f"cannot derive the checksum file: {name!r} does not start with WIKI-YYYYMMDD- or WIKI-latest-")
    wiki, run = match["wiki"], match["run"]

    if mirror is None:
        base = f"{parts.scheme}://{parts.netloc}/{'/'.join(segments[:-1])}"
    else:
        mirror_parts = urlsplit(mirror)
        if mirror_parts.scheme not in ("http", "https") or not mirror_parts.netloc:
            raise DownloadError(mirror, "mirror is not an http(s) base URL")
        if mirror_parts.query or mirror_parts.fragment:
            raise DownloadError(mirror, "a mirror base URL has no query string or fragment")
        wikimedia_layout = len(segments) >= 3 and segments[-3] == wiki and segments[-2] == run
        directory = segments[-3:-1] if wikimedia_layout else segments[:-1]
        base = "/".join([mirror.rstrip("/"), *directory])
    base = base.rstrip("/") + "/"

    index = base + name[: -len(".xml.bz2")] + INDEX_SUFFIX if name.endswith(MULTISTREAM_SUFFIX) else None
    return DumpUrls(dump=base + name, index=index, checksums=f"{base}{wiki}-{run}-{algorithm}sums.txt")


def parse_checksums(text: str, *, source: str = "checksum file") -> dict[str, str]:
    """`<hexdigest>  <filename>` lines (sha1sum/md5sum format) -> {filename: lowercase hexdigest}.

    Blank lines are skipped; a malformed line, or a file listed twice with different digests, is a DownloadError
    naming `source` (the URL or path the text came from).
    """
    checksums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = CHECKSUM_LINE.fullmatch(line.strip())
        if not match:
            raise DownloadError(source, f"line {number} is not '<hexdigest>  <filename>': {line[:80]!r}")
        name, digest = match["name"], match["digest"].lower()
        if checksums.get(name, digest) != digest:
            raise DownloadError(source, f"line {number}: {name} is listed twice with different digests")
        checksums[name] = digest
    return checksums


def lookup_digest(checksums: dict[str, str], filename: str) -> str | None:
    """The expected digest of `filename`: its own line, or for a `WIKI-latest-...` name the dated line it links to."""
    if filename in checksums:
        return checksums[filename]
    if "-latest-" not in filename:
        return None
    digests = {digest for name, digest in checksums.items() if DATED.sub("-latest-", name, count=1) == filename}
    return digests.pop() if len(digests) == 1 else None


def part_path(dest: Path) -> Path:
    return dest.with_suffix(dest.suffix + ".part")


# ------------------------------------------------------------------------------------------------------------- I/O


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    try:
        digest = hashlib.new(algorithm)
    except ValueError:
        raise DownloadError(str(path), f"unknown checksum algorithm {algorithm!r}") from None
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _Transient(Exception):
    """A failure worth retrying (connection error, timeout, short read, 5xx); never leaves this module."""


class _StartOver(Exception):
    """The part on disk cannot be resumed (server sent a different range or total); delete it and start again."""


def _request(url: str, offset: int) -> urllib.request.Request:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    token = os.environ.get(TOKEN_ENV)
    if token:
        # Unredirected: urllib does not carry it to whatever host a redirect points at. Never logged.
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    return request


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(start, total) from `bytes START-END/TOTAL` or `bytes */TOTAL`; None for what is absent or unparsable."""
    match = CONTENT_RANGE.fullmatch(value.strip()) if value else None
    if not match:
        return None, None
    start = int(match["start"]) if match["start"] is not None else None
    total = int(match["total"]) if match["total"] != "*" else None
    return start, total


def _fetch_once(url: str, part: Path, *, timeout: float, progress: bool) -> None:
    """One request: append to (or restart) `part` until the server's total is reached.

    Returns when the part is complete; raises _Transient, _StartOver or DownloadError.
    """
    offset = part.stat().st_size if part.exists() else 0
    opener = urllib.request.build_opener()  # per call: proxies come from the environment at call time
    try:
        response = opener.open(_request(url, offset), timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and offset:
            _, total = _content_range(error.headers.get("Content-Range"))
            if total == offset:
                log.info("download already complete url=%s bytes=%d", url, offset)
                return
            raise _StartOver(f"server refused Range bytes={offset}- (its size: {total if total else 'unknown'})")
        if error.code in RETRYABLE_STATUS:
            raise _Transient(f"HTTP {error.code} {error.reason}") from None
        raise DownloadError(url, f"HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, HTTPException, OSError) as error:
        raise _Transient(f"{type(error).__name__}: {getattr(error, 'reason', error)}") from None

    with response:
        if response.status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != offset:
                raise _StartOver(f"asked for bytes={offset}-, server sent Content-Range "
                                 f"{response.headers.get('Content-Range')!r}")
            mode = "ab"
            if offset:
                log.info("download resume url=%s from_bytes=%d total_bytes=%s", url, offset, total)
        elif response.status == 200:
            if offset:
                log.warning("download restart url=%s reason=server ignored Range (HTTP 200); discarding %d bytes",
                            url, offset)
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        else:
            raise DownloadError(url, f"unexpected HTTP {response.status} {response.reason}")
        if offset == 0:
            log.info("download start url=%s dest=%s total_bytes=%s", url, part.with_suffix(""), total)

        received = 0
        started = last_log = time.monotonic()
        bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1000, desc=part.stem,
                   disable=not progress, leave=False, mininterval=0.5)
        try:
            with bar, open(part, mode) as sink:
                while True:
                    try:
                        chunk = response.read(CHUNK)
                    except (HTTPException, OSError) as error:
                        raise _Transient(f"connection lost after {offset + received} bytes "
                                         f"({type(error).__name__}: {error})") from None
                    if not chunk:
                        break
                    sink.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
                    now = time.monotonic()
                    if now - last_log >= PROGRESS_LOG_SECONDS:
                        log.info("download progress url=%s bytes=%d total_bytes=%s rate_MBps=%.2f", url,
                                 offset + received, total, received / 1e6 / max(now - started, 1e-9))
                        last_log = now
                sink.flush()
                os.fsync(sink.fileno())
        finally:
            elapsed = max(time.monotonic() - started, 1e-9)
            log.debug("download transfer url=%s received_bytes=%d seconds=%.2f rate_MBps=%.2f", url, received,
                      elapsed, received / 1e6 / elapsed)

    size = part.stat().st_size
    if total is not None and size < total:
        raise _Transient(f"short read: connection closed after {size} of {total} bytes")
    if total is not None and size > total:
        raise _StartOver(f"partial file has {size} bytes, more than the server's {total}")


def fetch(url: str, dest: Path, *, timeout: float = 60.0, retries: int = 3, progress: bool = True,
          backoff: float = 1.0) -> Path:
    """Download `url` to `dest` through `dest.part`, resuming an existing part; returns `dest`.

    A 206 answer is appended to the part; a 200 answer (server ignored Range) starts it over; a 416 with the part's
    size as total means the part was already complete. Connection errors, timeouts, 5xx/429 and short reads are
    retried `retries` times (waiting `backoff`, 2×`backoff`, ...), each retry resuming from what is on disk. The part
    is renamed to `dest` only when complete (total from Content-Length / Content-Range when the server gives one).
    On final failure the part is kept so the next call resumes it.
    """
    dest = Path(dest)
    part = part_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = restarts = 0
    while True:
        try:
            _fetch_once(url, part, timeout=timeout, progress=progress)
            break
        except _StartOver as reason:
            restarts += 1
            part.unlink(missing_ok=True)
            if restarts > 2:
                raise DownloadError(url, f"cannot resume: {reason}") from None
            log.warning("download restart url=%s reason=%s", url, reason)
        except _Transient as reason:
            kept = part.stat().st_size if part.exists() else 0
            if failures >= retries:
                kept_note = f"; {kept} bytes kept in {part}, the next run resumes from there" if kept else ""
                raise DownloadError(url, f"{reason} (gave up after {failures + 1} attempts{kept_note})") from None
            failures += 1
            delay = backoff * 2 ** (failures - 1)
            log.warning("download retry url=%s attempt=%d/%d wait_s=%.1f kept_bytes=%d reason=%s", url,
                        failures, retries, delay, kept, reason)
            time.sleep(delay)
    os.replace(part, dest)
    log.info("download complete url=%s dest=%s bytes=%d", url, dest, dest.stat().st_size)
    return dest


def download_dump(url: str, dest_dir: Path, *, mirror: str | None = None, algorithm: str = "sha1",
                  timeout: float = 60.0, retries: int = 3, progress: bool = True,
                  backoff: float = 1.0) -> DownloadedDump:
    """Fetch the checksum file, then the dump and its index, into `dest_dir` (file names as on the server); verify.

    The checksum file is always fetched afresh (it changes with `latest` and grows during a run). A dump or index
    already in `dest_dir` that matches it is kept without downloading; one that does not is replaced. A downloaded
    file whose digest does not match is deleted and raises DownloadError naming the file and both digests; a file
    missing from the checksum list raises before anything large is downloaded.
    """
    urls = derive_urls(url, mirror, algorithm=algorithm)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    options = {"timeout": timeout, "retries": retries, "progress": progress, "backoff": backoff}

    checksum_path = dest_dir / _basename(urls.checksums)
    part_path(checksum_path).unlink(missing_ok=True)  # never resume a file that changes between runs
    fetch(urls.checksums, checksum_path, **options)
    checksums = parse_checksums(checksum_path.read_text(encoding="utf-8", errors="replace"), source=urls.checksums)

    wanted = [(urls.dump, "dump"), *([(urls.index, "index")] if urls.index else [])]
    expected: dict[str, str] = {}
    for file_url, _ in wanted:
        name = _basename(file_url)
        digest = lookup_digest(checksums, name)
        if digest is None:
            raise DownloadError(urls.checksums, f"{name} is not listed in {checksum_path.name} "
                                                f"({len(checksums)} entries); cannot verify it")
        expected[file_url] = digest

    paths: dict[str, Path] = {}
    for file_url, role in wanted:
        path = dest_dir / _basename(file_url)
        paths[role] = path
        if path.exists():
            actual = file_digest(path, algorithm)
            if actual == expected[file_url]:
                log.info("verified %s present path=%s %s=%s (not downloaded again)", role, path, algorithm, actual)
                continue
            log.warning("%s present but does not match %s path=%s; downloading again", role, checksum_path.name, path)
            path.unlink()
        fetch(file_url, path, **options)
        actual = file_digest(path, algorithm)
        if actual != expected[file_url]:
            path.unlink(missing_ok=True)
            part_path(path).unlink(missing_ok=True)
            raise DownloadError(file_url, f"{algorithm} mismatch for {path.name}: expected {expected[file_url]}, "
                                          f"got {actual} (per {checksum_path.name}); the file was deleted")
        log.info("verified %s path=%s %s=%s", role, path, algorithm, actual)
    return DownloadedDump(dump=paths["dump"], index=paths.get("index"), checksums=checksum_path)


def _basename(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]
