"""The locks agree with what they were resolved from, and the tests run their versions.

Each lock must hold exactly the dependency closure of its inputs (computed from the
installed packages' metadata, the development venv being installed from the lock), every
pin must satisfy the specifiers it came from, the layer must pin what the tests run, and
the venv must hold the locked versions. Editing layers/common/requirements.txt,
pyproject.toml or a function's requirements.txt without `make lock` fails here.
"""

from __future__ import annotations

import tomllib
from importlib import metadata

import pytest
from locks import (
    DEV_LOCK,
    REPO_ROOT,
    RUNTIME_LOCK,
    RUNTIME_REQUIREMENTS,
    function_requirements,
    normalize,
    read_lock,
)
from packaging.requirements import Requirement

from companion_dev.template import function_handlers

STALE = "out of date: run `make lock`, then `make install`"


def _requirements_file(path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def _dev_extra() -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["optional-dependencies"]["dev"]]


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras | {""})


def _closure(roots: list[Requirement]) -> set[str]:
    """Every distribution the roots need, with their extras, as installed here."""
    needed: set[str] = set()
    pending = [(root, set(root.extras)) for root in roots if _applies(root, set())]
    while pending:
        requirement, extras = pending.pop()
        name = normalize(requirement.name)
        key = (name, frozenset(extras))
        if key in needed:
            continue
        needed.add(key)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is not installed: the dev venv or its lock is {STALE}")
        for text in requires:
            child = Requirement(text)
            if _applies(child, extras):
                pending.append((child, set(child.extras)))
    return {name for name, _extras in needed}


def _assert_pins_satisfy(requirements: list[Requirement], lock: dict, lock_name: str) -> None:
    for requirement in requirements:
        name = normalize(requirement.name)
        assert name in lock, f"{requirement} is not in {lock_name}: {STALE}"
        assert requirement.specifier.contains(lock[name][0], prereleases=True), (
            f"{lock_name} pins {name}=={lock[name][0]}, outside {requirement}: {STALE}"
        )


def test_runtime_lock_is_the_resolution_of_the_layers_requirements():
    requirements = _requirements_file(RUNTIME_REQUIREMENTS)
    lock = read_lock(RUNTIME_LOCK)

    _assert_pins_satisfy(requirements, lock, RUNTIME_LOCK.name)
    needed = _closure(requirements)
    assert set(lock) - needed == set(), f"{RUNTIME_LOCK.name} pins what nothing needs: {STALE}"
    assert needed - set(lock) == set(), f"{RUNTIME_LOCK.name} misses dependencies: {STALE}"


def test_dev_lock_is_the_resolution_of_the_project_with_its_dev_extra():
    roots = _requirements_file(RUNTIME_REQUIREMENTS) + _dev_extra()
    for path in function_requirements():
        roots += _requirements_file(path)
    lock = read_lock(DEV_LOCK)

    _assert_pins_satisfy(roots, lock, DEV_LOCK.name)
    needed = _closure(roots)
    assert set(lock) - needed == set(), f"{DEV_LOCK.name} pins what nothing needs: {STALE}"
    assert needed - set(lock) == set(), f"{DEV_LOCK.name} misses dependencies: {STALE}"


@pytest.mark.parametrize("logical_id", sorted(function_handlers()))
def test_a_functions_own_lock_holds_what_the_layer_does_not_ship(logical_id):
    code_dir, _handler = function_handlers()[logical_id]
    requirements_path = code_dir / "requirements.txt"
    lock_path = code_dir / "requirements.lock"
    if not requirements_path.exists():
        assert not lock_path.exists(), f"{lock_path} locks nothing: delete it"
        return
    assert lock_path.exists(), f"{lock_path} is missing: run `make lock`"
    lock = read_lock(lock_path)
    dev = read_lock(DEV_LOCK)

    needed = _closure(_requirements_file(requirements_path)) - set(read_lock(RUNTIME_LOCK))
    assert set(lock) == needed, f"{lock_path.name} is {STALE}"
    assert {name: dev[name][0] for name in lock} == {
        name: version for name, (version, _hashes) in lock.items()
    }, f"{lock_path.name} and {DEV_LOCK.name} differ: {STALE}"


def test_the_layer_ships_the_versions_the_tests_run():
    runtime = read_lock(RUNTIME_LOCK)
    dev = read_lock(DEV_LOCK)

    differing = {
        name: (version, dev.get(name, (None,))[0])
        for name, (version, _hashes) in runtime.items()
        if dev.get(name, (None,))[0] != version
    }
    assert differing == {}, f"(layer, tests) versions differ: {STALE}"


def test_the_venv_holds_the_locked_development_set():
    stale = {}
    for name, (version, _hashes) in read_lock(DEV_LOCK).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            stale[name] = (version, installed)
    assert stale == {}, "(locked, installed) differ: run `make install`"


@pytest.mark.parametrize("lock_path", [RUNTIME_LOCK, DEV_LOCK], ids=lambda path: path.name)
def test_every_pin_carries_its_hashes(lock_path):
    lock = read_lock(lock_path)

    assert len(lock) > 10
    assert [name for name, (_version, hashes) in lock.items() if not hashes] == []
