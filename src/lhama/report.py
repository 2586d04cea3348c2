"""Corpus statistics, plots, and the self-contained HTML report (`results/report.html`).

Every string that comes from a dump, a question file or a model goes through Jinja2's autoescaping: the report
shows it as text, never as markup. Plots are PNGs embedded as data URIs so the file reads offline.
"""

from __future__ import annotations

import base64
import statistics
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import jinja2

from lhama.corpus import iter_articles, read_manifest
from lhama.jsonl import atomic_open

QA_KIND_LABELS = {"infobox": "infobox facts", "lead": "lead (Quem foi / O que é)", "section": "section-grounded"}


# ---------------------------------------------------------------------------------------------------- statistics


def corpus_statistics(articles_dir: str | Path, examples: Iterable[dict]) -> dict:
    manifest = read_manifest(articles_dir)
    lengths: list[int] = []
    sections: list[int] = []
    infobox_types: Counter = Counter()
    for article in iter_articles(articles_dir):
        lengths.append(len(article["text"]))
        sections.append(sum(1 for section in article["sections"] if section["path"]))
        if article.get("infobox"):
            infobox_types[article["infobox"]["type"]] += 1
    by_kind: Counter = Counter()
    articles_with_examples: set = set()
    for example in examples:
        by_kind[example["kind"]] += 1
        articles_with_examples.add(example["source_id"])
    return {
        "counts": manifest["counts"],
        "article_lengths": sorted(lengths),
        "length_summary": _summary(lengths),
        "sections_per_article": round(statistics.fmean(sections), 2) if sections else 0.0,
        "infobox_types": dict(infobox_types.most_common()),
        "articles_with_infobox": sum(infobox_types.values()),
        "qa_by_kind": dict(sorted(by_kind.items())),
        "qa_total": sum(by_kind.values()),
        "qa_articles": len(articles_with_examples),
    }


def _summary(values: list[int]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    quantile = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"n": len(ordered), "min": ordered[0], "p50": quantile(0.5), "p90": quantile(0.9), "max": ordered[-1],
            "mean": round(statistics.fmean(ordered), 1), "total": sum(ordered)}


# ---------------------------------------------------------------------------------------------------- plots


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def plot_article_lengths(lengths: list[int], path: str | Path) -> None:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.0, 3.0))
    if lengths:
        import numpy as np

        low, high = max(min(lengths), 1), max(max(lengths), 2)
        count = min(40, max(5, len(lengths) // 2))
        logarithmic = high / low >= 20  # a real dump spans stubs to long articles; a sample may not
        bins = np.logspace(np.log10(low), np.log10(high * 1.01), num=count) if logarithmic else count
        axis.hist(lengths, bins=bins, color="#2b6c8f", edgecolor="white")
        if logarithmic:
            axis.set_xscale("log")
        axis.axvline(statistics.median(lengths), color="#c0392b", linestyle="--", label="median")
        axis.legend(frameon=False)
    axis.set_xlabel("clean text length (characters" + (", log scale)" if axis.get_xscale() == "log" else ")"))
    axis.set_ylabel("articles")
    axis.set_title("Article length distribution")
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png")
    plt.close(figure)


def plot_bars(counts: dict[str, int], path: str | Path, *, title: str, xlabel: str) -> None:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.0, 0.45 * max(len(counts), 2) + 1.0))
    labels = list(counts)
    axis.barh(labels, [counts[label] for label in labels], color="#2b6c8f")
    for position, label in enumerate(labels):
        axis.text(counts[label], position, f" {counts[label]}", va="center")
    axis.invert_yaxis()
    axis.set_xlabel(xlabel)
    axis.set_title(title)
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png")
    plt.close(figure)


# ---------------------------------------------------------------------------------------------------- HTML


def data_uri(png_path: str | Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(png_path).read_bytes()).decode("ascii")


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("lhama", "templates"),
        autoescape=True,  # every dump/model string is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(context: dict) -> str:
    return _environment().get_template("report.html.j2").render(**context, kind_labels=QA_KIND_LABELS)


def write_report(path: str | Path, context: dict) -> None:
    html = render_report(context)
    with atomic_open(path) as handle:
        handle.write(html)


def recall_curve(rows: list[dict], k: int) -> list[float]:
    """recall@j for j = 1..k from per-question gold ranks (questions without a gold source are left out)."""
    ranks = [row.get("gold_rank") for row in rows if row.get("source")]
    if not ranks:
        return []
    return [sum(rank is not None and rank <= j for rank in ranks) / len(ranks) for j in range(1, k + 1)]


def plot_recall_curves(sets: list[dict], path: str | Path) -> None:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.0, 3.0))
    for result in sets:
        curve = recall_curve(result["rows"], result["k"])
        if curve:
            with_source = sum(1 for row in result["rows"] if row.get("source"))
            axis.plot(range(1, len(curve) + 1), curve, marker="o", label=f"{result['name']} (n={with_source})")
    if sets:
        axis.set_xticks(range(1, max(result["k"] for result in sets) + 1))
    axis.set_xlabel("passages retrieved (j)")
    axis.set_ylabel("gold article in top j")
    axis.set_ylim(0, 1.05)
    axis.set_title("Retrieval recall of the gold article")
    axis.legend(frameon=False)
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png")
    plt.close(figure)
