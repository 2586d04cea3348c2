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
from lhama.files import atomic_open

# an accuracy at or below this for every variant of a model on a question set: no winner is named
NEAR_ZERO = 0.1
# what each built-in question set tests (Ovadia et al. 2023 separate the two)
SET_PURPOSES = {
    "heldout": "unseen articles: questions on the test split's articles",
    "seen": "knowledge injection: facts of the training split, asked with questions training never used",
}
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


# ---------------------------------------------------------------------------------------------------- HTML


def first_per_kind(examples: Iterable[dict], kinds: set[str]) -> dict[str, dict]:
    """The first example of each kind, read no further than the last kind's first (the report shows one of each;
    the full ptwiki's training split is some 11 million rows)."""
    found: dict[str, dict] = {}
    for example in examples:
        found.setdefault(example["kind"], example)
        if kinds <= found.keys():
            break
    return found


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
    return _environment().get_template("report.html.j2").render(**context, kind_labels=QA_KIND_LABELS,
                                                                near_zero=NEAR_ZERO)


def write_report(path: str | Path, context: dict) -> None:
    html = render_report(context)
    with atomic_open(path) as handle:
        handle.write(html)


# ---------------------------------------------------------------------------------------------------- results


def headline(metrics: list[dict], comparisons: list[dict], variants: list[str],
             question_sets: list[str] | None = None) -> list[dict]:
    """One row per model and question set (in `question_sets` order: the configured sets first, then the
    held-out split): each variant's accuracy with its interval, the paired accuracy differences of the other
    variants over base and of raft over tuned_rag, and whether every variant is near zero (then the headline names
    no winner: the model is too small for these questions)."""
    rows = []
    order = {name: number for number, name in enumerate(question_sets or [])}
    keys = sorted(dict.fromkeys((row["model"], row["questions"]) for row in metrics),
                  key=lambda key: order.get(key[1], len(order)))
    for model, questions in keys:
        cells = {row["variant"]: row for row in metrics if row["model"] == model and row["questions"] == questions}
        versus, raft = {}, None
        for row in comparisons:
            if row["model"] == model and row["questions"] == questions and row["metric"] == "accuracy":
                if (row["variant_a"], row["variant_b"]) == ("tuned_rag", "raft"):
                    raft = row
                if row["variant_a"] == "base":
                    versus[row["variant_b"]] = row
                elif row["variant_b"] == "base":  # a - b stored the other way round: flip it
                    versus[row["variant_a"]] = {**row, "diff": -row["diff"], "diff_low": -row["diff_high"],
                                                "diff_high": -row["diff_low"]}
        if "base" not in cells or any(variant not in cells for variant in versus):
            versus = {}
        first = next(iter(cells.values()))
        known = [cell["accuracy"] for cell in cells.values() if cell.get("accuracy") is not None]
        rows.append({"model": model, "questions": questions, "n": first.get("n_with_answers") or first["n"],
                     "variants": [cells.get(variant) for variant in variants], "accuracy": cells,
                     "versus_base": versus, "raft_vs_tuned_rag": raft,
                     "near_zero": bool(known) and max(known) <= NEAR_ZERO,
                     "purpose": SET_PURPOSES.get(questions, "a configured question set")})
    return rows


def job_environments(jobs: Iterable[tuple[str, dict | None]]) -> list[dict]:
    """One row per job that computed something (training, perplexity, answering), from the `environment` it
    recorded: the versions it ran with, its hardware and the workflow's commit."""
    rows = []
    for name, environment in jobs:
        if not environment:
            continue
        packages, hardware = environment.get("packages", {}), environment.get("hardware", {})
        rows.append({"job": name, **{key: packages.get(key) for key in ("torch", "transformers", "peft", "trl")},
                     "hardware": (", ".join(hardware.get("gpus") or []) or
                                  f"{hardware.get('cpus')} CPUs ({hardware.get('processor')})"),
                     "commit": (environment.get("workflow_commit") or "")[:12] or None})
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
