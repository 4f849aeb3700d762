"""The tools pages: the list of tools, and for each a form generated from its JSON
descriptor (``/tools/{name}/descriptor?format=json``). The page's script submits the
form to the tool's UWS job list with ``PHASE=RUN`` and opens the new job's page."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import abort, render_template

from .blueprint import bp, service_json


@dataclass
class Field:
    """One input of a tool's form, as the template draws it."""

    name: str
    widget: str                   #: number, checkbox, select, text, file-in, file-out
    default: str = ""
    required: bool = False
    unit: str | None = None
    help: str = ""
    min: str | None = None
    max: str | None = None
    step: str | None = None
    options: tuple[str, ...] = ()

    @property
    def range_text(self) -> str:
        if self.min is not None and self.max is not None:
            return f"{self.min} … {self.max}"
        if self.min is not None:
            return f"≥ {self.min}"
        if self.max is not None:
            return f"≤ {self.max}"
        return ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def form_fields(descriptor: dict) -> list[Field]:
    """The form of a tool, one field per parameter in the descriptor's (positional) order."""
    fields = []
    for p in descriptor.get("parameters", []):
        kind, direction = p.get("type", "string"), p.get("direction", "in")
        widget = {"integer": "number", "real": "number", "boolean": "checkbox", "enum": "select",
                  "file": "file-out" if direction == "out" else "file-in",
                  "table": "file-out" if direction == "out" else "file-in"}.get(kind, "text")
        options = tuple(_text(o) for o in (p.get("options") or ()))
        if options and widget == "text":
            widget = "select"
        fields.append(Field(
            name=p["name"], widget=widget, default=_text(p.get("default")),
            required=bool(p.get("required")), unit=p.get("unit") or None, help=p.get("description") or "",
            min=None if p.get("min") is None else _text(p["min"]),
            max=None if p.get("max") is None else _text(p["max"]),
            step="1" if kind == "integer" else ("any" if kind == "real" else None),
            options=options))
    return fields


@bp.get("/ui/tools")
def tools():
    listing = service_json("/tools?format=json")
    return render_template("tools.html", tools=(listing or {}).get("tools"), available=listing is not None)


@bp.get("/ui/tools/<name>")
def tool(name):
    descriptor = service_json(f"/tools/{quote(name, safe='@')}/descriptor?format=json")
    if descriptor is None:
        abort(404, f"no tool {name!r} on this service (see the list of tools)")
    return render_template("tool.html", name=name, descriptor=descriptor, fields=form_fields(descriptor),
                           joblist_url=f"/tools/{quote(name, safe='@')}")
