"""Build the embedded sample ptwiki dump from pages.yaml and wikitext/*.wiki.

Writes, by default next to this folder (in resources/):
    ptwiki-sample-pages-articles-multistream.xml.bz2
    ptwiki-sample-pages-articles-multistream-index.txt.bz2

Usage:
    python resources/ptwiki-sample/build.py [--out-dir DIR]

The output is deterministic: pages are sorted by id (as in real dumps), texts are read as UTF-8 and trailing
whitespace is stripped (MediaWiki trims it on save), and bz2 streams carry no timestamps.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from lhama.dump import Page, SiteInfo
from lhama.dump_writer import write_multistream

HERE = Path(__file__).resolve().parent
PAGES_YAML = HERE / "pages.yaml"
WIKITEXT_DIR = HERE / "wikitext"
DUMP_NAME = "ptwiki-sample-pages-articles-multistream.xml.bz2"
INDEX_NAME = "ptwiki-sample-pages-articles-multistream-index.txt.bz2"
PAGES_PER_STREAM = 8
REQUIRED_KEYS = ("id", "revid", "ns", "title", "timestamp", "file")


def load_pages(pages_yaml: Path = PAGES_YAML, wikitext_dir: Path = WIKITEXT_DIR) -> list[Page]:
    """The sample's pages, sorted by id; raises ValueError on an inconsistent pages.yaml."""
    entries = yaml.safe_load(pages_yaml.read_text(encoding="utf-8"))
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{pages_yaml}: expected a non-empty list of pages")
    pages: list[Page] = []
    seen_ids: set[int] = set()
    seen_titles: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        missing = [key for key in REQUIRED_KEYS if key not in entry]
        if missing:
            raise ValueError(f"{pages_yaml}: page #{number} lacks {', '.join(missing)}")
        page_id, title = int(entry["id"]), str(entry["title"])
        if page_id in seen_ids or title in seen_titles:
            raise ValueError(f"{pages_yaml}: duplicate id or title: {page_id} {title!r}")
        seen_ids.add(page_id)
        seen_titles.add(title)
        path = wikitext_dir / entry["file"]
        text = path.read_text(encoding="utf-8").rstrip()
        pages.append(
            Page(
                id=page_id,
                ns=int(entry["ns"]),
                title=title,
                revid=int(entry["revid"]),
                text=text,
                timestamp=str(entry["timestamp"]),
                redirect=entry.get("redirect"),
            )
        )
    return sorted(pages, key=lambda page: page.id)


def build(out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    dump_path, index_path = out_dir / DUMP_NAME, out_dir / INDEX_NAME
    write_multistream(SiteInfo(), load_pages(), dump_path, index_path, pages_per_stream=PAGES_PER_STREAM)
    return dump_path, index_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE.parent,
                        help=f"where to write the dump and its index (default: {HERE.parent})")
    args = parser.parse_args(argv)
    dump_path, index_path = build(args.out_dir)
    for path in (dump_path, index_path):
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
