"""`lhama config show | schema | docs`: the configuration a run would use, and the files generated from its
classes (`workflow/schemas/config.schema.yaml`, `config/README.md`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_config(args: argparse.Namespace) -> None:
    import yaml

    from lhama.config.loading import load_config, to_dict
    from lhama.config.schema import DOCS_PATH, SCHEMA_PATH, docs_markdown, schema_yaml

    if args.action == "show":
        text = yaml.safe_dump(to_dict(load_config(args.configfile or [], args.root)), sort_keys=False,
                              allow_unicode=True, width=110)
        out = None
    elif args.action == "schema":
        text, out = schema_yaml(), Path(args.root) / SCHEMA_PATH
    else:
        text, out = docs_markdown(), Path(args.root) / DOCS_PATH
    if args.write and out is not None:
        from lhama.files import atomic_open

        with atomic_open(out) as handle:
            handle.write(text)
        print(f"-> {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("show", "schema", "docs"),
                        help="show: the merged, checked config with every default; schema: the JSON schema; "
                             "docs: the reference page")
    parser.add_argument("--configfile", action="append", metavar="YAML",
                        help="merged over config/config.yaml, as snakemake --configfile (show); repeatable")
    parser.add_argument("--root", default=".", help="the workflow folder (holds config/)")
    parser.add_argument("--write", action="store_true",
                        help="write the schema or the reference page into the workflow folder")
    parser.set_defaults(run=cmd_config)
