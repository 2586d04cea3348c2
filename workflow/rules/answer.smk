rule answer:
    input:
        unpack(answer_inputs),
    output:
        answers="results/answers/{model}/{variant}/{eval_set}/{part}-of-{parts}.jsonl",
        summary="results/answers/{model}/{variant}/{eval_set}/{part}-of-{parts}.summary.json",
    log:
        "logs/answer/{model}/{variant}/{eval_set}/{part}-of-{parts}.log",
    benchmark:
        "results/benchmarks/answer/{model}/{variant}/{eval_set}/{part}-of-{parts}.tsv"
    conda:
        "../../envs/eval.yaml"
    threads: lambda wildcards: MODELS[wildcards.model].rule_resources("answer").get("cpus", 2)
    resources:
        mem_mb=inference_resource("answer", "mem_mb"),
        runtime=planned_runtime("answer", answer_part_name),
        gpu=inference_resource("answer", "gpu"),
    params:
        decoding=CONFIG.generation.decoding(),
        # every variant is asked the way the tuned model was trained (lhama.prompts)
        prompt=to_dict(CONFIG.prompt),
        retrieval=answer_retrieval,
        spec=model_spec,
    script:
        "../scripts/answer.py"


localrules:
    merge_answers,


rule merge_answers:
    input:
        answer_parts,
    output:
        answers="results/answers/{model}/{variant}/{eval_set}.jsonl",
        summary="results/answers/{model}/{variant}/{eval_set}.summary.json",
    log:
        "logs/merge_answers/{model}/{variant}/{eval_set}.log",
    benchmark:
        "results/benchmarks/merge_answers/{model}/{variant}/{eval_set}.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/merge_answers.py"


if CONFIG.evaluate.judge:

    rule judge:
        input:
            unpack(judge_inputs),
        output:
            "results/evaluation/judgements/{model}/{variant}/{eval_set}.jsonl",
        log:
            "logs/judge/{model}/{variant}/{eval_set}.log",
        benchmark:
            "results/benchmarks/judge/{model}/{variant}/{eval_set}.tsv"
        conda:
            "../../envs/eval.yaml"
        threads: MODELS[CONFIG.evaluate.judge].rule_resources("answer").get("cpus", 2)
        resources:
            mem_mb=lw.inference_resources(MODELS[CONFIG.evaluate.judge], "answer", CONFIG)["mem_mb"],
            runtime=planned_runtime("judge", answer_set_name),
            gpu=lw.inference_resources(MODELS[CONFIG.evaluate.judge], "answer", CONFIG)["gpu"],
        params:
            judge=CONFIG.evaluate.judge,
        script:
            "../scripts/judge.py"


rule evaluate:
    input:
        answers=all_answers(),
        judgements=judgements(),
        retrieval=expand("results/rag/retrieval/{eval_set}.json", eval_set=EVAL_SETS),
        perplexity=tuned_outputs("results/train/{model}/perplexity.json"),
    output:
        metrics=report(
            "results/evaluation/metrics.tsv",
            caption="../report/metrics.rst",
            category="Results",
        ),
        scores="results/evaluation/scores.jsonl",
        comparisons=report(
            "results/evaluation/comparisons.tsv",
            caption="../report/comparisons.rst",
            category="Results",
        ),
    log:
        "logs/evaluate.log",
    benchmark:
        "results/benchmarks/evaluate.tsv"
    conda:
        "../../envs/eval.yaml"
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    params:
        evaluate=to_dict(CONFIG.evaluate),
        eval_sets=list(EVAL_SETS),
        models=list(MODELS),
    script:
        "../scripts/evaluate.py"


rule results_plot:
    input:
        "results/evaluation/metrics.tsv",
    output:
        report(
            "results/plots/accuracy.png",
            caption="../report/accuracy.rst",
            category="Results",
        ),
    log:
        "logs/results_plot.log",
    benchmark:
        "results/benchmarks/results_plot.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        eval_sets=list(EVAL_SETS),
    script:
        "../scripts/results_plot.py"
