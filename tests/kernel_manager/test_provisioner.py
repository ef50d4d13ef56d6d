"""The launch hook: tracker present before the first execution, environment left as it was."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.provisioning import KernelProvisionerFactory
from traitlets.config import Config

from jupyter_revive.kernel_manager.provisioner import (
    PROVISIONER_NAME,
    hash_seed,
    use_revive_provisioner,
)
from jupyter_revive.kernel_manager.staging import PACKAGE_DIR, stage_tracker, tracker_sources

from .conftest import TRACKER, Kernel, start_kernel

HAS_TRACKER = "'jupyter_revive_tracker' in __import__('sys').modules"


async def test_tracker_is_active_for_the_first_execution(kernel: Kernel) -> None:
    reply = await kernel.run("first = 1", cell_id="c0")
    record = reply["metadata"]["revive"]
    assert record["seq"] == 1 and record["cell"] == "c0" and record["defined"] == ["first"]


async def test_user_namespace_and_environment_look_untouched(
    kernelspecs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/opt/one", "/opt/two"]))
    k = await start_kernel(kernelspecs["revive"])
    try:
        await k.record("user = 1")
        names = await k.eval("sorted(k for k in globals() if not k.startswith('_'))")
        assert names == ["In", "Out", "exit", "get_ipython", "open", "quit", "user"]
        env = await k.eval("__import__('os').environ.get('PYTHONPATH')")
        assert env == os.pathsep.join(["/opt/one", "/opt/two"])
        assert await k.eval("'JUPYTER_REVIVE_TRACKER_DIR' in __import__('os').environ") is False
        assert await k.eval("[p for p in __import__('sys').path if 'revive-tracker' in p]") == []
        staged = os.path.join("jupyter_revive_tracker", "__init__.py")
        assert (await k.eval(f"{TRACKER}.__file__")).endswith(staged)
    finally:
        await k.stop()

    monkeypatch.delenv("PYTHONPATH")
    k = await start_kernel(kernelspecs["revive"])
    try:
        assert await k.eval("'PYTHONPATH' in __import__('os').environ") is False
        assert await k.eval(HAS_TRACKER) is True
    finally:
        await k.stop()


HASHES = "[hash(w) for w in ('revive', 'set', 'order')]"
ENVIRON = "sorted(k for k in __import__('os').environ if 'HASHSEED' in k or 'HASH_SEED' in k)"


async def test_kernels_of_one_notebook_hash_strings_alike(
    kernelspecs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A set of strings iterates in the same order in every kernel of a notebook (a restore
    re-runs cells in a new one); the seed stays out of the kernel's environment."""
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    results = []
    for path in ("/work/a.ipynb", "/work/a.ipynb", "/work/b.ipynb"):
        k = await start_kernel(kernelspecs["revive"], env={**os.environ, "JPY_SESSION_NAME": path})
        try:
            results.append(await k.eval(HASHES))
            assert await k.eval(ENVIRON) == []
        finally:
            await k.stop()
    assert results[0] == results[1] != results[2]
    assert hash_seed("/work/a.ipynb") != hash_seed("/work/b.ipynb")
    assert all(1 <= hash_seed(p) < 2**32 for p in ("", "/work/a.ipynb", "x" * 1000))


async def test_a_seed_the_user_set_is_kept(
    kernelspecs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "123")
    k = await start_kernel(kernelspecs["revive"])
    try:
        assert await k.eval(ENVIRON) == ["PYTHONHASHSEED"]
        assert await k.eval("__import__('os').environ['PYTHONHASHSEED']") == "123"
        assert await k.eval("hash('revive')") == await k.eval(
            "int(__import__('subprocess').check_output([__import__('sys').executable, '-c', "
            "'print(hash(\"revive\"))']))"
        )
    finally:
        await k.stop()


async def test_restart_reruns_the_launch_hook_with_a_new_context(kernel: Kernel) -> None:
    before = await kernel.tracker("context_json()")
    await kernel.km.restart_kernel(now=True)
    await kernel.client.wait_for_ready(timeout=30)
    after = await kernel.tracker("context_json()")
    assert after["context"] != before["context"] and after["pid"] != before["pid"]
    assert after["executions"] == []
    record = await kernel.record("again = 1")
    assert record is not None and record["seq"] == 1 and record["context"] == after["context"]


async def test_kernelspecs_that_are_not_ours_are_left_alone(kernelspecs: dict[str, str]) -> None:
    for name in (kernelspecs["plain"], kernelspecs["fake-r"]):
        k = await start_kernel(name)
        try:
            assert await k.eval(HAS_TRACKER) is False
            assert "revive" not in (await k.run("x = 1"))["metadata"]
        finally:
            await k.stop()


def staged_files(directory: Path) -> dict[str, str]:
    package = directory / "jupyter_revive_tracker"
    return {
        p.relative_to(package).as_posix(): p.read_text(encoding="utf-8")
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_staged_tracker_is_the_whole_package_versioned_by_content(tmp_path: Path) -> None:
    directory = stage_tracker(tmp_path)
    assert directory.parent == tmp_path and directory.name.startswith("revive-tracker-")
    assert [p.name for p in tmp_path.iterdir()] == [directory.name]  # no temporary left
    assert [p.name for p in directory.iterdir()] == ["jupyter_revive_tracker"]
    assert staged_files(directory) == tracker_sources()
    assert {"__init__.py", "names.py", "records.py", "bootstrap.py"} <= set(tracker_sources())
    assert stage_tracker(tmp_path) == directory


def test_tracker_sources_are_every_file_of_the_package() -> None:
    files = {
        p.relative_to(PACKAGE_DIR).as_posix()
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert files == set(tracker_sources())


def test_concurrent_staging_never_shows_a_half_written_package(tmp_path: Path) -> None:
    # Several servers (here threads, each without the per-process cache) staging at once into
    # one runtime dir: each gets the complete package, and nothing else is left behind.
    from jupyter_revive.kernel_manager import staging

    start = threading.Barrier(8)
    seen: list[dict[str, str]] = []

    def stage() -> None:
        start.wait()
        staging._staged.clear()
        seen.append(staged_files(stage_tracker(tmp_path)))

    threads = [threading.Thread(target=stage) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [tracker_sources()] * 8
    assert len(list(tmp_path.iterdir())) == 1


def test_a_damaged_staged_package_is_replaced_whole(tmp_path: Path) -> None:
    from jupyter_revive.kernel_manager import staging

    directory = stage_tracker(tmp_path)
    (directory / "jupyter_revive_tracker" / "ledger.py").write_text("broken = True\n")
    (directory / "jupyter_revive_tracker" / "api.py").unlink()
    staging._staged.clear()
    assert stage_tracker(tmp_path) == directory
    assert staged_files(directory) == tracker_sources()
    assert [p.name for p in tmp_path.iterdir()] == [directory.name]


@pytest.fixture
def factory() -> Iterator[KernelProvisionerFactory]:
    factory = KernelProvisionerFactory.instance()
    before = factory.default_provisioner_name
    yield factory
    factory.default_provisioner_name = before


def test_becomes_the_default_provisioner_unless_the_user_chose_one(
    factory: KernelProvisionerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = logging.getLogger("test")
    monkeypatch.delenv("JUPYTER_DEFAULT_PROVISIONER_NAME", raising=False)
    factory.default_provisioner_name = "local-provisioner"
    assert use_revive_provisioner(log, Config()) is True
    assert factory.default_provisioner_name == PROVISIONER_NAME

    factory.default_provisioner_name = "local-provisioner"
    chosen = Config({"KernelProvisionerFactory": {"default_provisioner_name": "local-provisioner"}})
    assert use_revive_provisioner(log, chosen) is False
    assert factory.default_provisioner_name == "local-provisioner"

    monkeypatch.setenv("JUPYTER_DEFAULT_PROVISIONER_NAME", "local-provisioner")
    assert use_revive_provisioner(log, Config()) is False
    assert factory.default_provisioner_name == "local-provisioner"


async def test_tracker_works_where_jupyter_revive_cannot_be_imported(
    kernelspecs: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A kernel environment without jupyter_revive: shadow the installed package with one
    # that fails to import.
    poisoned = tmp_path / "poisoned" / "jupyter_revive"
    poisoned.mkdir(parents=True)
    (poisoned / "__init__.py").write_text("raise ImportError('not in this environment')\n")
    monkeypatch.setenv("PYTHONPATH", str(poisoned.parent))
    k = await start_kernel(kernelspecs["revive"])
    try:
        reply = await k.run("try:\n    import jupyter_revive\nexcept ImportError:\n    ok = 1")
        assert reply["metadata"]["revive"]["defined"] == ["ok"]
        assert await k.eval("'jupyter_revive' in __import__('sys').modules") is False
    finally:
        await k.stop()
