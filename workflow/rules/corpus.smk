rule extract:
    input:
        unpack(extract_input),
    output:
        directory("results/corpus/articles"),
    log:
        "logs/extract.log",
    benchmark:
        "results/benchmarks/extract.tsv"
    conda:
        "../../envs/data.yaml"
    threads: CONFIG.extract.workers
    resources:
        mem_mb=planned_cpu("extract", "mem_mb"),
        runtime=planned_cpu("extract", "runtime"),
    params:
        min_chars=CONFIG.extract.min_chars,
        range_mb=CONFIG.extract.range_mb,
        articles_per_shard=CONFIG.extract.articles_per_shard,
    script:
        "../scripts/extract.py"


rule corpus_stats:
    input:
        articles="results/corpus/articles",
        examples="results/qa/examples.jsonl",
    output:
        stats="results/corpus/stats.json",
        lengths=report(
            "results/plots/article_lengths.png",
            caption="../report/article_lengths.rst",
            category="Corpus",
        ),
        kinds=report(
            "results/plots/qa_kinds.png",
            caption="../report/qa_kinds.rst",
            category="Instruction data",
        ),
    log:
        "logs/corpus_stats.log",
    benchmark:
        "results/benchmarks/corpus_stats.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    script:
        "../scripts/corpus_stats.py"
