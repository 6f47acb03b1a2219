"""Entry point: ``archivo COMMAND``."""

from __future__ import annotations

import click

from . import (admin, bag_cmd, demo, dispatch_cmd, i18n, ingest_cmd, physical_cmd,
               regenerate_cmd, registry_cmd, runtime, search_cmd, separators_cmd, supply_cmd)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archivo", message="archivo %(version)s")
def cli() -> None:
    """archivo: archivo documental de Atención al Cliente (escaneo, OCR, búsqueda por NIS)."""


cli.add_command(admin.init)
cli.add_command(admin.config)
cli.add_command(admin.user)
cli.add_command(runtime.serve)
cli.add_command(runtime.worker)
cli.add_command(runtime.indexer)  # «indexador»: the index writer
cli.add_command(ingest_cmd.ingest)
cli.add_command(demo.demo)
cli.add_command(search_cmd.search)
cli.add_command(search_cmd.reindex)
cli.add_command(search_cmd.check)
cli.add_command(registry_cmd.import_supplies)
cli.add_command(registry_cmd.regional)
supply_cmd.register(cli)  # «supply NIS», renumber, merge; alias «suministro»
dispatch_cmd.register(cli)  # «despacho», hidden alias «dispatch»
cli.add_command(physical_cmd.fisico)  # «fisico»: locations, folders, loans, labels
cli.add_command(separators_cmd.separators)  # «separadores»: hojas para escanear por lotes
cli.add_command(bag_cmd.export)  # BagIt bag of documents
cli.add_command(bag_cmd.import_bag_cmd)
cli.add_command(regenerate_cmd.regenerar)  # «regenerar»: derivatives from the original
i18n.localize(cli)  # Spanish metavars in every usage line


def main() -> None:
    cli(prog_name="archivo")
