"""The report's charts, as PNG files written atomically (the report embeds them; `snakemake --report` shows them):
article lengths, counts by kind, retrieval recall, accuracy with intervals and training loss."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lhama.files import atomic_open, read_tsv


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


def plot_losses(metrics: Mapping[str, Any], path: str | Path) -> None:
    """Training and held-out loss against the optimizer step (PNG, written atomically)."""
    plt = _pyplot()
    train_curve = metrics.get("train_loss_curve") or []
    eval_curve = metrics.get("eval_loss_curve") or []
    figure, axis = plt.subplots(figsize=(6, 3.5))
    if train_curve:
        axis.plot([p["step"] for p in train_curve], [p["loss"] for p in train_curve], label="train", lw=1.5)
    if eval_curve:
        axis.plot([p["step"] for p in eval_curve], [p["loss"] for p in eval_curve], "o-", label="held-out", lw=1.5)
    if not train_curve and not eval_curve:
        axis.text(0.5, 0.5, "no loss logged", ha="center", va="center", transform=axis.transAxes)
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("loss (answer tokens)")
    title = f"{metrics.get('model') or ''} {metrics.get('method') or ''}".strip()
    if metrics.get("resumed_from"):
        title += f" (resumed from {metrics['resumed_from']})"
    axis.set_title(title, fontsize=10)
    axis.grid(alpha=0.3)
    if train_curve or eval_curve:
        axis.legend()
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=120)
    plt.close(figure)
