"""Dump download: URL derivation, checksums, and fetching from a loopback HTTP server (resume, retries, mismatch)."""

from __future__ import annotations

import hashlib
import logging
import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from lhama.download import (
    DownloadedDump, DumpUrls, derive_urls, download_dump, fetch, file_digest, lookup_digest, parse_checksums,
    part_path,
)
from lhama.errors import DownloadError

WIKI, RUN = "ptwiki", "20231120"
DUMP = f"{WIKI}-{RUN}-pages-articles-multistream.xml.bz2"
INDEX = f"{WIKI}-{RUN}-pages-articles-multistream-index.txt.bz2"
SHA1SUMS = f"{WIKI}-{RUN}-sha1sums.txt"
DUMP_SIZE = 300_000


# ------------------------------------------------------------------------------------------------ loopback server


@dataclass
class Served:
    """What the test server holds, what it was asked, and how it misbehaves."""

    root: Path
    base: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    cut_after: dict[str, int] = field(default_factory=dict)  # path -> K: its next answer closes after K body bytes
    ignore_range: bool = False

    def url(self, rel: str) -> str:
        return f"{self.base}/{rel}"

    def seen(self, rel: str) -> list[dict[str, str]]:
        return [headers for path, headers in self.requests if path == rel]


def make_handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            rel = unquote(urlsplit(self.path).path).lstrip("/")
            served.requests.append((rel, {key.lower(): value for key, value in self.headers.items()}))
            file = served.root / rel
            if not rel or not file.is_file():
                self.send_error(404)
                return
            data = file.read_bytes()
            start = 0
            wanted = self.headers.get("Range")
            if wanted and not served.ignore_range:
                start = int(re.fullmatch(r"bytes=(\d+)-", wanted)[1])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            body = data[start:]
            cut = served.cut_after.pop(rel, None)
            if cut is not None:
                body = body[:cut]
                self.close_connection = True
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # keep pytest output quiet
            pass

    return Handler


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """A dated ptwiki run (random "dump", small "index", sha1sums + md5sums) on http://127.0.0.1:PORT/."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LHAMA_HTTP_TOKEN", raising=False)
    root = tmp_path / "server"
    run_dir = root / WIKI / RUN
    run_dir.mkdir(parents=True)
    rng = random.Random(1234)
    files = {DUMP: rng.randbytes(DUMP_SIZE), INDEX: b"600:1:Portugal\n600:2:Brasil\n"}
    for name, data in files.items():
        (run_dir / name).write_bytes(data)
    for algorithm in ("sha1", "md5"):
        lines = [f"{hashlib.new(algorithm, data).hexdigest()}  {name}" for name, data in files.items()]
        lines.append(f"{hashlib.new(algorithm, b'other').hexdigest()}  {WIKI}-{RUN}-pages-meta-current.xml.bz2")
        (run_dir / f"{WIKI}-{RUN}-{algorithm}sums.txt").write_text("\n".join(lines) + "\n")

    state = Served(root=root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def dump_url(served: Served) -> str:
    return served.url(f"{WIKI}/{RUN}/{DUMP}")


def original(served: Served, name: str) -> bytes:
    return (served.root / WIKI / RUN / name).read_bytes()


def no_parts(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.part"))


# ------------------------------------------------------------------------------------------------ derive_urls


def test_derive_urls_dated() -> None:
    base = "https://dumps.wikimedia.org/ptwiki/20231120/"
    assert derive_urls(base + DUMP) == DumpUrls(
        dump=base + DUMP, index=base + INDEX, checksums=base + "ptwiki-20231120-sha1sums.txt")
    assert derive_urls(base + DUMP, algorithm="md5").checksums == base + "ptwiki-20231120-md5sums.txt"


def test_derive_urls_latest() -> None:
    base = "https://dumps.wikimedia.org/ptwiki/latest/"
    urls = derive_urls(base + "ptwiki-latest-pages-articles-multistream.xml.bz2")
    assert urls.index == base + "ptwiki-latest-pages-articles-multistream-index.txt.bz2"
    assert urls.checksums == base + "ptwiki-latest-sha1sums.txt"


@pytest.mark.parametrize("mirror", ["https://mirror.example.org/wikimedia/", "https://mirror.example.org/wikimedia"])
def test_derive_urls_mirror(mirror: str) -> None:
    urls = derive_urls(f"https://dumps.wikimedia.org/ptwiki/20231120/{DUMP}", mirror)
    base = "https://mirror.example.org/wikimedia/ptwiki/20231120/"
    assert urls == DumpUrls(dump=base + DUMP, index=base + INDEX, checksums=base + "ptwiki-20231120-sha1sums.txt")


def test_derive_urls_mirror_keeps_only_the_wikimedia_layout() -> None:
    url = f"https://ftp.example.se/pub/wikimedia/dumps/ptwiki/20231120/{DUMP}"
    assert derive_urls(url, "http://127.0.0.1:8000/").dump == f"http://127.0.0.1:8000/ptwiki/20231120/{DUMP}"


def test_derive_urls_plain_dump_has_no_index() -> None:
    base = "https://dumps.wikimedia.org/ptwiki/20231120/"
    urls = derive_urls(base + "ptwiki-20231120-pages-articles.xml.bz2")
    assert urls.index is None
    assert urls.checksums == base + "ptwiki-20231120-sha1sums.txt"
    assert derive_urls(base + "ptwiki-20231120-pages-articles.xml").index is None


@pytest.mark.parametrize("url, words", [
    ("https://dumps.wikimedia.org/ptwiki/20231120/ptwiki-20231120-pages-articles-multistream1.xml-p1p1000.bz2",
     "not a dump file"),
    ("https://dumps.wikimedia.org/ptwiki/20231120/ptwiki-20231120-pages-meta-history.xml.7z", "not a dump file"),
    (f"https://dumps.wikimedia.org/ptwiki/20231120/{INDEX}", "index"),
    ("https://example.org/dumps/wikipedia.xml.bz2", "checksum file"),
    ("ftp://dumps.wikimedia.org/ptwiki/20231120/" + DUMP, "http"),
    ("https://dumps.wikimedia.org/ptwiki/20231120/", "not a dump file"),
])
def test_derive_urls_rejects(url: str, words: str) -> None:
    with pytest.raises(DownloadError, match=re.escape(words)) as caught:
        derive_urls(url)
    assert caught.value.url == url


def test_derive_urls_rejects_bad_mirror_and_algorithm() -> None:
    url = f"https://dumps.wikimedia.org/ptwiki/20231120/{DUMP}"
    with pytest.raises(DownloadError, match="mirror"):
        derive_urls(url, "mirror.example.org/wikimedia")
    with pytest.raises(DownloadError, match="sha256"):
        derive_urls(url, algorithm="sha256")


# ------------------------------------------------------------------------------------------------ checksums


def test_parse_checksums_and_latest_lookup() -> None:
    text = (f"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709  {DUMP}\n\n"
            f"0123456789abcdef0123456789abcdef01234567 *{INDEX}\n")
    sums = parse_checksums(text)
    assert sums == {DUMP: "da39a3ee5e6b4b0d3255bfef95601890afd80709", INDEX: "0123456789abcdef0123456789abcdef01234567"}
    # The latest/ sums file is the dated run's: a latest name finds the dated line it links to.
    assert lookup_digest(sums, "ptwiki-latest-pages-articles-multistream.xml.bz2") == sums[DUMP]
    assert lookup_digest(sums, DUMP) == sums[DUMP]
    assert lookup_digest(sums, "ptwiki-latest-pages-articles.xml.bz2") is None


def test_parse_checksums_rejects_garbage() -> None:
    with pytest.raises(DownloadError, match="line 2") as caught:
        parse_checksums(f"{'a' * 40}  {DUMP}\n<html>not found</html>\n", source="http://x/sums.txt")
    assert caught.value.url == "http://x/sums.txt"
    with pytest.raises(DownloadError, match="twice"):
        parse_checksums(f"{'a' * 40}  {DUMP}\n{'b' * 40}  {DUMP}\n")


def test_file_digest_streams(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(3 * (1 << 20) + 123)  # more than one 1 MiB chunk
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert file_digest(path, "sha1") == hashlib.sha1(data).hexdigest()
    assert file_digest(path, "md5") == hashlib.md5(data).hexdigest()
    with pytest.raises(DownloadError, match="algorithm"):
        file_digest(path, "nope")


# ------------------------------------------------------------------------------------------------ download_dump


def test_download_dump_full(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "dumps"
    result = download_dump(dump_url(served), dest, progress=False)
    assert result == DownloadedDump(dump=dest / DUMP, index=dest / INDEX, checksums=dest / SHA1SUMS)
    assert result.dump.read_bytes() == original(served, DUMP)
    assert result.index.read_bytes() == original(served, INDEX)
    assert result.checksums.read_bytes() == original(served, SHA1SUMS)
    assert file_digest(result.dump, "sha1") == hashlib.sha1(original(served, DUMP)).hexdigest()
    assert no_parts(dest) == []
    assert [path for path, _ in served.requests] == [f"{WIKI}/{RUN}/{name}" for name in (SHA1SUMS, DUMP, INDEX)]
    user_agent = served.seen(f"{WIKI}/{RUN}/{DUMP}")[0]["user-agent"]
    assert "lhama" in user_agent


def test_download_dump_md5_through_mirror(served: Served, tmp_path: Path) -> None:
    """The mirror's copy of the /WIKI/DATE/ layout is used for all three files."""
    url = f"https://dumps.wikimedia.org/{WIKI}/{RUN}/{DUMP}"
    result = download_dump(url, tmp_path / "d", mirror=served.base + "/", algorithm="md5", progress=False)
    assert result.checksums.name == f"{WIKI}-{RUN}-md5sums.txt"
    assert result.dump.read_bytes() == original(served, DUMP)


def test_present_verified_files_are_not_downloaded_again(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "dumps"
    download_dump(dump_url(served), dest, progress=False)
    served.requests.clear()
    download_dump(dump_url(served), dest, progress=False)
    assert [path for path, _ in served.requests] == [f"{WIKI}/{RUN}/{SHA1SUMS}"]


def test_present_stale_file_is_replaced(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "dumps"
    dest.mkdir()
    (dest / DUMP).write_bytes(b"an older run")
    result = download_dump(dump_url(served), dest, progress=False)
    assert result.dump.read_bytes() == original(served, DUMP)


def test_download_dump_latest_directory(served: Served, tmp_path: Path) -> None:
    """latest/ holds WIKI-latest-* names, but its sums file lists the dated names (it is the dated run's)."""
    latest = served.root / WIKI / "latest"
    latest.mkdir()
    for name in (DUMP, INDEX):
        (latest / name.replace(RUN, "latest")).write_bytes(original(served, name))
    (latest / f"{WIKI}-latest-sha1sums.txt").write_bytes(original(served, SHA1SUMS))
    url = served.url(f"{WIKI}/latest/{WIKI}-latest-pages-articles-multistream.xml.bz2")
    result = download_dump(url, tmp_path / "d", progress=False)
    assert result.dump.name == f"{WIKI}-latest-pages-articles-multistream.xml.bz2"
    assert result.dump.read_bytes() == original(served, DUMP)
    assert result.index is not None and result.index.read_bytes() == original(served, INDEX)


def test_resume_after_cut_on_a_later_run(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "dumps"
    cut = 123_457
    served.cut_after[f"{WIKI}/{RUN}/{DUMP}"] = cut
    with pytest.raises(DownloadError, match=r"short read.*123457 of 300000") as caught:
        download_dump(dump_url(served), dest, retries=0, progress=False)
    assert caught.value.url == dump_url(served)
    part = part_path(dest / DUMP)
    assert part.stat().st_size == cut and not (dest / DUMP).exists()

    download_dump(dump_url(served), dest, retries=0, progress=False)
    ranges = [headers.get("range") for headers in served.seen(f"{WIKI}/{RUN}/{DUMP}")]
    assert ranges == [None, f"bytes={cut}-"]
    assert (dest / DUMP).read_bytes() == original(served, DUMP)
    assert no_parts(dest) == []


def test_retry_resumes_within_one_call(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "dumps"
    served.cut_after[f"{WIKI}/{RUN}/{DUMP}"] = 50_000
    download_dump(dump_url(served), dest, retries=2, backoff=0.0, progress=False)
    ranges = [headers.get("range") for headers in served.seen(f"{WIKI}/{RUN}/{DUMP}")]
    assert ranges == [None, "bytes=50000-"]
    assert (dest / DUMP).read_bytes() == original(served, DUMP)


def test_complete_part_is_finished_on_416(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "dump.bin"
    part_path(dest).write_bytes(original(served, DUMP))
    fetch(dump_url(served), dest, retries=0, progress=False)
    assert dest.read_bytes() == original(served, DUMP) and not part_path(dest).exists()
    ranges = [headers.get("range") for headers in served.seen(f"{WIKI}/{RUN}/{DUMP}")]
    assert ranges == [f"bytes={DUMP_SIZE}-"]  # the 416 finished it: nothing downloaded again


def test_checksum_mismatch_deletes_the_file(served: Served, tmp_path: Path) -> None:
    sums = served.root / WIKI / RUN / SHA1SUMS
    wrong = "0" * 40
    sums.write_text(re.sub(rf"^[0-9a-f]{{40}}(  {re.escape(DUMP)})$", wrong + r"\1", sums.read_text(), flags=re.M))
    actual = hashlib.sha1(original(served, DUMP)).hexdigest()
    dest = tmp_path / "dumps"
    with pytest.raises(DownloadError) as caught:
        download_dump(dump_url(served), dest, progress=False)
    message = str(caught.value)
    assert DUMP in message and wrong in message and actual in message
    assert not (dest / DUMP).exists() and not part_path(dest / DUMP).exists()
    assert no_parts(dest) == []


def test_file_missing_from_checksums_is_named(served: Served, tmp_path: Path) -> None:
    sums = served.root / WIKI / RUN / SHA1SUMS
    sums.write_text("".join(line for line in sums.read_text().splitlines(True) if INDEX not in line))
    with pytest.raises(DownloadError, match=re.escape(INDEX)):
        download_dump(dump_url(served), tmp_path / "d", progress=False)
    assert served.seen(f"{WIKI}/{RUN}/{DUMP}") == []  # failed before the large download


def test_http_404_names_the_url(served: Served, tmp_path: Path) -> None:
    missing = served.url(f"{WIKI}/{RUN}/nothing-here.bin")
    with pytest.raises(DownloadError, match="404") as caught:
        fetch(missing, tmp_path / "nothing-here.bin", retries=3, backoff=0.0, progress=False)
    assert caught.value.url == missing and missing in str(caught.value)
    assert len(served.seen(f"{WIKI}/{RUN}/nothing-here.bin")) == 1  # a 404 is not retried
    assert no_parts(tmp_path) == [] and not (tmp_path / "nothing-here.bin").exists()

    absent_run = served.url(f"{WIKI}/20990101/{WIKI}-20990101-pages-articles-multistream.xml.bz2")
    with pytest.raises(DownloadError, match="404") as caught:
        download_dump(absent_run, tmp_path / "d", progress=False)
    assert caught.value.url == served.url(f"{WIKI}/20990101/{WIKI}-20990101-sha1sums.txt")


def test_server_ignoring_range_still_gives_the_right_file(served: Served, tmp_path: Path) -> None:
    served.ignore_range = True
    dest = tmp_path / "dumps"
    dest.mkdir()
    part_path(dest / DUMP).write_bytes(b"stale bytes that must not survive")
    served.cut_after[f"{WIKI}/{RUN}/{DUMP}"] = 70_000  # and a cut, so the retry asks for a Range it will not get
    download_dump(dump_url(served), dest, retries=3, backoff=0.0, progress=False)
    assert (dest / DUMP).read_bytes() == original(served, DUMP)
    ranges = [headers.get("range") for headers in served.seen(f"{WIKI}/{RUN}/{DUMP}")]
    assert ranges == ["bytes=33-", "bytes=70000-"]
    assert no_parts(dest) == []


def test_token_is_sent_but_never_logged(served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    token = "s3cr3t-t0ken-value"
    monkeypatch.setenv("LHAMA_HTTP_TOKEN", token)
    served.cut_after[f"{WIKI}/{RUN}/{DUMP}"] = 10_000  # exercise the retry/warning paths too
    with caplog.at_level(logging.DEBUG, logger="lhama.download"):
        download_dump(dump_url(served), tmp_path / "d", retries=1, backoff=0.0)
    assert {headers.get("authorization") for _, headers in served.requests} == {f"Bearer {token}"}
    captured = capsys.readouterr()
    assert caplog.records and token not in caplog.text
    assert token not in captured.out + captured.err
