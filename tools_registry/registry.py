"""The tool registry: the built-in declarations plus those of installed packages.

Built-in tools are the TOML files of ``tools_registry/declarations/``. An operator adds
tools with no package at all by listing TOML files or directories of them in
``HERA_TOOLS_PATH`` (separated by ``os.pathsep``). Any installed
package adds tools with an entry point in the group ``hera.tools``; the object it names
is a TOML file path, a directory of TOML files, a declaration mapping, a
:class:`~tools_registry.declaration.Tool`, a list of these, or a function returning
one of them. Several versions of a tool coexist; ``latest(name)`` is the highest
version (PEP 440 ordering). A package whose entry point fails to load is logged and
skipped, so that one broken plug-in does not take the service down.
"""
from __future__ import annotations

import logging
import os
from importlib import metadata
from pathlib import Path

from .declaration import DeclarationError, Tool, from_dict, load_file

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hera.tools"
BUILTIN = Path(__file__).resolve().parent / "declarations"


class ToolNotFound(LookupError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _declarations(obj, source: str) -> list[Tool]:
    """The tools that an entry point's object stands for."""
    if isinstance(obj, Tool):
        return [obj]
    if isinstance(obj, dict):
        return [from_dict(obj, source)]
    if isinstance(obj, (str, Path)):
        path = Path(obj)
        if path.is_dir():
            return [t for f in sorted(path.glob("*.toml")) for t in load_file(f)]
        return load_file(path)
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _declarations(item, source)]
    if callable(obj):
        return _declarations(obj(), source)
    raise DeclarationError(f"{source}: a hera.tools entry point gives TOML paths, mappings or Tools, "
                           f"not {type(obj).__name__}")


class Registry:
    def __init__(self, tools=()):
        self._tools: dict[str, dict[str, Tool]] = {}
        for tool in tools:
            self.add(tool)

    @classmethod
    def load(cls, builtin: bool = True, entry_points: bool = True, paths=()) -> "Registry":
        """The built-ins, the declarations in ``paths`` (TOML files or directories; a
        string is split on ``os.pathsep``) and those of ``hera.tools`` entry points."""
        registry = cls()
        if builtin:
            for path in sorted(BUILTIN.glob("*.toml")):
                for tool in load_file(path):
                    registry.add(tool)
        if isinstance(paths, str):
            paths = [p for p in paths.split(os.pathsep) if p]
        for path in paths:
            for tool in _declarations(Path(path), str(path)):
                registry.add(tool)
        if entry_points:
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                source = f"entry point {ep.name} = {ep.value}" + (f" ({ep.dist.name})" if ep.dist else "")
                try:
                    tools = _declarations(ep.load(), source)
                except Exception:
                    log.exception("hera.tools: cannot load %s; its tools are not available", source)
                    continue
                for tool in tools:
                    where = f"{source}: {tool.source}" if tool.source else source
                    registry.add(Tool(**{**tool.__dict__, "source": where}))
        return registry

    def add(self, tool: Tool) -> None:
        versions = self._tools.setdefault(tool.name, {})
        if tool.version in versions:
            log.warning("tool %s is declared twice (%s and %s); keeping the first",
                        tool.ref, versions[tool.version].source, tool.source)
            return
        versions[tool.version] = tool

    def names(self) -> list[str]:
        return sorted(self._tools)

    def versions(self, name: str) -> list[Tool]:
        """Every version of ``name``, oldest first."""
        if name not in self._tools:
            raise ToolNotFound(f"no tool {name!r}; tools are {', '.join(self.names())}")
        return sorted(self._tools[name].values(), key=lambda t: t.sort_version)

    def latest(self, name: str) -> Tool:
        return self.versions(name)[-1]

    def get(self, name: str, version: str | None = None) -> Tool:
        """``name`` at ``version`` (None: the latest); ``"name@version"`` is understood too."""
        if version is None and "@" in name:
            name, version = name.split("@", 1)
        if version is None:
            return self.latest(name)
        for tool in self.versions(name):
            if tool.version == version:
                return tool
        known = ", ".join(t.version for t in self.versions(name))
        raise ToolNotFound(f"no version {version!r} of tool {name!r}; versions are {known}")

    def __iter__(self):
        """The latest version of every tool, by name."""
        return (self.latest(name) for name in self.names())

    def all(self) -> list[Tool]:
        return [t for name in self.names() for t in self.versions(name)]
