"""Tool declarations: what a tool is, as data, and the checking of its parameters.

A tool is declared in TOML (``tools_registry/declarations/*.toml``, or any file a
package names through a ``hera.tools`` entry point; docs/tools.md has the format):
name, version, summary, description, parameters in positional order, outputs, and an
implementation — a Python callable (``python = "module:function"``) or a command line
template run as an argument list without a shell (``command = ["prog", "{infile}"]``).

``Tool.check(values)`` turns UWS parameter strings into the normalized strings a job
keeps, refusing wrong types, values out of range, unknown and missing parameters with a
:class:`ParameterError` naming the parameter; ``Tool.values(params)`` gives the typed
values, defaults filled in, that the implementation is called with.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

TYPES = ("integer", "real", "boolean", "string", "enum", "file", "table")
FILE_TYPES = ("file", "table")
#: the job parameter that asks for a fresh run instead of reusing an identical job's products
FRESH = "fresh"
#: placeholders a command template may use besides the parameters' names
RESERVED = {FRESH, "workdir"}
TRUE = {"true", "yes", "y", "t", "1", "on"}
FALSE = {"false", "no", "n", "f", "0", "off"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TOOL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(\?([^{}]*))?\}")


class DeclarationError(ValueError):
    """A tool declaration that is not valid (raised when it is loaded)."""


class ParameterError(ValueError):
    """A job parameter value the tool refuses; ``name`` is the parameter."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name


def split_list(text: str) -> list[str]:
    """Comma-separated file names, not splitting inside CFITSIO brackets
    (``a.fits[col TIME, RATE],b.fits`` is two names)."""
    items, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += {"[": 1, "]": -1}.get(c, 0)
        if c == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    items.append(text[start:].strip())
    return items


def parse_boolean(text: str) -> bool:
    value = str(text).strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(f"must be yes or no (true/false), not {text!r}")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    description: str = ""
    direction: str | None = None  # "in" or "out", file and table parameters only
    unit: str | None = None
    ucd: str | None = None
    default: object = None
    min: float | None = None
    max: float | None = None
    required: bool = False
    options: tuple[str, ...] = ()
    #: a file parameter taking a comma-separated list of workspace paths
    multiple: bool = False
    #: a regular expression a string value must match (case-insensitively)
    pattern: str | None = None

    @property
    def is_file(self) -> bool:
        return self.type in FILE_TYPES

    def convert(self, text: str):
        """The Python value of ``text``, or ValueError with a message for the user."""
        value = str(text).strip()
        if self.type == "integer":
            try:
                number = int(value)
            except ValueError:
                raise ValueError(f"must be a whole number, not {text!r}") from None
            self._check_range(number)
            return number
        if self.type == "real":
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"must be a number, not {text!r}") from None
            if not math.isfinite(number):
                raise ValueError(f"must be a finite number, not {text!r}")
            self._check_range(number)
            return number
        if self.type == "boolean":
            return parse_boolean(value)
        if self.type == "enum":
            for option in self.options:
                if option.lower() == value.lower():
                    return option
            raise ValueError(f"must be one of {', '.join(self.options)}, not {text!r}")
        if self.is_file:
            paths = split_list(value) if self.multiple else [value]
            if not all(paths):
                raise ValueError("needs a workspace path" + (" for each file" if self.multiple else ""))
            return paths if self.multiple else paths[0]
        if self.pattern and not re.fullmatch(self.pattern, value, re.IGNORECASE):
            raise ValueError(f"{text!r} is not of the form {self.pattern}")
        return str(text)

    def _check_range(self, number):
        if self.min is not None and number < self.min:
            raise ValueError(f"must be at least {_plain(self.min)}, not {_plain(number)}")
        if self.max is not None and number > self.max:
            raise ValueError(f"must be at most {_plain(self.max)}, not {_plain(number)}")


def _plain(number) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


@dataclass(frozen=True)
class Output:
    name: str
    content_type: str = "application/octet-stream"
    description: str = ""
    #: the command's standard output is this output (command tools only)
    stdout: bool = False


@dataclass(frozen=True)
class Implementation:
    python: str | None = None
    command: tuple[str, ...] | None = None
    #: environment variables of the command; ``{workdir}`` and ``$VAR`` expand
    env: tuple[tuple[str, str], ...] = ()
    #: how a boolean is written into a command line: (true, false)
    booleans: tuple[str, str] = ("yes", "no")


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    summary: str
    implementation: Implementation
    description: str = ""
    parameters: tuple[Parameter, ...] = ()
    outputs: tuple[Output, ...] = ()
    #: where the declaration came from (a file path, or an entry point)
    source: str = ""

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def sort_version(self) -> Version:
        return Version(self.version)

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def file_parameters(self, direction: str):
        return [p for p in self.parameters if p.is_file and p.direction == direction]

    def check(self, given: dict[str, str]) -> dict[str, str]:
        """Normalized job parameters (names lower case, values stripped), or ParameterError."""
        params = {}
        for raw_name, value in given.items():
            name = raw_name.lower()
            if name == FRESH:
                try:
                    parse_boolean(value)
                except ValueError as error:
                    raise ParameterError(FRESH, str(error)) from None
                params[name] = str(value).strip()
                continue
            parameter = self.parameter(name)
            if parameter is None:
                known = ", ".join(p.name for p in self.parameters) or "none"
                raise ParameterError(raw_name, f"unknown parameter of {self.name} (its parameters: {known})")
            try:
                parameter.convert(value)
            except ValueError as error:
                raise ParameterError(name, str(error)) from None
            params[name] = value if parameter.type == "string" else str(value).strip()
        for parameter in self.parameters:
            if parameter.required and parameter.name not in params:
                raise ParameterError(parameter.name, f"required parameter missing ({parameter.description})"
                                     if parameter.description else "required parameter missing")
        return params

    def values(self, params: dict[str, str]) -> dict[str, object]:
        """Typed values of checked ``params``, with defaults; unset optional ones absent."""
        values = {}
        for parameter in self.parameters:
            if parameter.name in params:
                values[parameter.name] = parameter.convert(params[parameter.name])
            elif parameter.default is not None:
                values[parameter.name] = parameter.default
        return values

    def fresh(self, params: dict[str, str]) -> bool:
        return parse_boolean(params[FRESH]) if FRESH in params else False


# -- loading --------------------------------------------------------------------------------
def load_file(path: str | Path) -> list[Tool]:
    """The tools declared in a TOML file (``[[tool]]`` tables)."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise DeclarationError(f"{path}: {error}") from None
    tools = document.get("tool")
    if not isinstance(tools, list) or not tools:
        raise DeclarationError(f"{path}: declares no [[tool]]")
    return [from_dict(t, str(path)) for t in tools]


def from_dict(data: dict, source: str = "") -> Tool:
    """A Tool from its declaration as a mapping (the TOML structure)."""
    where = f"{source}: tool {data.get('name', '?')!r}"
    known = {"name", "version", "summary", "description", "python", "command", "env", "booleans",
             "parameter", "output"}
    _no_unknown(data, known, where)
    for key in ("name", "version", "summary"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise DeclarationError(f"{where}: needs a {key}")
    if not _TOOL_NAME.match(data["name"]):
        raise DeclarationError(f"{where}: a tool name is letters, digits, '_' and '-'")
    try:
        Version(data["version"])
    except InvalidVersion:
        raise DeclarationError(f"{where}: version {data['version']!r} is not a version number such as 1.2.0") from None
    parameters = tuple(_parameter(p, where) for p in data.get("parameter", []))
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise DeclarationError(f"{where}: a parameter is declared twice")
    outputs = tuple(_output(o, where) for o in data.get("output", []))
    implementation = _implementation(data, where, parameters)
    out_files = {p.name for p in parameters if p.is_file and p.direction == "out"}
    for output in outputs:
        if output.stdout and implementation.command is None:
            raise DeclarationError(f"{where}: output {output.name!r}: stdout is for command tools")
        if not output.stdout and output.name not in out_files:
            raise DeclarationError(f"{where}: output {output.name!r} needs a parameter of that name "
                                   "(type file, direction out) or stdout = true")
    if sum(o.stdout for o in outputs) > 1:
        raise DeclarationError(f"{where}: only one output can be the standard output")
    return Tool(name=data["name"], version=data["version"], summary=data["summary"].strip(),
                description=data.get("description", "").strip(), parameters=parameters,
                outputs=outputs, implementation=implementation, source=source)


def _no_unknown(data: dict, known: set, where: str):
    unknown = set(data) - known
    if unknown:
        raise DeclarationError(f"{where}: unknown key{'s' * (len(unknown) > 1)} {', '.join(sorted(unknown))}")


def _parameter(data: dict, where: str) -> Parameter:
    _no_unknown(data, {"name", "type", "description", "direction", "unit", "ucd", "default", "min", "max",
                       "required", "options", "multiple", "pattern"}, where)
    name = data.get("name", "")
    where = f"{where}: parameter {name!r}"
    if not _NAME.match(name) or name in RESERVED:
        raise DeclarationError(f"{where}: a parameter name is lower-case letters, digits and '_', "
                               f"and not one of {', '.join(sorted(RESERVED))}")
    kind = data.get("type")
    if kind not in TYPES:
        raise DeclarationError(f"{where}: type must be one of {', '.join(TYPES)}")
    direction = data.get("direction")
    if kind in FILE_TYPES:
        direction = direction or "in"
        if direction not in ("in", "out"):
            raise DeclarationError(f"{where}: direction must be in or out")
        if kind == "table" and direction == "out":
            raise DeclarationError(f"{where}: a table parameter is an input; declare outputs as files")
    elif direction is not None:
        raise DeclarationError(f"{where}: only file and table parameters have a direction")
    options = tuple(str(o) for o in data.get("options", ()))
    if kind == "enum" and not options:
        raise DeclarationError(f"{where}: an enum needs options")
    if kind not in ("integer", "real") and ("min" in data or "max" in data):
        raise DeclarationError(f"{where}: only integer and real parameters have min and max")
    parameter = Parameter(
        name=name, type=kind, description=data.get("description", "").strip(), direction=direction,
        unit=data.get("unit"), ucd=data.get("ucd"), min=data.get("min"), max=data.get("max"),
        required=bool(data.get("required", False)), options=options,
        multiple=bool(data.get("multiple", False)), pattern=data.get("pattern"))
    if "default" in data:
        if parameter.required:
            raise DeclarationError(f"{where}: a required parameter has no default")
        try:
            default = parameter.convert(data["default"] if not isinstance(data["default"], bool)
                                        else ("yes" if data["default"] else "no"))
        except ValueError as error:
            raise DeclarationError(f"{where}: default {error}") from None
        parameter = Parameter(**{**parameter.__dict__, "default": default})
    return parameter


def _output(data: dict, where: str) -> Output:
    _no_unknown(data, {"name", "content_type", "description", "stdout"}, where)
    if not _NAME.match(data.get("name", "")) or data["name"] == "provenance":
        raise DeclarationError(f"{where}: output name {data.get('name')!r} (lower-case, not 'provenance')")
    return Output(name=data["name"], content_type=data.get("content_type", "application/octet-stream"),
                  description=data.get("description", "").strip(), stdout=bool(data.get("stdout", False)))


def _implementation(data: dict, where: str, parameters) -> Implementation:
    python, command = data.get("python"), data.get("command")
    if (python is None) == (command is None):
        raise DeclarationError(f"{where}: give either python = \"module:function\" or command = [...]")
    if python is not None:
        if not re.match(r"^[\w.]+:\w+$", python):
            raise DeclarationError(f"{where}: python must be \"module:function\", not {python!r}")
        if "env" in data or "booleans" in data:
            raise DeclarationError(f"{where}: env and booleans are for command tools")
        return Implementation(python=python)
    if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
        raise DeclarationError(f"{where}: command must be a non-empty list of strings")
    names = {p.name for p in parameters} | {"workdir"}
    for argument in command:
        for match in _PLACEHOLDER.finditer(argument):
            if match.group(1) not in names:
                raise DeclarationError(f"{where}: command placeholder {{{match.group(1)}}} names no parameter")
    if "{" in command[0]:
        raise DeclarationError(f"{where}: the program itself (command[0]) cannot be a placeholder")
    env = data.get("env", {})
    booleans = tuple(data.get("booleans", ("yes", "no")))
    if len(booleans) != 2:
        raise DeclarationError(f"{where}: booleans is [true text, false text]")
    return Implementation(command=tuple(command), env=tuple(sorted(env.items())), booleans=booleans)
