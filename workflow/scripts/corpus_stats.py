from lhama.files import read_jsonl, write_json
from lhama.plots import plot_article_lengths, plot_bars
from lhama.report import QA_KIND_LABELS, corpus_statistics
from lhama.job import step

with step(snakemake):
    stats = corpus_statistics(snakemake.input.articles, read_jsonl(snakemake.input.examples))
    write_json(snakemake.output.stats, stats)
    plot_article_lengths(stats["article_lengths"], snakemake.output.lengths)
    plot_bars(
        {QA_KIND_LABELS.get(kind, kind): count for kind, count in stats["qa_by_kind"].items()},
        snakemake.output.kinds,
        title="Instruction examples by kind",
        xlabel="examples",
    )
