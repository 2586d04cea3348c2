"""Writing MediaWiki XML dumps, plain or multistream with its index: the sample dump, the synthetic benchmark dumps
and the test fixtures are made with it."""

from __future__ import annotations

import bz2
import html
from collections.abc import Iterable
from pathlib import Path

from lhama.dump import FOOTER_XML, Page, SiteInfo


def _xml_text(value: str) -> str:
    return html.escape(value, quote=False)


def header_xml(site: SiteInfo) -> str:
    namespaces = "\n".join(
        f'      <namespace key="{key}" case="first-letter"' + (f">{_xml_text(name)}</namespace>" if name else " />")
        for key, name in sorted(site.namespaces.items())
    )
    return (
        f'<mediawiki xmlns="{site.xmlns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{site.xmlns} http://www.mediawiki.org/xml/export-{site.schema_version}.xsd" '
        f'version="{site.schema_version}" xml:lang="{site.lang}">\n'
        "  <siteinfo>\n"
        f"    <sitename>{_xml_text(site.sitename)}</sitename>\n"
        f"    <dbname>{site.dbname}</dbname>\n"
        f"    <base>{_xml_text(site.base)}</base>\n"
        f"    <generator>{_xml_text(site.generator)}</generator>\n"
        "    <case>first-letter</case>\n"
        "    <namespaces>\n"
        f"{namespaces}\n"
        "    </namespaces>\n"
        "  </siteinfo>\n"
    )


def page_xml(page: Page) -> str:
    import hashlib

    encoded = page.text.encode("utf-8")
    sha1 = hashlib.sha1(encoded).hexdigest()
    redirect = f'    <redirect title="{html.escape(page.redirect)}" />\n' if page.redirect else ""
    return (
        "  <page>\n"
        f"    <title>{_xml_text(page.title)}</title>\n"
        f"    <ns>{page.ns}</ns>\n"
        f"    <id>{page.id}</id>\n"
        f"{redirect}"
        "    <revision>\n"
        f"      <id>{page.revid}</id>\n"
        f"      <timestamp>{page.timestamp}</timestamp>\n"
        f"      <contributor>\n        <username>{_xml_text(page.contributor)}</username>\n"
        "        <id>1</id>\n      </contributor>\n"
        f"      <model>{page.model}</model>\n"
        "      <format>text/x-wiki</format>\n"
        f'      <text bytes="{len(encoded)}" sha1="{sha1}" xml:space="preserve">{_xml_text(page.text)}</text>\n'
        f"      <sha1>{sha1}</sha1>\n"
        "    </revision>\n"
        "  </page>\n"
    )


def write_xml(site: SiteInfo, pages: Iterable[Page], path: str | Path, *, compress: bool = False) -> None:
    """A plain export: `.xml`, or a single-stream `.xml.bz2` when `compress`."""
    opener = bz2.open if compress else open
    with opener(path, "wt", encoding="utf-8") as out:
        out.write(header_xml(site))
        for page in pages:
            out.write(page_xml(page))
        out.write(FOOTER_XML)


def write_multistream(
    site: SiteInfo,
    pages: Iterable[Page],
    dump_path: str | Path,
    index_path: str | Path,
    *,
    pages_per_stream: int = 100,
    compresslevel: int = 9,
) -> None:
    """A multistream `.xml.bz2` and its `offset:page_id:title` index (bz2), laid out as Wikimedia's."""
    index_lines: list[str] = []
    with open(dump_path, "wb") as out:
        out.write(bz2.compress(header_xml(site).encode("utf-8"), compresslevel))
        batch: list[Page] = []

        def flush() -> None:
            offset = out.tell()
            out.write(bz2.compress("".join(page_xml(p) for p in batch).encode("utf-8"), compresslevel))
            index_lines.extend(f"{offset}:{p.id}:{p.title}\n" for p in batch)
            batch.clear()

        for page in pages:
            batch.append(page)
            if len(batch) == pages_per_stream:
                flush()
        if batch:
            flush()
        out.write(bz2.compress(FOOTER_XML.encode("utf-8"), compresslevel))
    Path(index_path).write_bytes(bz2.compress("".join(index_lines).encode("utf-8"), compresslevel))
