"""Handlers read like a table of contents: each route calls the layer (companion.services,
companion.accounts, …) and shapes the answer; data access stays in the layer."""

from __future__ import annotations

import ast

import pytest

from companion_dev.template import function_handlers

DATA_ACCESS = {
    "companion.db",
    "companion.repositories",
    "companion.cache",
    "companion.content_store",
    "psycopg",
    "boto3",
}


def _imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("logical_id", sorted(function_handlers()))
def test_no_function_module_reaches_the_data_directly(logical_id):
    code_dir, _handler = function_handlers()[logical_id]
    imported = _imported_modules(ast.parse((code_dir / "app.py").read_text()))

    reaching = {
        name
        for name in imported
        for module in DATA_ACCESS
        if name == module or name.startswith(module + ".")
    }
    assert reaching == set()


def test_the_services_run_without_fastapi():
    """The MCP server and the admin tools call the services too: importing them must not
    load the FastAPI dependency module (the caller's type is for annotations only)."""
    import subprocess
    import sys

    services = [
        "companion.services.content",
        "companion.services.progress",
        "companion.services.quizzes",
        "companion.accounts",
        "companion.activity",
        "companion.progress_report",
    ]
    probe = (
        f"import sys; import {', '.join(services)}; "
        "print(sorted(m for m in ('companion.deps', 'fastapi') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
