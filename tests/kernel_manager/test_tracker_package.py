"""The tracker package itself: self-contained, parses for the oldest Python we support, and its
pure parts (name rules, code hash, the in-memory importer) as a spec."""

from __future__ import annotations

import ast
import hashlib
import inspect
import re
import sys
from pathlib import Path

import pytest

from jupyter_revive.kernel_manager.jupyter_revive_tracker import bootstrap
from jupyter_revive.kernel_manager.jupyter_revive_tracker.names import (
    INTERPRETER_NAMES,
    is_interpreter_name,
    is_owned_name,
    user_names,
)
from jupyter_revive.kernel_manager.jupyter_revive_tracker.records import code_sha
from jupyter_revive.kernel_manager.staging import PACKAGE_DIR, tracker_sources

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_TOP_LEVEL = frozenset(sys.stdlib_module_names) | {"IPython"}


def oldest_python() -> tuple[int, int]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^requires-python\s*=\s*">=\s*(\d+)\.(\d+)', text, re.MULTILINE)
    assert match, "pyproject.toml names no minimum Python"
    return int(match.group(1)), int(match.group(2))


def imports_of(tree: ast.AST) -> list[str]:
    """Top-level names of absolute imports; relative imports (the package itself) are fine."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name.partition(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module.partition(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
        ):
            found.append("__import__(...)")  # dynamic: not allowed, it would hide a dependency
    return found


@pytest.mark.parametrize("name", sorted(tracker_sources()))
def test_module_imports_only_the_standard_library_ipython_and_the_package(name: str) -> None:
    tree = ast.parse(tracker_sources()[name], filename=name)
    outside = [m for m in imports_of(tree) if m not in ALLOWED_TOP_LEVEL]
    assert outside == [], f"{name} imports {outside}"


@pytest.mark.parametrize("name", sorted(tracker_sources()))
def test_module_parses_for_the_oldest_supported_python(name: str) -> None:
    assert oldest_python() == (3, 10)  # this test's premise; bump both together
    ast.parse(tracker_sources()[name], filename=name, feature_version=oldest_python())


def test_the_package_holds_every_module_other_helpers_rely_on() -> None:
    expected = {
        "__init__",
        "names",
        "records",
        "snapshots",
        "tables",
        "finisher",
        "changes",
        "touches",
        "handles",
        "fsevents",
        "settings",
        "checkpoint",
        "classes",
        "places",
        "ledger",
        "summaries",
        "api",
    }
    assert expected | {"bootstrap"} == {p.stem for p in PACKAGE_DIR.glob("*.py")}


# -- names ---------------------------------------------------------------------------------------

OWNED = ["_", "__", "___", "_i", "_ii", "_iii", "_7", "_i7", "_ih", "_oh", "_dh", "_exit_code",
         "__name__", "__builtins__", "__builtin__", "__doc__", "__package__", "__loader__",
         "__spec__", "__warningregistry__", "__file__"]  # fmt: skip
SHELL = ["In", "Out", "get_ipython", "exit", "quit", "open"]
USERS = ["x", "df", "_private", "_x1", "_ii7", "____", "__a", "in", "display", ""]


@pytest.mark.parametrize("name", OWNED)
def test_ipython_caches_and_interpreter_dunders_are_never_user_names(name: str) -> None:
    assert is_owned_name(name) and is_interpreter_name(name)


@pytest.mark.parametrize("name", SHELL)
def test_shell_names_are_the_interpreters_but_a_user_may_rebind_them(name: str) -> None:
    assert is_interpreter_name(name) and not is_owned_name(name)
    assert name in INTERPRETER_NAMES


@pytest.mark.parametrize("name", USERS)
def test_other_names_are_the_users(name: str) -> None:
    assert not is_interpreter_name(name) and not is_owned_name(name)


def test_user_names_count_a_shell_name_once_rebound() -> None:
    exiter, own_open = object(), object()
    hidden = {"exit": exiter, "open": open, "In": []}
    ns = {"__name__": "__main__", "_": 1, "_i3": "", "exit": exiter, "open": own_open, "x": 1}
    assert user_names(ns, hidden) == ["open", "x"]


# -- code hash -----------------------------------------------------------------------------------


def test_code_sha_is_the_first_16_hex_of_sha256_of_utf8() -> None:
    for text in ["", "x = 1", "print('héllo') # ünïcode ✓", "a\r\nb"]:
        assert code_sha(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def test_code_sha_survives_a_lone_surrogate() -> None:
    # Valid in a notebook's JSON ("\ud800"), not encodable as strict UTF-8.
    assert code_sha("x = '\ud800'") == hashlib.sha256(b"x = '\xed\xa0\x80'").hexdigest()[:16]
    assert code_sha("\ud800") != code_sha("\udc00")


# -- the in-memory importer (what the shell-channel injection runs) -------------------------------


@pytest.fixture
def sent_package() -> object:
    name = "revive_tracker_under_test"
    yield name
    sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, "package", None) != name]
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def test_sources_load_as_the_package_without_any_file(sent_package: str) -> None:
    package = bootstrap.install(tracker_sources(), package=sent_package)
    assert package.__file__ == f"<{sent_package} (injected)>/__init__.py"
    assert package.__path__ == []  # submodules come from the finder, never from disk
    api = sys.modules[f"{sent_package}.api"]
    assert api.context_json is package.context_json
    assert "def context_json" in inspect.getsource(api)  # tracebacks can show the code
    assert bootstrap.install({}, package=sent_package) is package  # loaded once


def test_sources_that_fail_to_load_leave_nothing_behind(sent_package: str) -> None:
    sources = dict(tracker_sources(), **{"records.py": "raise ValueError('broken')\n"})
    meta_path = list(sys.meta_path)
    with pytest.raises(ValueError, match="broken"):
        bootstrap.install(sources, package=sent_package)
    assert sys.meta_path == meta_path
    assert not [m for m in sys.modules if m.startswith(sent_package)]
