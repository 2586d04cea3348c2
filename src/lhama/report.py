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


def number(value, spec: str = ".2f", missing: str = "—") -> str:
    """A metric for the report; `missing` when it does not apply (an empty TSV cell)."""
    return missing if value is None else format(value, spec)


def interval(row: dict, key: str, spec: str = ".2f") -> str:
    """`[low, high]` of a metric's bootstrap interval, or nothing when the metric does not apply."""
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    return "" if low is None or high is None else f"[{format(low, spec)}, {format(high, spec)}]"


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("lhama", "templates"),
        autoescape=True,  # every dump/model string is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = number
    environment.globals["interval"] = interval
    return environment


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


# ---------------------------------------------------------------------------------------------------- results


def read_tsv(path: str | Path) -> list[dict]:
    """Rows of a TSV written by the workflow; numbers become floats (ints stay ints), empty cells None."""
    import csv

    def value(text: str):
        if text == "":
            return None
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number

    with open(path, encoding="utf-8", newline="") as handle:
        return [{key: value(cell) for key, cell in row.items()} for row in csv.DictReader(handle, delimiter="\t")]


def headline(metrics: list[dict], comparisons: list[dict], variants: list[str],
             question_sets: list[str] | None = None) -> list[dict]:
    """One row per model and question set (in `question_sets` order: the configured sets first, then the
    held-out split): each variant's accuracy with its interval, and the paired accuracy differences of rag, tuned
    and tuned_rag over base."""
    rows = []
    order = {name: number for number, name in enumerate(question_sets or [])}
    keys = sorted(dict.fromkeys((row["model"], row["questions"]) for row in metrics),
                  key=lambda key: order.get(key[1], len(order)))
    for model, questions in keys:
        cells = {row["variant"]: row for row in metrics if row["model"] == model and row["questions"] == questions}
        versus = {}
        for row in comparisons:
            if row["model"] == model and row["questions"] == questions and row["metric"] == "accuracy":
                if row["variant_a"] == "base":
                    versus[row["variant_b"]] = row
                elif row["variant_b"] == "base":  # a - b stored the other way round: flip it
                    versus[row["variant_a"]] = {**row, "diff": -row["diff"], "diff_low": -row["diff_high"],
                                                "diff_high": -row["diff_low"]}
        if "base" not in cells or any(variant not in cells for variant in versus):
            versus = {}
        first = next(iter(cells.values()))
        rows.append({"model": model, "questions": questions, "n": first.get("n_with_answers") or first["n"],
                     "variants": [cells.get(variant) for variant in variants], "accuracy": cells,
                     "versus_base": versus})
    return rows


def answers_by_question(scores: Iterable[dict], variants: list[str],
                        question_sets: list[str] | None = None) -> list[dict]:
    """Scores grouped for the side-by-side view: per model and question set, per question, each variant's answer."""
    groups: dict[tuple[str, str], dict[str, dict]] = {}
    order = {name: number for number, name in enumerate(question_sets or [])}
    for row in scores:
        group = groups.setdefault((row["model"], row["questions"]), {})
        question = group.setdefault(row["id"], {"id": row["id"], "question": row["question"],
                                                "answers": row.get("answers", []),
                                                "reference": row.get("reference"), "by_variant": {}})
        question["by_variant"][row["variant"]] = row
    return [{"model": model, "questions": questions, "variants": variants, "rows": list(group.values())}
            for (model, questions), group in sorted(groups.items(), key=lambda item: order.get(item[0][1], len(order)))]


def plot_accuracy(metrics_tsv: str | Path, path: str | Path, question_sets: list[str] | None = None) -> None:
    """Grouped bars: accuracy of every model x variant on every question set, with bootstrap 95% intervals."""
    import numpy as np

    rows = [row for row in read_tsv(metrics_tsv) if row.get("accuracy") is not None]
    order = {name: number for number, name in enumerate(question_sets or [])}
    sets = sorted(dict.fromkeys(row["questions"] for row in rows), key=lambda name: order.get(name, len(order)))
    series = list(dict.fromkeys((row["model"], row["variant"]) for row in rows))
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.5, 3.2))
    width = 0.8 / max(len(series), 1)
    colors = plt.get_cmap("tab10")
    for number, (model, variant) in enumerate(series):
        values, low, high = [], [], []
        for name in sets:
            row = next((r for r in rows if (r["model"], r["variant"], r["questions"]) == (model, variant, name)), None)
            accuracy = row["accuracy"] if row else np.nan
            values.append(accuracy)
            low.append(accuracy - row["accuracy_low"] if row and row.get("accuracy_low") is not None else 0)
            high.append(row["accuracy_high"] - accuracy if row and row.get("accuracy_high") is not None else 0)
        positions = np.arange(len(sets)) + (number - (len(series) - 1) / 2) * width
        label = variant if len({m for m, _ in series}) == 1 else f"{model} {variant}"
        axis.bar(positions, values, width, yerr=[low, high], capsize=2, label=label, color=colors(number % 10))
    labels = [f"{name}\n(n={next(r.get('n_with_answers') or r['n'] for r in rows if r['questions'] == name)})"
              for name in sets]
    axis.set_xticks(np.arange(len(sets)), labels)
    axis.set_ylabel("accuracy")
    axis.set_ylim(0, 1.05)
    axis.set_title("Answers containing a reference answer (95% bootstrap intervals)")
    axis.legend(frameon=False, fontsize=8, ncol=min(4, len(series)))
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png")
    plt.close(figure)


def accounting_summary(path: str | Path | None) -> dict:
    """GPU- and CPU-hours per stage from results/accounting.tsv (one row per SLURM job); a note when the run had
    no SLURM accounting (a local run)."""
    if not path or not Path(path).exists():
        return {"rows": [], "note": "No SLURM accounting: this run did not go through SLURM."}
    from lhama.accounting import read_tsv as read_accounting

    raw, note = read_accounting(Path(path))
    if not raw:
        return {"rows": [], "note": note or "No SLURM accounting: no SLURM job of this workflow was found by sacct."}
    jobs = [{key: _number(value) if key not in ("rule", "wildcards", "jobid", "state") else value
             for key, value in row.items()} for row in raw]
    stages: dict[str, dict] = {}
    for job in jobs:
        stage = stages.setdefault(job["rule"], {"rule": job["rule"], "jobs": 0, "elapsed_h": 0.0, "cpu_hours": 0.0,
                                                "gpu_hours": 0.0, "max_rss_mb": None})
        stage["jobs"] += 1
        stage["elapsed_h"] += (job.get("elapsed_s") or 0) / 3600
        stage["cpu_hours"] += job.get("cpu_hours") or 0.0
        stage["gpu_hours"] += job.get("gpu_hours") or 0.0
        if job.get("max_rss_mb") is not None:
            stage["max_rss_mb"] = max(stage["max_rss_mb"] or 0, job["max_rss_mb"])
    return {"rows": sorted(stages.values(), key=lambda row: -row["elapsed_h"]), "note": ""}


def _number(text: str | None):
    if text in (None, ""):
        return None
    try:
        return float(text)
    except ValueError:
        return None
