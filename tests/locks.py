"""The lock files (`make lock`): what they pin, and where they are."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.markers import Marker

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNTIME_REQUIREMENTS = REPO_ROOT / "layers" / "common" / "requirements.txt"
RUNTIME_LOCK = REPO_ROOT / "layers" / "common" / "requirements.lock"
DEV_LOCK = REPO_ROOT / "requirements-dev.lock"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;\s*([^\\]+))?")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """normalized name -> (pinned version, its hashes), for the pins that apply here (the
    development lock is universal: a pin may carry an environment marker)."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            marker = match.group(3)
            if marker and not Marker(marker.strip()).evaluate():
                current = None
                continue
            current = normalize(match.group(1))
            pins[current] = (match.group(2), [])
        elif current and line.strip().startswith("--hash="):
            pins[current][1].append(line.strip().removeprefix("--hash=").rstrip(" \\"))
        elif not line.startswith(" "):
            current = None
    return pins


def function_requirements() -> list[Path]:
    """Every function's own requirements.txt (dependencies that are not the layer's)."""
    return sorted((REPO_ROOT / "functions").glob("*/requirements.txt"))
