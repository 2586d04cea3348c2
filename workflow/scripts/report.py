
from lhama.corpus import read_manifest
from lhama.jsonl import read_json, read_jsonl
from lhama.report import data_uri, write_report
from lhama.workflow import step

with step(snakemake):
    train = list(read_jsonl(snakemake.input.train))
    one_per_kind = {example["kind"]: example for example in reversed(train)}
    write_report(
        snakemake.output[0],
        {
            "provenance": read_json(snakemake.input.provenance),
            "manifest": read_manifest(snakemake.input.articles),
            "stats": read_json(snakemake.input.stats),
            "plots": {
                "article_lengths": data_uri(snakemake.input.lengths),
                "qa_kinds": data_uri(snakemake.input.kinds),
                "retrieval_recall": data_uri(snakemake.input.recall),
            },
            "split": read_json(snakemake.input.split),
            "examples_sample": [one_per_kind[kind] for kind in sorted(one_per_kind)],
            "question_sets": [read_json(path) for path in snakemake.input.questions],
            "retrieval": {
                "index": read_json(f"{snakemake.input.rag_index}/manifest.json"),
                "sets": [read_json(path) for path in snakemake.input.retrieval],
            },
        },
    )
