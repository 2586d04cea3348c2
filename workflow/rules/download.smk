if DOWNLOADING:

    localrules:
        download_dump,

    rule download_dump:
        output:
            dump=DUMP,
            index=[INDEX] if INDEX else [],
        log:
            "logs/download_dump.log",
        benchmark:
            "results/benchmarks/download_dump.tsv"
        conda:
            "../../envs/data.yaml"
        params:
            url=CONFIG.dump,
            dest=CONFIG.download.dir,
            mirror=CONFIG.download.mirror,
            algorithm=CONFIG.download.checksum,
        script:
            "../scripts/download_dump.py"
