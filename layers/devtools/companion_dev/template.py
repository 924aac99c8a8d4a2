"""Reads template.yaml the way `sam local start-api` does: routes, handlers, matching.

The local gateway and `companion invoke` use this so that template.yaml stays the one
place that says which function serves which route. Only local tools import it: it reads
the template with aws-sam-translator's parser (SAM's own, which aws-sam-cli and cfn-lint
install; cfn-lint's decoder would cost a second at every start, this one a millisecond).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from samtranslator.yaml_helper import yaml_parse

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"

FUNCTION_TYPE = "AWS::Serverless::Function"


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or "ANY"
    path: str  # as in the template, e.g. /v1/chapters/{chapter_id}
    function: str  # logical id, e.g. ContentFunction

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


def _resolve(template_path: str | Path | None) -> Path:
    return Path(template_path).resolve() if template_path is not None else DEFAULT_TEMPLATE


@lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int) -> dict[str, Any]:
    # The SAM translator's reader (the AWS CLI's, which `sam` copies too). As in `sam`, it
    # registers the short tags on PyYAML's SafeLoader for the whole process.
    return yaml_parse(path.read_text(encoding="utf-8"))


def load_template(template_path: str | Path | None = None) -> dict[str, Any]:
    """The template as plain data, intrinsic functions in their long form ({"Ref": ...})."""
    path = _resolve(template_path)
    return _load_cached(path, path.stat().st_mtime_ns)


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource.get("Properties") or {}
        for logical_id, resource in (template.get("Resources") or {}).items()
        if resource.get("Type") == FUNCTION_TYPE
    }


def load_routes(template_path: str | Path | None = None) -> list[Route]:
    """Every HttpApi event of every function, in template order."""
    path = _resolve(template_path)
    return list(_routes_cached(path, path.stat().st_mtime_ns))


def route_for_request(
    method: str, path: str, template_path: str | Path | None = None
) -> tuple[Route, dict[str, str]] | None:
    """match_route over the template's routes, remembered per version of the file (the
    local gateway asks for every request; students ask for the same few paths)."""
    file = _resolve(template_path)
    return _match_cached(file, file.stat().st_mtime_ns, method.upper(), path)


@lru_cache(maxsize=4096)
def _match_cached(
    file: Path, mtime_ns: int, method: str, path: str
) -> tuple[Route, dict[str, str]] | None:
    return match_route(list(_routes_cached(file, mtime_ns)), method, path)


def route_for_key(route_key: str, template_path: str | Path | None = None) -> Route | None:
    """The route an event's routeKey ("GET /v1/me") names, or None ("$default")."""
    path = _resolve(template_path)
    return _routes_by_key_cached(path, path.stat().st_mtime_ns).get(route_key)


def function_handlers(template_path: str | Path | None = None) -> dict[str, tuple[Path, str]]:
    """logical id -> (the function's code directory, its handler such as "app.handler")."""
    path = _resolve(template_path)
    return dict(_handlers_cached(path, path.stat().st_mtime_ns))


# The local gateway asks for both on every request: read from the template once per version
# of the file (resolving five code directories took 1.5 ms a request).
@lru_cache(maxsize=8)
def _routes_cached(path: Path, mtime_ns: int) -> tuple[Route, ...]:
    routes = []
    for logical_id, properties in _functions(_load_cached(path, mtime_ns)).items():
        for event in (properties.get("Events") or {}).values():
            if event.get("Type") != "HttpApi":
                continue
            event_properties = event.get("Properties") or {}
            method = str(event_properties.get("Method", "ANY")).upper()
            route_path = event_properties.get("Path", "/")
            routes.append(Route(method=method, path=route_path, function=logical_id))
    return tuple(routes)


@lru_cache(maxsize=8)
def _routes_by_key_cached(path: Path, mtime_ns: int) -> dict[str, Route]:
    return {route.route_key: route for route in _routes_cached(path, mtime_ns)}


@lru_cache(maxsize=8)
def _handlers_cached(path: Path, mtime_ns: int) -> tuple[tuple[str, tuple[Path, str]], ...]:
    template = _load_cached(path, mtime_ns)
    defaults = ((template.get("Globals") or {}).get("Function")) or {}
    handlers = []
    for logical_id, properties in _functions(template).items():
        code_uri = properties.get("CodeUri", defaults.get("CodeUri"))
        handler = properties.get("Handler", defaults.get("Handler"))
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            continue  # inline or S3 code: nothing to load locally
        handlers.append((logical_id, ((path.parent / code_uri).resolve(), handler)))
    return tuple(handlers)


# By file, and by (code directory, module path) to skip resolving the file again.
_modules: dict[Path | tuple[Path, str], ModuleType] = {}


def _module_name(code_dir: Path, module_path: str) -> str:
    name = f"companion_fn_{code_dir.name}"
    if module_path != "app":
        name += "_" + module_path.replace(".", "_")
    return re.sub(r"\W", "_", name)


def _import_function_module(code_dir: Path, module_path: str) -> ModuleType:
    """Imports a function's module by file, under a name of its own.

    Every function's module is called `app`, so a normal import would give all five the
    same module; a unique name per file lets them live side by side in one process.
    """
    loaded = _modules.get((code_dir, module_path))
    if loaded is not None:
        return loaded
    file = (code_dir / (module_path.replace(".", "/") + ".py")).resolve()
    if file in _modules:
        _modules[(code_dir, module_path)] = _modules[file]
        return _modules[file]
    name = _module_name(code_dir, module_path)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    _modules[file] = _modules[(code_dir, module_path)] = module
    return module


def load_module(logical_id: str, template_path: str | Path | None = None) -> ModuleType:
    handlers = function_handlers(template_path)
    if logical_id not in handlers:
        raise KeyError(f"no function {logical_id!r} in the template")
    code_dir, handler = handlers[logical_id]
    module_path, _, _attribute = handler.rpartition(".")
    return _import_function_module(code_dir, module_path)


def load_handler(logical_id: str, template_path: str | Path | None = None) -> Callable:
    """The function's Lambda handler, `handler(event, context)`."""
    module = load_module(logical_id, template_path)
    _code_dir, handler = function_handlers(template_path)[logical_id]
    return getattr(module, handler.rpartition(".")[2])


def load_app(logical_id: str, template_path: str | Path | None = None) -> Any | None:
    """The function's FastAPI `app`, or None for a function without one (PruneFunction)."""
    return getattr(load_module(logical_id, template_path), "app", None)


# How specific a route's segment is: API Gateway prefers a literal segment to a
# {parameter}, and a {parameter} to a greedy {proxy+}.
_LITERAL, _PARAMETER, _GREEDY = 0, 1, 2


def _segment_kind(segment: str) -> int:
    if segment.startswith("{") and segment.endswith("+}"):
        return _GREEDY
    if segment.startswith("{") and segment.endswith("}"):
        return _PARAMETER
    return _LITERAL


def _match_path(template_path: str, path: str) -> dict[str, str] | None:
    pattern = template_path.split("/")[1:]
    segments = path.split("/")[1:]
    params: dict[str, str] = {}
    for index, part in enumerate(pattern):
        kind = _segment_kind(part)
        if kind == _GREEDY:
            rest = segments[index:]
            if index != len(pattern) - 1 or not rest or rest == [""]:
                return None
            params[part[1:-2]] = unquote("/".join(rest))
            return params
        if index >= len(segments):
            return None
        if kind == _PARAMETER:
            if segments[index] == "":
                return None
            params[part[1:-1]] = unquote(segments[index])
        elif part != segments[index]:
            return None
    return params if len(segments) == len(pattern) else None


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick for `method path` (no query string), with its path
    parameters (URL-decoded), or None when no route matches (API Gateway's 404).

    `{name}` matches exactly one non-empty segment and `{name+}` the rest of the path; a
    literal segment beats a parameter at the first place they differ; a route for the
    exact method beats ANY.
    """
    method = method.upper()
    candidates = []
    for route in routes:
        if route.method not in (method, "ANY"):
            continue
        params = _match_path(route.path, path)
        if params is None:
            continue
        specificity = tuple(_segment_kind(part) for part in route.path.split("/")[1:])
        candidates.append(((specificity, route.method == "ANY"), route, params))
    if not candidates:
        return None
    _key, route, params = min(candidates, key=lambda candidate: candidate[0])
    return route, params
