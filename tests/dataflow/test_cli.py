"""`jupyter revive plan` end to end, through `jupyter`'s subcommand dispatch."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from .notebooks import notebook

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """PATH on which `jupyter revive` resolves, also when the package is not installed."""
    environ = dict(os.environ)
    bindir = Path(sys.executable).parent
    path = [str(bindir)]
    if shutil.which("jupyter-revive", path=str(bindir)) is None:
        shim_dir = tmp_path_factory.mktemp("bin")
        shim = shim_dir / "jupyter-revive"
        shim.write_text(
            f"#!{sys.executable}\nimport sys\nfrom jupyter_revive.cli import main\n"
            "sys.exit(main())\n"
        )
        shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
        path.insert(0, str(shim_dir))
        environ["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), *filter(None, [environ.get("PYTHONPATH")])]
        )
    environ["PATH"] = os.pathsep.join([*path, environ.get("PATH", "")])
    return environ


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    jupyter = str(Path(sys.executable).parent / "jupyter")
    return subprocess.run(
        [jupyter, "revive", *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    path = tmp_path / "pipeline.ipynb"
    nb = notebook(
        ["import math", "x = math.pi", "print(x)", "y = x * 2", "n = 0", "n += 1"],
        order=[0, 1, 2, 3, 4, 5, 5],
    )
    nbformat.write(nb, path)
    return path


def test_json_output_follows_the_contract(env: dict[str, str], pipeline: Path) -> None:
    result = run(env, "plan", str(pipeline), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [c["index"] for c in data["cells"]] == [0, 1, 3, 4, 5, 5]
    # products first (the longest chain of runs behind them), modules last
    assert data["names"] == ["y", "n", "x", "math"] and data["kinds"] == {"math": "module"}
    assert data["unrestorable"] == [] and data["warnings"] == []


def test_names_option_restricts_targets(env: dict[str, str], pipeline: Path) -> None:
    result = run(env, "plan", str(pipeline), "--names", "y,ghost", "--json")
    data = json.loads(result.stdout)
    assert [c["index"] for c in data["cells"]] == [0, 1, 3]
    assert data["names"] == ["y"]
    assert data["unrestorable"] == ["ghost"]


def test_human_output_is_a_table(env: dict[str, str], pipeline: Path) -> None:
    result = run(env, "plan", str(pipeline))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "6 cell(s) to run" in lines[0]
    assert "defines y" in result.stdout and "(run 2 of 2)" in result.stdout
    assert "restores: y, n, x, math" in result.stdout


BAD_INPUTS = [
    pytest.param(None, "no such file", id="missing"),
    pytest.param("{not json", "not JSON", id="bad-json"),
    pytest.param(
        '{"cells": [], "metadata": {}, "nbformat": 4}', "not a valid notebook", id="no-minor"
    ),
    pytest.param(
        '{"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [],'
        ' "execution_count": "x", "id": "a"}], "metadata": {}, "nbformat": 4,'
        ' "nbformat_minor": 5}',
        "not a valid notebook",
        id="schema-violation",
    ),
    pytest.param(b"\xff\xfe\x00", "not UTF-8", id="binary"),
]


def _write(path: Path, content: str | bytes | None) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)


@pytest.mark.parametrize(("content", "message"), [BAD_INPUTS[0], BAD_INPUTS[3]])
def test_bad_input_exits_2_with_one_line(
    env: dict[str, str], tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "bad.ipynb"
    _write(path, content)
    before = sorted(tmp_path.iterdir())
    result = run(env, "plan", str(path), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert sorted(tmp_path.iterdir()) == before  # nothing written


@pytest.mark.parametrize(("content", "message"), BAD_INPUTS)
def test_every_kind_of_bad_input_is_one_line_in_process(
    tmp_path: Path, content: str | bytes | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from jupyter_revive.cli import main

    path = tmp_path / "bad.ipynb"
    _write(path, content)
    assert main(["plan", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and message in err
    assert err.startswith("jupyter revive: error: ")


def test_directory_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from jupyter_revive.cli import main

    assert main(["plan", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_main_is_callable_in_process(pipeline: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from jupyter_revive.cli import main

    assert main(["plan", str(pipeline), "--json", "--names", "n"]) == 0
    assert json.loads(capsys.readouterr().out)["names"] == ["n"]


def test_a_lone_surrogate_in_a_cell_is_planned_not_a_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    # Valid notebook JSON ("\ud800" escaped) that no UTF-8 codec encodes: the code sha (the
    # tracker's) hashes it anyway, and the planner says it cannot read the cell.
    nb = notebook(["s = '\ud800'", "t = s * 2"], order=[0, 1])
    path = tmp_path / "surrogate.ipynb"
    path.write_text(json.dumps(nb, ensure_ascii=True), encoding="ascii")
    result = run(env, "plan", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert [c["index"] for c in data["cells"]] == [1]
    assert [(w["kind"], w["id"]) for w in data["warnings"]] == [("unparsable", "c0")]
