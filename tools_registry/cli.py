"""``hera tools list`` and ``hera tools show NAME[@VERSION]``: the tools this installation
serves (built-ins and ``hera.tools`` entry points), read without a running service."""
from __future__ import annotations

import os

import click

from .declaration import Tool
from .registry import Registry, ToolNotFound


def _registry() -> Registry:
    return Registry.load(paths=os.environ.get("HERA_TOOLS_PATH", ""))


@click.group("tools")
def tools():
    """The analysis tools this installation serves."""


@tools.command("list")
@click.option("--all", "all_versions", is_flag=True, help="Every version, not only the latest.")
def list_tools(all_versions):
    """List the tools: name, version(s), summary and where each is declared."""
    registry = _registry()
    for tool in registry:
        versions = [t.version for t in registry.versions(tool.name)]
        shown = ", ".join(versions) if all_versions else tool.version + (
            f" (also {', '.join(versions[:-1])})" if len(versions) > 1 else "")
        click.echo(f"{tool.name:<14} {shown:<12} {tool.summary}")


def _describe(tool: Tool) -> str:
    lines = [f"{tool.name} {tool.version} — {tool.summary}", ""]
    if tool.description:
        lines += [tool.description, ""]
    impl = tool.implementation
    lines.append("implementation: " + (f"python {impl.python}" if impl.python else "command " + " ".join(impl.command)))
    lines.append(f"declared in: {tool.source}")
    lines += ["", "parameters (in positional order):"]
    for p in tool.parameters:
        kind = p.type + (f" {p.direction}" if p.direction else "") + (" list" if p.multiple else "")
        facts = []
        if p.required:
            facts.append("required")
        if p.default is not None:
            facts.append(f"default {p.default}")
        if p.unit:
            facts.append(f"unit {p.unit}")
        if p.min is not None or p.max is not None:
            facts.append(f"range [{'' if p.min is None else p.min}, {'' if p.max is None else p.max}]")
        if p.options:
            facts.append("one of " + "|".join(p.options))
        if p.ucd:
            facts.append(f"UCD {p.ucd}")
        lines.append(f"  {p.name:<14} {kind:<10} {p.description}" + (f" [{'; '.join(facts)}]" if facts else ""))
    lines += ["", "outputs:"]
    lines += [f"  {o.name:<14} {o.content_type:<26} {o.description}" for o in tool.outputs]
    lines.append("  provenance     application/json           tool, version, parameters, input checksums, times, host")
    return "\n".join(lines)


@tools.command("show")
@click.argument("name")
def show_tool(name):
    """Show tool NAME (or NAME@VERSION): parameters, outputs, implementation."""
    try:
        tool = _registry().get(name)
    except ToolNotFound as err:
        raise click.ClickException(err.message)
    click.echo(_describe(tool))
