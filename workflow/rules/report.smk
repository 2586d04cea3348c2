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
        training=expand("results/train/{model}/metrics.json", model=MODELS) if needs_tuning() else [],
        perplexity=expand("results/train/{model}/perplexity.json", model=MODELS) if needs_tuning() else [],
        losses=expand("results/plots/loss_{model}.png", model=MODELS) if needs_tuning() else [],
        metrics="results/evaluation/metrics.tsv",
        scores="results/evaluation/scores.jsonl",
        comparisons="results/evaluation/comparisons.tsv",
        accuracy="results/plots/accuracy.png",
        model_dirs=expand("results/models/{model}/base", model=MODELS),
        accounting="results/accounting.tsv",
    output:
        "results/report.html",
    params:
        question_files=QUESTION_SETS,
        models=list(MODELS),
        variants=VARIANTS,
        eval_sets=list(EVAL_SETS),
        plans=[plan.to_json() for plan in TRAIN_PLANS.values()],
        decoding=config["generation"],
    log:
        "logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/report.py"
