rule provenance:
    input:
        articles="results/corpus/articles",
    output:
        "results/provenance.json",
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
            "results/plots/retrieval_recall.png",
            caption="../report/retrieval_recall.rst",
            category="Retrieval",
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
        **({"seen_sample": "results/qa/seen_sample.json"} if SEEN in EVAL_SETS else {}),
        articles="results/corpus/articles",
        provenance="results/provenance.json",
        stats="results/corpus/stats.json",
        lengths="results/plots/article_lengths.png",
        kinds="results/plots/qa_kinds.png",
        split="results/qa/split.json",
        heldout_sample="results/qa/heldout_sample.json",
        train="results/qa/train.jsonl",
        questions=expand("results/questions/{qset}.json", qset=QUESTION_SETS),
        rag_index="results/rag/index",
        retrieval=expand("results/rag/retrieval/{eval_set}.json", eval_set=EVAL_SETS),
        recall="results/plots/retrieval_recall.png",
        training=training_outputs("results/train/{model}/{adapter}/metrics.json"),
        perplexity=tuned_outputs("results/train/{model}/perplexity.json"),
        losses=training_outputs("results/plots/loss_{model}_{adapter}.png"),
        metrics="results/evaluation/metrics.tsv",
        scores="results/evaluation/scores.jsonl",
        comparisons="results/evaluation/comparisons.tsv",
        accuracy="results/plots/accuracy.png",
        model_dirs=expand("results/models/{model}/base", model=MODELS),
        answer_summaries=expand(
            "results/answers/{model}/{variant}/{eval_set}.summary.json",
            model=MODELS,
            variant=VARIANTS,
            eval_set=EVAL_SETS,
        ),
        accounting="results/accounting.tsv",
    output:
        "results/report.html",
    log:
        "logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        question_files=QUESTION_SETS,
        models=list(MODELS),
        variants=VARIANTS,
        eval_sets=list(EVAL_SETS),
        plans=[plan.to_json() for plan in TRAIN_PLANS.values()],
        trainings=[[model, adapter] for model in MODELS for adapter in ADAPTERS_USED],
        decoding=CONFIG.generation.decoding(),
        evaluate=to_dict(CONFIG.evaluate),
    script:
        "../scripts/report.py"
