"""Where the client finds the service: ``hera login`` stores the URL and token in a
per-user file (mode 0600), ``HERA_URL``/``HERA_TOKEN`` override it.

The file is ``$XDG_CONFIG_HOME/hera/config.json`` (``~/.config/hera/config.json`` when
XDG_CONFIG_HOME is unset): ``{"url": "...", "token": "..."}``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import HeraError


@dataclass(frozen=True)
class Settings:
    url: str | None
    token: str | None
    source: str  # where the URL came from: "environment", the config file's path, or "none"


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hera" / "config.json"


def read_file() -> dict:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise HeraError(f"cannot read {path}: {err}")
    return data if isinstance(data, dict) else {}


def load(url: str | None = None, token: str | None = None) -> Settings:
    """The service to talk to: explicit arguments, then the environment, then the file."""
    stored = read_file()
    env_url, env_token = os.environ.get("HERA_URL"), os.environ.get("HERA_TOKEN")
    if url:
        source = "command line"
    elif env_url:
        url, source = env_url, "environment"
    elif stored.get("url"):
        url, source = stored["url"], str(config_path())
    else:
        source = "none"
    if token is None:
        token = env_token if env_token is not None else stored.get("token")
    return Settings(url.rstrip("/") if url else None, token or None, source)


def configured() -> bool:
    """True when a service URL is known (used by the server's ``hera`` to pick the client)."""
    try:
        return load().url is not None
    except HeraError:
        return False


def save(url: str, token: str | None) -> Path:
    """Store URL and token, readable by the user only (directory 0700, file 0600)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": url.rstrip("/"), "token": token}, f, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def forget() -> bool:
    """Remove the stored login; True when there was one."""
    try:
        config_path().unlink()
        return True
    except FileNotFoundError:
        return False
