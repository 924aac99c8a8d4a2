"""The repo's own documentation agrees with the code: docs/API.md names every route, MCP
tool and error code; the README documents every setting and links only inside the repo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from companion import errors
from companion.settings import Settings
from companion_dev.template import REPO_ROOT, load_module, load_routes

API_REFERENCE = (REPO_ROOT / "docs" / "API.md").read_text()
README = (REPO_ROOT / "README.md").read_text()


def _mentions_route(method: str, path: str) -> bool:
    return f"{method} {path}" in API_REFERENCE or (
        # "GET /v1/chapters/{chapter_id}/next and /previous" names two routes at once.
        method == "GET" and path.endswith("/previous") and "and `/previous`" in API_REFERENCE
    )


@pytest.mark.parametrize("route", load_routes(), ids=lambda route: route.route_key)
def test_api_reference_names_every_route(route):
    path = "/v1/search" if route.path == "/v1/search" else route.path
    assert _mentions_route(route.method, path) or f"`{route.method} {path}?" in API_REFERENCE, (
        f"docs/API.md does not document {route.route_key}"
    )


def test_api_reference_names_every_mcp_tool():
    tools = [tool.name for tool in load_module("McpFunction").TOOLS]
    assert tools
    for name in tools:
        assert f"`{name}`" in API_REFERENCE, f"docs/API.md does not name the MCP tool {name}"


def _error_codes() -> set[str]:
    codes = {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.ApiError)
    }
    return codes | {"internal"}


@pytest.mark.parametrize("code", sorted(_error_codes()))
def test_api_reference_names_every_error_code(code):
    assert f"`{code}`" in API_REFERENCE or code in API_REFERENCE, code


@pytest.mark.parametrize("name", sorted(field.upper() for field in Settings.model_fields))
def test_readme_documents_every_setting(name):
    assert re.search(rf"`{name}`", README), f"README.md does not document {name}"


def test_readme_links_stay_inside_the_repo():
    for target in re.findall(r"\]\(([^)#]+)", README):
        if target.startswith(("http://", "https://")):
            continue
        assert not target.startswith("../"), f"README links outside the repo: {target}"
        assert (REPO_ROOT / target).exists(), f"README links to a missing file: {target}"


def test_every_doc_page_the_readme_names_exists():
    for page in re.findall(r"docs/[A-Za-z_-]+\.md", README):
        assert (REPO_ROOT / page).is_file(), page
    assert Path(REPO_ROOT / "docs" / "API.md").is_file()
