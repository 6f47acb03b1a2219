"""Spanish for click's own words (usage, options, its error messages).

click marks its messages with ``gettext``/``ngettext`` but ships no Spanish
catalog, and a compiled ``.mo`` file is more machinery than the job needs. So
each click module's ``_`` and ``ngettext`` are pointed at this table.
``tests/test_cli_field_i18n.py`` reads click's source and fails when a click
upgrade adds a message that is missing here.

Values quoted with ``{name!r}`` in click are shown in «» here: people read
«lista», not Python's ``'lista'``. The table must hold every placeholder a
message needs; extra keyword arguments click passes are ignored by ``format``.
"""

from __future__ import annotations

import importlib
import sys

import click

SPANISH: dict[str, str] = {
    # help pages
    "Usage:": "Uso:",
    "Options": "Opciones",
    "Commands": "Comandos",
    "Positional arguments": "Argumentos",
    "Show this message and exit.": "Muestra esta ayuda y termina.",
    "Show the version and exit.": "Muestra la versión y termina.",
    "%(prog)s, version %(version)s": "%(prog)s, versión %(version)s",
    "default: {default}": "predeterminado: {default}",
    "env var: {var}": "variable: {var}",
    "required": "obligatorio",
    "(dynamic)": "(variable)",
    "deprecated": "obsoleto",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}":
        "Aviso: el comando «{name}» está obsoleto.{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}":
        "Aviso: «{name}» está obsoleto.{extra_message}",
    # usage errors
    "Error: {message}": "Error: {message}",
    "Try '{command} {option}' for help.": "Pruebe «{command} {option}» para ver la ayuda.",
    "Missing argument": "Falta el argumento",
    "Missing option": "Falta la opción",
    "Missing parameter": "Falta el parámetro",
    "Missing {param_type}": "Falta un valor",
    "Missing parameter: {param_name}": "Falta el parámetro «{param_name}»",
    "Missing command.": "Falta el comando.",
    "No such command {name!r}.": "No existe el comando «{name}».",
    "No such option {name!r}.": "No existe la opción «{name}».",
    "Did you mean {possibility}?": "¿Quiso decir {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(¿Quiso decir alguna de estas: {possibilities}?)",
    "Option {name!r} does not take a value.": "La opción «{name}» no lleva valor.",
    "Option {name!r} requires an argument.": "La opción «{name}» necesita un valor.",
    "Option {name!r} requires {nargs} arguments.": "La opción «{name}» necesita {nargs} valores.",
    "Argument {name!r} takes {nargs} values.": "El argumento «{name}» lleva {nargs} valores.",
    "Got unexpected extra argument ({args})": "Sobra un argumento: {args}",
    "Got unexpected extra arguments ({args})": "Sobran argumentos: {args}",
    "Takes {nargs} values but 1 was given.": "Lleva {nargs} valores, pero se dio 1.",
    "Takes {nargs} values but {len} were given.": "Lleva {nargs} valores, pero se dieron {len}.",
    "{len_type} values are required, but {len_value} was given.":
        "Se necesitan {len_type} valores, pero se dio {len_value}.",
    "{len_type} values are required, but {len_value} were given.":
        "Se necesitan {len_type} valores, pero se dieron {len_value}.",
    "Value must be an iterable.": "El valor debe ser una lista.",
    "Invalid start character for option ({option})":
        "Carácter inicial inválido para una opción ({option})",
    # values
    "Invalid value for {param_hint}: {message}": "Valor inválido para {param_hint}: {message}",
    "Invalid value: {message}": "Valor inválido: {message}",
    "{value!r} is not {choice}.": "«{value}» no es {choice}.",
    "{value!r} is not one of {choices}.": "«{value}» no es ninguno de estos: {choices}.",
    "Choose from:\n\t{choices}": "Elija entre:\n\t{choices}",
    "Choice({choices})": "Opción({choices})",
    "{value!r} does not match the format {format}.": "«{value}» no tiene el formato {format}.",
    "{value!r} does not match the formats {formats}.":
        "«{value}» no tiene ninguno de los formatos {formats}.",
    "{value!r} is not a valid {number_type}.": "«{value}» no es un número válido.",
    "{value} is not in the range {range}.": "{value} no está en el rango {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "«{value}» no es un valor de sí o no. Valores admitidos: {states}",
    "{value!r} is not a valid UUID.": "«{value}» no es un UUID válido.",
    "file": "archivo",
    "directory": "carpeta",
    "path": "ruta",
    # {name} is click's «Archivo»/«Carpeta»/«Ruta», capitalized: the sentences don't need it
    "{name} {filename!r} does not exist.": "No existe «{filename}».",
    "{name} {filename!r} is a file.": "«{filename}» es un archivo; indique una carpeta.",
    "{name} {filename!r} is a directory.": "«{filename}» es una carpeta; indique un archivo.",
    "{name} {filename!r} is not readable.": "No se puede leer «{filename}»: revise los permisos.",
    "{name} {filename!r} is not writable.":
        "No se puede escribir en «{filename}»: revise los permisos.",
    "{name} {filename!r} is not executable.": "No se puede ejecutar «{filename}».",
    "Could not open file {filename!r}: {message}": "No se pudo abrir «{filename}»: {message}",
    "unknown error": "error desconocido",
    # prompts and terminal
    "Aborted!": "Cancelado.",
    "Do you want to continue?": "¿Desea continuar?",
    "Confirm the action without prompting.": "Confirma la acción sin preguntar.",
    "Repeat for confirmation": "Repita para confirmar",
    "Error: The two entered values do not match.": "Error: los dos valores no coinciden.",
    "Error: invalid input": "Error: valor inválido",
    "Press any key to continue...": "Pulse una tecla para continuar…",
    "d": "d",
    "{editor}: Editing failed": "{editor}: falló la edición",
    "{editor}: Editing failed: {e}": "{editor}: falló la edición: {e}",
    "Windows error: {error}": "Error de Windows: {error}",
    "Unknown color {colour!r}": "Color desconocido: «{colour}»",
    "Unknown standard stream '{name}'": "Flujo estándar desconocido: «{name}»",
    "Couldn't detect Bash version, shell completion is not supported.":
        "No se pudo detectar la versión de Bash; el autocompletado no está disponible.",
    "Shell completion is not supported for Bash versions older than 4.4.":
        "El autocompletado necesita Bash 4.4 o posterior.",
    # mistakes in a command's own definition (reach developers, but Spanish all the same)
    "Could not determine name for option with declarations {decls!r}":
        "No se pudo determinar el nombre de la opción declarada como {decls!r}",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument "
    "instead? Did you mean to pass '--{name}'?":
        "No hay opciones declaradas pero se pasó un nombre ({name}). ¿Quería declarar un "
        "argumento, o pasar «--{name}»?",
    "Name '{name}' defined twice": "El nombre «{name}» está declarado dos veces",
    "Boolean option {decl!r} cannot use the same flag for true/false.":
        "La opción de sí o no {decl!r} no puede usar la misma marca para sí y para no.",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.":
        "Un argumento lleva exactamente una declaración; se dieron {length}: {decls}.",
}

# Metavars click writes in usage lines and option lists (from type names and its defaults).
OPTIONS_METAVAR = "[OPCIONES]"
SUBCOMMAND_METAVAR = "COMANDO [ARGUMENTOS]..."
TYPE_METAVARS = {
    "text": "TEXTO", "integer": "NÚMERO", "integer range": "NÚMERO", "float": "NÚMERO",
    "float range": "NÚMERO", "boolean": "SÍ|NO", "datetime": "FECHA", "uuid": "UUID",
    "filename": "ARCHIVO", "file": "ARCHIVO", "directory": "CARPETA", "path": "RUTA",
}
# Arguments named in English in the code get a Spanish name in usage lines.
ARGUMENT_METAVARS = {
    "username": "USUARIO", "paths": "RUTA", "path": "RUTA", "query": "CONSULTA",
    "file": "ARCHIVO", "code": "CÓDIGO", "codes": "CÓDIGO", "name": "NOMBRE",
    "source": "ORIGEN", "target": "DESTINO", "old": "ANTERIOR", "new": "NUEVO",
    "numbers": "NÚMERO", "item": "ÍTEM", "dias": "DÍAS", "seleccion": "SELECCIÓN",
    "codigos": "CÓDIGO", "codigo": "CÓDIGO", "numero": "NÚMERO",
}

# Every click module that imports gettext's functions under these names.
_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "shell_completion",
            "termui", "_termui_impl", "types", "utils", "_winconsole")


def spanish(message: str) -> str:
    return SPANISH.get(message, message)


def spanish_plural(singular: str, plural: str, count: int) -> str:
    return spanish(singular if count == 1 else plural)


def install() -> None:
    """Point click's ``_``/``ngettext`` at the table. Run before any command is declared:
    click translates some words (``click.Path``'s «archivo») when a command is built."""
    for name in _MODULES:
        if name == "_winconsole" and sys.platform != "win32":  # it asserts Windows on import
            continue
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = spanish  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = spanish_plural  # type: ignore[attr-defined]
    if hasattr(click.exceptions, "_format_possibilities"):  # quotes names with repr()
        click.exceptions._format_possibilities = _possibilities  # type: ignore[attr-defined]


def _possibilities(possibilities: list[str]) -> str:
    """«¿Quiso decir «lista»?», as click words it but with Spanish quotes."""
    names = ", ".join(f"«{p}»" for p in sorted(possibilities))
    return spanish_plural("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)",
                          len(possibilities)).format(possibility=names, possibilities=names)


def localize(command: click.Command) -> None:
    """Spanish metavars for ``command`` and everything below it, where the code gave none."""
    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = OPTIONS_METAVAR
    if isinstance(command, click.Group):
        if command.subcommand_metavar == "COMMAND [ARGS]...":
            command.subcommand_metavar = SUBCOMMAND_METAVAR
        for sub in command.commands.values():
            localize(sub)
    for param in command.params:
        if param.metavar is not None or getattr(param, "is_flag", False):
            continue
        if isinstance(param, click.Argument) and param.name in ARGUMENT_METAVARS:
            param.metavar = _argument_metavar(param, ARGUMENT_METAVARS[param.name])
        elif isinstance(param, click.Option) and param.type.name in TYPE_METAVARS \
                and not isinstance(param.type, click.Choice):
            param.metavar = TYPE_METAVARS[param.type.name]


def _argument_metavar(param: click.Argument, name: str) -> str:
    """What click would write for the argument (optional in [], repeatable with ...)."""
    text = name if param.required else f"[{name}]"
    return text + ("..." if param.nargs != 1 else "")
