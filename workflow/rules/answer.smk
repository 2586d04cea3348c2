rule answer:
    input:
        unpack(answer_inputs),
    output:
        answers="results/answers/{model}/{variant}/{eval_set}.jsonl",
        summary="results/answers/{model}/{variant}/{eval_set}.summary.json",
    params:
        decoding=config["generation"],
        # every variant is asked the way the tuned model was trained: the instruction as the system turn
        system=config["qa"]["instruction"],
        template=lambda wildcards: lw.generation_template(MODELS[wildcards.model].train),
        k=config["rag"]["retriever"]["k"],
        rag=config["rag"],
        spec=lambda wildcards: MODELS[wildcards.model].spec,
    threads: lambda wildcards: model_resources("answer", wildcards).get("cpus", 2)
    resources:
        mem_mb=inference_resource("answer", "mem_mb"),
        runtime=inference_resource("answer", "runtime"),
        gpu=inference_resource("answer", "gpu"),
    log:
        "logs/answer/{model}/{variant}/{eval_set}.log",
    benchmark:
        "results/benchmarks/answer/{model}/{variant}/{eval_set}.tsv"
    conda:
        "../../envs/eval.yaml"
    script:
        "../scripts/answer.py"


rule evaluate:
    input:
        answers=all_answers(),
        retrieval=expand("results/rag/retrieval/{eval_set}.json", eval_set=EVAL_SETS),
        perplexity=expand("results/train/{model}/perplexity.json", model=MODELS) if needs_tuning() else [],
    output:
        metrics=report("results/evaluation/metrics.tsv", caption="../report/metrics.rst", category="Results"),
        scores="results/evaluation/scores.jsonl",
        comparisons=report("results/evaluation/comparisons.tsv", caption="../report/comparisons.rst",
                           category="Results"),
    params:
        evaluate=config["evaluate"],
        eval_sets=list(EVAL_SETS),
        models=list(MODELS),
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    log:
        "logs/evaluate.log",
    benchmark:
        "results/benchmarks/evaluate.tsv"
    conda:
        "../../envs/eval.yaml"
    script:
        "../scripts/evaluate.py"


rule results_plot:
    input:
        "results/evaluation/metrics.tsv",
    output:
        report("results/plots/accuracy.png", caption="../report/accuracy.rst", category="Results"),
    params:
        eval_sets=list(EVAL_SETS),
    log:
        "logs/results_plot.log",
    benchmark:
        "results/benchmarks/results_plot.tsv"
    conda:
        "../../envs/eval.yaml"
    script:
        "../scripts/results_plot.py"
