"""Spanish for click's own words (usage, options, its error messages).

click marks its messages with ``gettext`` but ships no Spanish catalog, and a
compiled ``.mo`` file for a dozen strings is more machinery than the job
needs. So each click module's ``_`` is pointed at this small table; strings
not listed stay as click wrote them.
"""

from __future__ import annotations

import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.types

SPANISH: dict[str, str] = {
    "Usage:": "Uso:",
    "Options": "Opciones",
    "Commands": "Comandos",
    "Positional arguments": "Argumentos",
    "Show this message and exit.": "Muestra esta ayuda y termina.",
    "Show the version and exit.": "Muestra la versión y termina.",
    "Error: {message}": "Error: {message}",
    "Try '{command} {option}' for help.": "Pruebe «{command} {option}» para ver la ayuda.",
    "Missing argument": "Falta el argumento",
    "Missing option": "Falta la opción",
    "Missing parameter": "Falta el parámetro",
    "Missing command.": "Falta el comando.",
    "No such command {name!r}.": "No existe el comando {name!r}.",
    "No such option {name!r}.": "No existe la opción {name!r}.",
    "Option {name!r} does not take a value.": "La opción {name!r} no lleva valor.",
    "Invalid value for {param_hint}: {message}": "Valor inválido para {param_hint}: {message}",
    "Invalid value: {message}": "Valor inválido: {message}",
    "Aborted!": "Cancelado.",
    "{value!r} is not a valid {number_type}.": "{value!r} no es un número válido.",
    "{value} is not in the range {range}.": "{value} no está en el rango {range}.",
    "default: {default}": "predeterminado: {default}",
    "env var: {var}": "variable: {var}",
}


def spanish(message: str) -> str:
    return SPANISH.get(message, message)


def install() -> None:
    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.types):
        module._ = spanish  # type: ignore[attr-defined]
