from lhama.accounting import accounting_summary
from lhama.corpus import read_manifest
from lhama.files import read_json, read_jsonl, read_tsv
from lhama.models import read_model_info
from lhama.provenance import config_hash
from lhama.report import answers_by_question, data_uri, first_per_kind, headline, job_environments, write_report
from lhama.job import step

with step(snakemake):
    inputs, params = snakemake.input, snakemake.params
    stats = read_json(inputs.stats)
    one_per_kind = first_per_kind(read_jsonl(inputs.train), set(stats["qa_by_kind"]))
    metrics, comparisons = read_tsv(inputs.metrics), read_tsv(inputs.comparisons)
    plans = {(plan["model"], plan["adapter"]): plan for plan in params.plans}
    perplexities = dict(zip(params.models, inputs.perplexity))
    training = [
        {"model": model, "adapter": adapter, "metrics": read_json(metrics_path), "loss_plot": data_uri(loss_path),
         "perplexity": read_json(perplexities[model]) if adapter == "tuned" and model in perplexities else None,
         "plan": plans.get((model, adapter))}
        for (model, adapter), metrics_path, loss_path in zip(params.trainings, inputs.training, inputs.losses)
    ]
    split = read_json(inputs.split)
    summaries = [read_json(path) for path in inputs.answer_summaries]
    environments = job_environments(
        [(f"train {run['model']} {run['adapter']}", run["metrics"].get("environment")) for run in training]
        + [(f"perplexity {run['model']}", (run["perplexity"] or {}).get("environment")) for run in training]
        + [(f"answer {s['model']} {s['variant']} {s['questions']}", s.get("environment")) for s in summaries])
    write_report(
        snakemake.output[0],
        {
            "provenance": read_json(inputs.provenance),
            # informative only (not a param of this rule: a config change that no input of the report depends on
            # must not rerun it)
            "config_sha256": config_hash(dict(snakemake.config)),
            "seeds": {"split": split["seed"], "decoding": params.decoding["seed"],
                      "evaluate": params.evaluate["seed"],
                      "train": sorted({str(run["metrics"]["config"]["args"].get("seed")) for run in training})},
            "manifest": read_manifest(inputs.articles),
            "stats": stats,
            "plots": {
                "article_lengths": data_uri(inputs.lengths),
                "qa_kinds": data_uri(inputs.kinds),
                "retrieval_recall": data_uri(inputs.recall),
                "accuracy": data_uri(inputs.accuracy),
            },
            "split": split,
            "heldout_sample": read_json(inputs.heldout_sample),
            "seen_sample": read_json(inputs.get("seen_sample")) if inputs.get("seen_sample") else None,
            "examples_sample": [one_per_kind[kind] for kind in sorted(one_per_kind)],
            "question_sets": [read_json(path) for path in inputs.questions],
            "retrieval": {
                "index": read_json(f"{inputs.rag_index}/manifest.json"),
                "sets": [read_json(path) for path in inputs.retrieval],
            },
            "models": {model: read_model_info(folder) or {} for model, folder in zip(params.models, inputs.model_dirs)},
            "variants": params.variants,
            "decoding": params.decoding,
            "training": training,
            "metrics": metrics,
            "comparisons": comparisons,
            "headline": headline(metrics, comparisons, params.variants, params.eval_sets),
            "by_question": answers_by_question(read_jsonl(inputs.scores), params.variants, params.eval_sets),
            "accounting": accounting_summary(inputs.get("accounting")),
            "environments": environments,
        },
    )
