rule qa:
    input:
        articles="results/corpus/articles",
    output:
        examples="results/qa/examples.jsonl",
    params:
        qa=config["qa"],
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    log:
        "logs/qa.log",
    benchmark:
        "results/benchmarks/qa.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/qa.py"


rule pretraining_text:
    input:
        articles="results/corpus/articles",
    output:
        "results/qa/pretraining.jsonl",
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    log:
        "logs/pretraining_text.log",
    benchmark:
        "results/benchmarks/pretraining_text.tsv"
    conda:
        "../../envs/data.yaml"
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
    params:
        by=config["split"]["by"],
        test_size=config["split"]["test_size"],
        seed=config["split"]["seed"],
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    log:
        "logs/split.log",
    benchmark:
        "results/benchmarks/split.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/split.py"


rule check_questions:
    input:
        questions=question_file,
        articles="results/corpus/articles",
    output:
        "results/questions/{qset}.json",
    resources:
        mem_mb=rule_resources("default")["mem_mb"],
        runtime=rule_resources("default")["runtime"],
    log:
        "logs/check_questions/{qset}.log",
    benchmark:
        "results/benchmarks/check_questions/{qset}.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/check_questions.py"
