rule qa:
    input:
        articles="results/corpus/articles",
    output:
        examples="results/qa/examples.jsonl",
    log:
        "logs/qa.log",
    benchmark:
        "results/benchmarks/qa.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=planned_cpu("qa", "mem_mb"),
        runtime=planned_cpu("qa", "runtime"),
    params:
        # what the examples are built from: the qa section (pretraining_text is the next rule's) and the prompt
        qa={k: v for k, v in to_dict(CONFIG.qa).items() if k != "pretraining_text"},
        prompt=to_dict(CONFIG.prompt),
    script:
        "../scripts/qa.py"


rule pretraining_text:
    input:
        articles="results/corpus/articles",
    output:
        "results/qa/pretraining.jsonl",
    log:
        "logs/pretraining_text.log",
    benchmark:
        "results/benchmarks/pretraining_text.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    script:
        "../scripts/pretraining_text.py"


rule split:
    input:
        examples="results/qa/examples.jsonl",
    output:
        train="results/qa/train.jsonl",
        test="results/qa/test.jsonl",
        test_questions="results/qa/test_questions.jsonl",
        report="results/qa/split.json",
    log:
        "logs/split.log",
    benchmark:
        "results/benchmarks/split.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=planned_cpu("split", "mem_mb"),
        runtime=planned_cpu("split", "runtime"),
    params:
        split=to_dict(CONFIG.split),
    script:
        "../scripts/split.py"


rule heldout_questions:
    input:
        test="results/qa/test.jsonl",
    output:
        questions="results/qa/heldout_questions.jsonl",
        sample="results/qa/heldout_sample.json",
    log:
        "logs/heldout_questions.log",
    benchmark:
        "results/benchmarks/heldout_questions.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    params:
        heldout=CONFIG.evaluate.heldout_settings(),
    script:
        "../scripts/heldout_questions.py"


rule seen_questions:
    input:
        train="results/qa/train.jsonl",
        articles="results/corpus/articles",
    output:
        questions="results/qa/seen_questions.jsonl",
        sample="results/qa/seen_sample.json",
    log:
        "logs/seen_questions.log",
    benchmark:
        "results/benchmarks/seen_questions.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    params:
        seen=CONFIG.evaluate.seen_settings(),
        trained=lw.trained_row_draws(CONFIG),
    script:
        "../scripts/seen_questions.py"


rule check_questions:
    input:
        questions=question_file,
        articles="results/corpus/articles",
    output:
        "results/questions/{qset}.json",
    log:
        "logs/check_questions/{qset}.log",
    benchmark:
        "results/benchmarks/check_questions/{qset}.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    script:
        "../scripts/check_questions.py"
