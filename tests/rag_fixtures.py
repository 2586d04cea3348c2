"""A five-article corpus and index builders shared by the retrieval, answering and command-line tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lhama.config.sections import RagConfig
from lhama.corpus import extract
from lhama.dump import Page, SiteInfo
from lhama.dump_writer import write_xml
from lhama.rag.chunks import chunk_shard, embed_shard
from lhama.rag.index import build_index

TOPICS = {
    "Lei Áurea": "A Lei Áurea aboliu a escravidão no Brasil em 13 de maio de 1888, assinada pela Princesa Isabel.",
    "Brasília": "Brasília é a capital federal do Brasil, inaugurada em 21 de abril de 1960 no Planalto Central.",
    "Rio Amazonas": "O Rio Amazonas é o maior rio do mundo em volume de água e atravessa a floresta amazônica.",
    "Tiradentes": "Tiradentes, Joaquim José da Silva Xavier, liderou a Inconfidência Mineira e foi enforcado em 1792.",
    "Café": "O café foi o principal produto de exportação do Brasil no século XIX, cultivado no Vale do Paraíba.",
}
FILLER = ("Os historiadores discutem o tema em muitas obras e artigos, com documentos de arquivos públicos, cartas "
          "e jornais da época, que permitem reconstruir os acontecimentos com detalhes. ")


def write_articles(root: Path) -> Path:
    pages = []
    for number, (title, lead) in enumerate(TOPICS.items(), start=1):
        body = f"'''{title}''' {lead}\n\n== História ==\n{FILLER * 12}\n\n== Legado ==\n{lead} {FILLER * 3}\n"
        pages.append(Page(number, 0, title, 100 + number, body))
    write_xml(SiteInfo(), pages, root / "dump.xml")
    extract(root / "dump.xml", root / "articles", progress=False)
    return root / "articles"


def build(articles: Path, folder: Path, embedder, shards: int = 1, **index) -> tuple[Path, RagConfig]:
    """Chunk, embed and index `articles` as the workflow's sharded jobs do; (index folder, its RagConfig)."""
    config = dataclasses.replace(RagConfig(), index=dataclasses.replace(RagConfig().index, **index), shards=shards)
    chunk_paths, vector_paths = [], []
    folder.mkdir(parents=True, exist_ok=True)
    for shard in range(shards):
        chunks, vectors = folder / f"c{shard}.jsonl", folder / f"e{shard}.npy"
        chunk_shard(articles, chunks, config.chunker, embedder_model=config.embedder.model, shard=shard,
                    num_shards=shards, embedder=embedder)
        embed_shard(chunks, vectors, config.embedder.for_passages(), embedder=embedder)
        chunk_paths.append(chunks)
        vector_paths.append(vectors)
    out = folder / f"index-{shards}-{index.get('type', 'flat')}"
    build_index(chunk_paths, vector_paths, out, embedder=config.embedder, chunker=config.chunker,
                index=config.index, display_name=embedder.name)
    return out, config
