"""The ``archivo`` command line (Spanish output, English code).

It sits beside the packages it drives (archive, ingest, search, web), so the
core package stays free of dependencies on them.
"""

from . import i18n

i18n.install()  # before any command is declared: click translates some words then
