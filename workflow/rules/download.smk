if DOWNLOADING:

    localrules:
        download_dump,

    rule download_dump:
        output:
            dump=DUMP,
            index=[INDEX] if INDEX else [],
        params:
            url=config["dump"],
            dest=config["download"]["dir"],
            mirror=config["download"]["mirror"],
            algorithm=config["download"]["checksum"],
        log:
            "logs/download_dump.log",
        benchmark:
            "results/benchmarks/download_dump.tsv"
        conda:
            "../../envs/data.yaml"
        script:
            "../scripts/download_dump.py"
