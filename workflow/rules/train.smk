rule train:
    input:
        unpack(train_data),
        model="results/models/{model}/base",
    output:
        adapter=directory("results/models/{model}/{adapter}"),
        metrics="results/train/{model}/{adapter}/metrics.json",
    log:
        "logs/train/{model}/{adapter}.log",
    benchmark:
        "results/benchmarks/train/{model}/{adapter}.tsv"
    # the longest job of every DAG, ahead of the answers of the variants that do not wait for it
    priority: 10
    conda:
        "../../envs/train.yaml"
    threads: lambda wildcards: TRAIN_PLANS[wildcards.model, wildcards.adapter].cpus
    resources:
        **({"gpu_model": CONFIG.cluster.gpu_model} if CONFIG.cluster.gpu_model else {}),
        mem_mb=train_resources("mem_mb"),
        runtime=train_resources("runtime"),
        gpu=train_resources("gpu"),
        nodes=train_resources("nodes"),
        tasks=train_resources("tasks"),
        # the `mpi` key makes the jobstep plugin run the script without its own srun: a multi-process launcher
        # calls srun itself (one torchrun per node); tasks_per_gpu stops the plugin reading `tasks` per GPU
        mpi=train_resources("mpi"),
        tasks_per_gpu=train_resources("tasks_per_gpu"),
    params:
        train=lambda wildcards: to_dict(MODELS[wildcards.model].adapter_train(wildcards.adapter)),
        template=lambda wildcards: CONFIG.prompt.template,  # the prompt of a model without a chat template
        spec=model_spec,
        work_dir=lambda wildcards: f"results/train/{wildcards.model}/{wildcards.adapter}",
    script:
        "../scripts/train.py"


rule loss_plot:
    input:
        "results/train/{model}/{adapter}/metrics.json",
    output:
        report(
            "results/plots/loss_{model}_{adapter}.png",
            caption="../report/loss.rst",
            category="Training",
            labels={"model": "{model}", "adapter": "{adapter}", "figure": "loss"},
        ),
    log:
        "logs/train/loss_plot/{model}/{adapter}.log",
    benchmark:
        "results/benchmarks/train/loss_plot/{model}/{adapter}.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../scripts/loss_plot.py"


rule perplexity:
    input:
        model="results/models/{model}/base",
        adapter="results/models/{model}/tuned",
        articles="results/corpus/articles",
        test="results/qa/test.jsonl",
    output:
        "results/train/{model}/perplexity.json",
    log:
        "logs/train/perplexity/{model}.log",
    benchmark:
        "results/benchmarks/train/perplexity/{model}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: lambda wildcards: MODELS[wildcards.model].rule_resources("perplexity").get("cpus", 2)
    resources:
        mem_mb=inference_resource("perplexity", "mem_mb"),
        runtime=planned_runtime("perplexity", lambda wildcards: wildcards.model),
        gpu=inference_resource("perplexity", "gpu"),
    params:
        perplexity=to_dict(CONFIG.perplexity),
        trust_remote_code=lambda wildcards: MODELS[wildcards.model].spec.trust_remote_code,
    script:
        "../scripts/perplexity.py"
