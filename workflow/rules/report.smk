rule provenance:
    input:
        articles="results/corpus/articles",
    output:
        "results/provenance.json",
    params:
        config=config,
    log:
        "logs/provenance.log",
    benchmark:
        "results/benchmarks/provenance.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/provenance.py"


rule retrieval_plot:
    input:
        expand("results/rag/retrieval/{eval_set}.json", eval_set=EVAL_SETS),
    output:
        report(
            "results/plots/retrieval_recall.png", caption="../report/retrieval_recall.rst", category="Retrieval"
        ),
    log:
        "logs/retrieval_plot.log",
    benchmark:
        "results/benchmarks/retrieval_plot.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/retrieval_plot.py"


rule report:
    input:
        articles="results/corpus/articles",
        provenance="results/provenance.json",
        stats="results/corpus/stats.json",
        lengths="results/plots/article_lengths.png",
        kinds="results/plots/qa_kinds.png",
        split="results/qa/split.json",
        train="results/qa/train.jsonl",
        questions=expand("results/questions/{qset}.json", qset=QUESTION_SETS),
        rag_index="results/rag/index",
        retrieval=expand("results/rag/retrieval/{eval_set}.json", eval_set=EVAL_SETS),
        recall="results/plots/retrieval_recall.png",
    output:
        "results/report.html",
    params:
        question_files=QUESTION_SETS,
    log:
        "logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/report.py"
