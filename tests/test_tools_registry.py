"""Tool declarations, parameter checking, the registry with ``hera.tools`` entry points and
coexisting versions, command-line templates run without a shell, and ``hera tools``."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from tools_registry import command
from tools_registry.declaration import TYPES, DeclarationError, ParameterError, from_dict, load_file
from tools_registry.registry import Registry, ToolNotFound

BUILTIN = {"ftlist", "ftcopy", "fsort", "fselect", "fstatistic", "fcalc", "fmerge", "scw_coverage", "lcurve",
           "specfit"}


def declaration(**changes):
    base = {"name": "demo", "version": "1.0", "summary": "a demo", "python": "demo:run",
            "parameter": [{"name": "infile", "type": "file", "direction": "in", "required": True},
                          {"name": "outfile", "type": "file", "direction": "out", "required": True},
                          {"name": "binsize", "type": "real", "unit": "s", "min": 0.5, "max": 100, "default": 10},
                          {"name": "count", "type": "integer", "min": 1},
                          {"name": "method", "type": "enum", "options": ["heap", "shell"], "default": "heap"},
                          {"name": "clobber", "type": "boolean", "default": False}],
            "output": [{"name": "outfile", "content_type": "application/fits"}]}
    base.update(changes)
    return base


# -- declarations ------------------------------------------------------------------------------
def test_every_builtin_tool_is_declared_with_typed_parameters_and_outputs():
    registry = Registry.load(entry_points=False)
    assert set(registry.names()) == BUILTIN
    for tool in registry:
        assert tool.summary and tool.implementation.python
        assert all(p.type in TYPES for p in tool.parameters)
        out_files = {p.name for p in tool.parameters if p.is_file and p.direction == "out"}
        assert {o.name for o in tool.outputs} <= out_files and tool.outputs
    assert [p.name for p in registry.get("ftcopy").parameters][:2] == ["infile", "outfile"]
    assert registry.get("fsort").parameter("method").options == ("heap", "insert", "shell")
    assert registry.get("scw_coverage").parameter("ra").ucd == "pos.eq.ra"
    assert registry.get("lcurve").parameter("binsize").unit == "s"


@pytest.mark.parametrize("changes, message", [
    ({"version": "one"}, "not a version number"),
    ({"name": "bad name"}, "tool name"),
    ({"summary": ""}, "needs a summary"),
    ({"colour": "red"}, "unknown key colour"),
    ({"python": None}, "either python"),
    ({"command": ["sort", "{nothere}"], "python": None}, "names no parameter"),
    ({"parameter": [{"name": "x", "type": "complex"}]}, "type must be one of"),
    ({"parameter": [{"name": "x", "type": "enum"}]}, "an enum needs options"),
    ({"parameter": [{"name": "x", "type": "string", "min": 1}]}, "only integer and real"),
    ({"parameter": [{"name": "fresh", "type": "boolean"}]}, "not one of"),
    ({"parameter": [{"name": "x", "type": "real", "default": "abc"}]}, "default must be a number"),
    ({"output": [{"name": "plot"}]}, "needs a parameter of that name"),
])
def test_invalid_declarations_are_refused_when_loaded(changes, message):
    with pytest.raises(DeclarationError, match=message):
        from_dict(declaration(**changes), "test")


def test_parameters_are_checked_by_type_range_name_and_presence():
    tool = from_dict(declaration(), "test")
    ok = tool.check({"INFILE": "a.fits", "outfile": "b.fits", "binsize": " 2.5 ", "method": "SHELL"})
    assert ok == {"infile": "a.fits", "outfile": "b.fits", "binsize": "2.5", "method": "SHELL"}
    assert tool.values(ok) == {"infile": "a.fits", "outfile": "b.fits", "binsize": 2.5, "method": "shell",
                               "clobber": False}
    cases = [
        ({"binsize": "ten"}, "binsize", "must be a number"),
        ({"binsize": "0.1"}, "binsize", "at least 0.5"),
        ({"binsize": "1000"}, "binsize", "at most 100"),
        ({"binsize": "nan"}, "binsize", "finite"),
        ({"count": "2.5"}, "count", "whole number"),
        ({"count": "0"}, "count", "at least 1"),
        ({"method": "bubble"}, "method", "one of heap, shell"),
        ({"clobber": "maybe"}, "clobber", "yes or no"),
        ({"colour": "red"}, "colour", "unknown parameter"),
        ({"fresh": "perhaps"}, "fresh", "yes or no"),
    ]
    for change, name, message in cases:
        with pytest.raises(ParameterError, match=message) as err:
            tool.check({"infile": "a.fits", "outfile": "b.fits", **change})
        assert err.value.name == name and str(err.value).startswith(name + ":")
    with pytest.raises(ParameterError, match="outfile: required parameter missing"):
        tool.check({"infile": "a.fits"})


# -- the registry: entry points and versions ------------------------------------------------------
@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A package installed the way pip would (a dist-info with entry_points.txt), on sys.path."""
    site = tmp_path / "site"
    package = site / "hera_demo_tools"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent('''
        from pathlib import Path

        def declarations():
            return [Path(__file__).parent / "tools.toml"]

        def add(a, b):
            return {"sum": a + b}
        '''))
    (package / "tools.toml").write_text(textwrap.dedent('''
        [[tool]]
        name = "demo_add"
        version = "1.0.0"
        summary = "Add two numbers (first version)"
        python = "hera_demo_tools:add"
          [[tool.parameter]]
          name = "a"
          type = "real"
          required = true
          [[tool.parameter]]
          name = "b"
          type = "real"
          default = 1.0

        [[tool]]
        name = "demo_add"
        version = "1.10.0"
        summary = "Add two numbers (a later version)"
        python = "hera_demo_tools:add"
          [[tool.parameter]]
          name = "a"
          type = "real"
          required = true
          [[tool.parameter]]
          name = "b"
          type = "real"
          default = 2.0

        [[tool]]
        name = "fstatistic"
        version = "2.0.0"
        summary = "A newer fstatistic from a plug-in"
        python = "tools_registry.ftools.fstatistic:fstatistic"
          [[tool.parameter]]
          name = "infile"
          type = "file"
          required = true
        '''))
    info = site / "hera_demo_tools-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hera-demo-tools\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[hera.tools]\ndemo = hera_demo_tools:declarations\nbroken = hera_demo_tools:no_such_thing\n")
    monkeypatch.syspath_prepend(str(site))
    return site


def test_entry_points_add_tools_and_versions_coexist(plugin, caplog):
    registry = Registry.load()
    assert set(registry.names()) == BUILTIN | {"demo_add"}
    assert [t.version for t in registry.versions("demo_add")] == ["1.0.0", "1.10.0"]
    assert registry.latest("demo_add").version == "1.10.0"  # PEP 440 order, not text order
    assert registry.get("demo_add", "1.0.0").parameter("b").default == 1.0
    assert registry.get("demo_add@1.10.0").summary.endswith("later version)")
    assert [t.version for t in registry.versions("fstatistic")] == ["1.0.0", "2.0.0"]
    assert "hera-demo-tools" in registry.latest("demo_add").source
    assert "broken" in caplog.text  # a plug-in that fails to load is logged and skipped
    with pytest.raises(ToolNotFound, match="versions are 1.0.0, 1.10.0"):
        registry.get("demo_add", "3.0")
    with pytest.raises(ToolNotFound, match="no tool 'nope'"):
        registry.get("nope")


def test_without_the_package_its_tools_are_gone():
    assert "demo_add" not in Registry.load().names()


def test_operator_declarations_from_a_path(tmp_path):
    (tmp_path / "local.toml").write_text(textwrap.dedent('''
        [[tool]]
        name = "lines"
        version = "0.1"
        summary = "sort lines"
        command = ["sort", "{infile}"]
          [[tool.parameter]]
          name = "infile"
          type = "file"
          required = true
          [[tool.output]]
          name = "sorted"
          content_type = "text/plain"
          stdout = true
        '''))
    registry = Registry.load(entry_points=False, paths=str(tmp_path))
    assert registry.get("lines").implementation.command == ("sort", "{infile}")


# -- command-line templates ----------------------------------------------------------------------
SORT_TOOL = textwrap.dedent('''
    [[tool]]
    name = "sort_lines"
    version = "1.0"
    summary = "Sort the lines of a text file with the system's sort"
    command = ["sort", "{reverse?-r}", "--key={key}", "--", "{infile}"]
    env = { LC_ALL = "C" }
      [[tool.parameter]]
      name = "infile"
      type = "file"
      required = true
      [[tool.parameter]]
      name = "key"
      type = "string"
      [[tool.parameter]]
      name = "reverse"
      type = "boolean"
      default = false
      [[tool.output]]
      name = "sorted"
      content_type = "text/plain"
      stdout = true
    ''')


@pytest.fixture
def sort_tool(tmp_path):
    path = tmp_path / "sort.toml"
    path.write_text(SORT_TOOL)
    return load_file(path)[0]


def test_a_template_becomes_an_argument_list_and_values_never_meet_a_shell(sort_tool, tmp_path):
    hostile = "1; rm -rf / $(touch PWNED) `id` && echo"
    args = command.argv(sort_tool.implementation, {"infile": "/d/in.txt", "key": hostile, "reverse": True},
                        tmp_path)
    assert args == ["sort", "-r", f"--key={hostile}", "--", "/d/in.txt"]
    bare = command.argv(sort_tool.implementation, {"infile": "/d/in.txt", "reverse": False}, tmp_path)
    assert bare == ["sort", "--", "/d/in.txt"]  # unset and false arguments are left out


def test_a_real_executable_runs_from_its_template(sort_tool, tmp_path):
    lines = ["delta 4", "alpha 9", "charlie 1", "bravo 7", "$(touch PWNED)"]
    infile = tmp_path / "in.txt"
    infile.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.txt"
    work = tmp_path / "work"
    work.mkdir()
    command.run(sort_tool.implementation, {"infile": str(infile), "reverse": True}, work, out)
    assert out.read_text().splitlines() == sorted(lines, reverse=True)
    command.run(sort_tool.implementation, {"infile": str(infile), "key": "2,2n", "reverse": False}, work, out)
    assert out.read_text().splitlines() == sorted(lines, key=lambda s: int(s.split()[1]) if s[0] != "$" else 0)
    assert not (work / "PWNED").exists() and not Path("PWNED").exists()


def test_a_failing_program_reports_its_status_and_standard_error(tmp_path):
    script = tmp_path / "fails.sh"
    script.write_text('#!/bin/sh\necho "bad input: $1" >&2\nexit 3\n')
    script.chmod(0o755)
    tool = from_dict({"name": "fails", "version": "1", "summary": "fails", "command": [str(script), "{x}"],
                      "parameter": [{"name": "x", "type": "string"}]}, "test")
    with pytest.raises(RuntimeError, match=r"fails.sh exited with status 3: bad input: 42"):
        command.run(tool.implementation, {"x": "42"}, tmp_path, None)
    missing = from_dict({"name": "gone", "version": "1", "summary": "x", "command": ["/no/such/program"]}, "t")
    with pytest.raises(RuntimeError, match="cannot run '/no/such/program'"):
        command.run(missing.implementation, {}, tmp_path, None)


def test_env_expands_the_work_directory_and_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADAS", "/opt/heasoft")
    tool = from_dict({"name": "ft", "version": "1", "summary": "x", "command": ["env"],
                      "env": {"PFILES": "{workdir};$HEADAS/syspfiles"}}, "t")
    assert command.environment(tool.implementation, tmp_path)["PFILES"] == f"{tmp_path};/opt/heasoft/syspfiles"


# -- hera tools list / show ---------------------------------------------------------------------
def test_hera_tools_list_and_show_read_the_registry(plugin):
    from tools_registry.cli import tools
    runner = CliRunner()
    listing = runner.invoke(tools, ["list"])
    assert listing.exit_code == 0, listing.output
    assert "ftlist" in listing.output and "demo_add       1.10.0 (also 1.0.0)" in listing.output
    shown = runner.invoke(tools, ["show", "fsort"])
    assert shown.exit_code == 0
    assert "method" in shown.output and "one of heap|insert|shell" in shown.output
    assert "provenance" in shown.output
    pinned = runner.invoke(tools, ["show", "demo_add@1.0.0"])
    assert "default 1.0" in pinned.output
    missing = runner.invoke(tools, ["show", "nope"])
    assert missing.exit_code != 0 and "no tool 'nope'" in missing.output


def test_hera_command_serves_the_tools_group_locally(tmp_path):
    import subprocess
    import sys
    env = {**os.environ, "HERA_DATA_DIR": str(tmp_path / "data"), "HERA_URL": ""}
    env.pop("HERA_URL")
    done = subprocess.run([sys.executable, "-m", "vo_service.cli", "tools", "show", "ftlist", "--local"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "option" in done.stdout and "infile" in done.stdout


def test_a_plugins_tools_are_served_with_their_versions(plugin, app, client):
    listing = {t["name"]: t for t in client.get("/tools?format=json").json["tools"]}
    assert listing["demo_add"]["version"] == "1.10.0" and listing["demo_add"]["versions"] == ["1.0.0", "1.10.0"]
    old = client.get("/tools/demo_add@1.0.0/descriptor?format=json").json
    assert old["version"] == "1.0.0" and old["parameters"][1]["default"] == 1.0
    response = client.post("/tools/demo_add", data={"a": "2"})
    assert response.status_code == 303 and "/tools/demo_add/" in response.headers["Location"]
    refused = client.post("/tools/demo_add@1.0.0", data={"a": "two"})
    assert refused.status_code == 400 and refused.data.startswith(b"a: must be a number")
