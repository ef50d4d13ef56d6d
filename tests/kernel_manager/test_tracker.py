"""The tracker inside a real kernel: context id, ledger records, reply metadata, summaries."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest

from .conftest import TRACKER, Kernel, start_kernel


def sha16(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()[:16]


async def test_reply_metadata_carries_the_record_with_the_cell_id(kernel: Kernel) -> None:
    code = "x = 1\ny = [1, 2]"
    record = await kernel.record(code, cell_id="cell-a")
    assert record is not None
    assert record["seq"] == 1
    assert record["cell"] == "cell-a"
    assert record["code"] == sha16(code)
    assert record["status"] == "ok"
    assert isinstance(record["ms"], float) and record["ms"] >= 0
    assert record["defined"] == ["x", "y"]
    assert record["deleted"] == []
    assert record["count"] == 1
    assert record["mutated"] == []  # present: in-place changes were observed, none found
    # Absent means empty: nothing was seen unchanged, no file or variable touched, no list cut.
    assert not {"unchanged", "files", "env", "truncated"} & record.keys()
    assert uuid.UUID(record["context"]).version == 4


async def test_ledger_lists_records_in_order_under_one_context(kernel: Kernel) -> None:
    first = await kernel.record("a = 1", cell_id="c1")
    second = await kernel.record("b = 2", cell_id="c2")
    context = await kernel.tracker("context_json()")
    assert first and second
    assert context["context"] == first["context"] == second["context"]
    assert context["executions"] == [first, second]
    assert context["seq"] == 2 and context["dropped"] == 0
    assert context["pid"] == await kernel.eval("__import__('os').getpid()")
    assert [e["seq"] for e in (await kernel.tracker("context_json(since=1)"))["executions"]] == [2]


async def test_deleted_and_rebound_names(kernel: Kernel) -> None:
    await kernel.record("a = 1\nb = [1]\nc = [1]")
    record = await kernel.record("del a\nb = [2]\nc.append(2)\nd = c")
    assert record is not None
    # c was only mutated in place: the namespace diff (by identity) cannot see that.
    assert record["defined"] == ["b", "d"]
    assert record["deleted"] == ["a"]


async def test_error_is_recorded_with_the_names_bound_before_it(kernel: Kernel) -> None:
    record = await kernel.record("z = 1\n1 / 0", cell_id="bad")
    assert record is not None
    assert record["status"] == "error"
    assert record["defined"] == ["z"]
    syntax = await kernel.record("def (:", cell_id="worse")
    assert syntax is not None and syntax["status"] == "error" and syntax["defined"] == []


async def test_silent_executions_are_not_recorded(kernel: Kernel) -> None:
    await kernel.record("a = 1")
    reply = await kernel.run("hidden = 5", silent=True)
    assert "revive" not in reply["metadata"]
    context = await kernel.tracker("context_json()")
    assert [e["defined"] for e in context["executions"]] == [["a"]]
    record = await kernel.record("b = hidden")
    assert record is not None and record["seq"] == 2 and record["defined"] == ["b"]


async def test_ipython_names_are_excluded_unless_the_user_rebinds_them(kernel: Kernel) -> None:
    # Output caching binds _, _2, _i2, Out[...]: none of it is the user's.
    record = await kernel.record("1 + 1")
    assert record is not None and record["defined"] == []
    record = await kernel.record("exit = 3\n_private = 4")
    assert record is not None and record["defined"] == ["_private", "exit"]
    record = await kernel.record("get_ipython().run_line_magic('time', 'w = 1')")
    assert record is not None and record["defined"] == ["w"]


async def test_empty_cell_and_nested_run_cell(kernel: Kernel) -> None:
    reply = await kernel.run("   ")
    assert reply["content"]["status"] == "ok"
    assert "revive" not in reply["metadata"]  # IPython fires post_run_cell only: no record
    record = await kernel.record("get_ipython().run_cell('inner = 1')\nouter = 2", cell_id="n")
    assert record is not None
    assert record["seq"] == 1 and record["cell"] == "n"
    assert record["defined"] == ["inner", "outer"]


async def test_name_lists_and_ledger_are_capped(kernel: Kernel) -> None:
    record = await kernel.record("for i in range(250):\n    globals()[f'v{i:03}'] = i")
    assert record is not None
    assert len(record["defined"]) == 100 and record["truncated"] is True
    assert record["defined"][:2] == ["i", "v000"]
    # Shrink the ledger to see old records dropped and counted.
    await kernel.run(f"{TRACKER}.api.current().ledger = __import__('collections').deque(maxlen=3)",
                     silent=True)  # fmt: skip
    for n in range(5):
        await kernel.record(f"n{n} = {n}")
    context = await kernel.tracker("context_json()")
    assert [e["seq"] for e in context["executions"]] == [4, 5, 6]
    assert context["dropped"] == 2


async def test_a_broken_tracker_never_breaks_user_code(kernel: Kernel) -> None:
    await kernel.run(f"{TRACKER}.api.current().ip = None", silent=True)
    msg_id = kernel.send("ok = 41 + 1\nprint(ok)")
    reply = await kernel.reply(msg_id)
    assert reply["content"]["status"] == "ok"
    assert "revive" not in reply["metadata"]
    streams = []
    while True:
        msg = await kernel.client.iopub_channel.get_msg(timeout=10)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            streams.append((msg["content"]["name"], msg["content"]["text"]))
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert streams == [("stdout", "42\n")]  # no "Error in callback" on stderr


async def test_variables_summary_is_bounded(kernel: Kernel) -> None:
    await kernel.record(
        "import numpy as np, pandas as pd\n"
        "df = pd.DataFrame({'a': range(1000), 'b': [0.5] * 1000})\n"
        "wide = pd.DataFrame([[0] * 80])\n"
        "arr = np.arange(100_000.0).reshape(1000, 100)\n"
        "items = list(range(10_000))\n"
        "text = 'y' * 100_000\n"
        "nested = [df, arr]\n"
        "def f(a, b=2):\n    return a + b\n"
    )
    answer = await kernel.tracker("variables_json()")
    by_name = {v["name"]: v for v in answer["variables"]}
    assert answer["total"] == len(by_name) and answer["truncated"] is False
    assert set(by_name) == {"np", "pd", "df", "wide", "arr", "items", "text", "nested", "f"}
    assert [v["name"] for v in answer["variables"]][-2:] == ["np", "pd"]  # modules last
    assert all(len(v["repr"]) <= 120 for v in answer["variables"])
    df = by_name["df"]
    assert df["type"] == "pandas.DataFrame" and df["shape"] == [1000, 2] and df["len"] == 1000
    assert df["columns"] == [{"name": "a", "dtype": "int64"}, {"name": "b", "dtype": "float64"}]
    assert "0.5" not in df["repr"]  # a description, not the frame's repr
    assert len(by_name["wide"]["columns"]) == 50 and by_name["wide"]["columns_truncated"]
    arr = by_name["arr"]
    assert arr["shape"] == [1000, 100] and arr["dtype"] == "float64" and "..." in arr["repr"]
    assert by_name["items"]["len"] == 10_000 and by_name["text"]["len"] == 100_000
    assert by_name["nested"]["repr"] == "[<DataFrame 1000x2>, <ndarray 1000x100>]"
    assert by_name["f"]["type"] == "function"


async def test_variables_detail_and_missing_names(kernel: Kernel) -> None:
    await kernel.record(
        "import pandas as pd\n"
        "df = pd.DataFrame({'a': range(10), 'b': [1.5] * 10})\n"
        "def add(a, b=2):\n    return a + b\n"
    )
    answer = await kernel.tracker("variables_json(names=['df', 'add', 'nope'], detail=True)")
    assert answer["missing"] == ["nope"]
    df, add = answer["variables"]
    assert df["name"] == "df" and "head(5)" in df["detail"] and "describe()" in df["detail"]
    assert "mean" in df["detail"] and len(df["detail"]) <= 4096
    assert "return a + b" in add["detail"]


async def test_variables_do_not_import_libraries_and_cap_the_count(kernel: Kernel) -> None:
    await kernel.record("for i in range(600):\n    globals()[f'x{i}'] = i")
    answer = await kernel.tracker("variables_json()")
    assert len(answer["variables"]) == 500
    assert answer["total"] == 601 and answer["truncated"] is True  # x0..x599 and i
    assert await kernel.eval("'pandas' in __import__('sys').modules") is False


async def test_changes_between_cells_are_not_charged_to_the_next_cell(kernel: Kernel) -> None:
    await kernel.record("a = [1]\nb = [1]\nc = [1]")
    # Silent executions (another extension, a widget callback) change the namespace between
    # cells: rebind, delete, add.
    await kernel.run("a = [2]\ndel b\nextra = 1", silent=True)
    record = await kernel.record("d = 1")
    assert record is not None and record["defined"] == ["d"] and record["deleted"] == []
    await kernel.run("c = [3]", silent=True)
    record = await kernel.record("c.append(4)\ne = c")
    assert record is not None and record["defined"] == ["e"]


async def test_thread_changes_between_cells_are_not_charged_to_the_next_cell(
    kernel: Kernel,
) -> None:
    # The snapshot before a cell may reuse the one taken after the previous cell when the
    # namespace did not change in between; a thread changing it between cells must be seen.
    record = await kernel.record(
        "import threading\n"
        "a = [1]\n"
        "_done = threading.Event()\n"
        "def _later():\n"
        "    global a, b\n"
        "    _done.wait()\n"
        "    a = [2]\n"
        "    b = 1\n"
        "_th = threading.Thread(target=_later)\n"
        "_th.start()"
    )
    assert record is not None and "a" in record["defined"]
    await kernel.run("_done.set(); _th.join()", silent=True)
    assert await kernel.eval("(a, b)") == ([2], 1)
    record = await kernel.record("c = 1")
    assert record is not None and record["defined"] == ["c"] and record["deleted"] == []
    # Nothing in between: the next cell still sees exactly its own changes.
    record = await kernel.record("a.append(3)\nc = 2\ndel b")
    assert record is not None and record["defined"] == ["c"] and record["deleted"] == ["b"]
    record = await kernel.record("d = a")
    assert record is not None and record["defined"] == ["d"]


async def test_the_tracker_holds_no_user_objects(kernel: Kernel) -> None:
    # `del big` frees it at once, also when deleted between cells (a silent execution).
    await kernel.record(
        "import weakref, gc\nclass Big: pass\nbig = Big()\nref = weakref.ref(big)\nother = Big()"
    )
    record = await kernel.record("del big\nfreed = ref() is None")
    assert record is not None and record["deleted"] == ["big"]
    assert await kernel.eval("freed") is True
    await kernel.record("ref2 = weakref.ref(other)")
    await kernel.run("del other", silent=True)
    assert await kernel.eval("ref2() is None") is True


async def test_interpreter_dunders_are_not_user_names(kernel: Kernel) -> None:
    # A warning makes Python add __warningregistry__ to the cell's globals.
    record = await kernel.record("import warnings\nwarnings.warn('careful')\nw = 1")
    assert record is not None
    assert "__warningregistry__" not in record["defined"]
    assert record["defined"] == ["w", "warnings"]


async def test_loading_again_under_another_name_shares_the_one_tracker(kernel: Kernel) -> None:
    first = await kernel.record("a = 1")
    # The in-repo copy of the package (jupyter_revive is installed in this kernel's venv).
    other = "jupyter_revive.kernel_manager.jupyter_revive_tracker"
    reply = await kernel.run(f"%load_ext {other}")
    assert reply["content"]["status"] == "ok"
    assert await kernel.eval(f"__import__('sys').modules[{other!r}] is not {TRACKER}") is True
    same = f"__import__('sys').modules[{other!r}].api.current() is {TRACKER}.api.current()"
    assert await kernel.eval(same) is True
    record = await kernel.record("b = 2")
    assert first and record and record["context"] == first["context"]
    assert record["defined"] == ["b"]
    # One record per cell (the second load added no hooks); the load itself bound no names.
    executions = (await kernel.tracker("context_json()"))["executions"]
    assert [e["defined"] for e in executions] == [["a"], [], ["b"]]


async def test_unload_stops_tracking_and_a_new_load_is_a_new_context(kernel: Kernel) -> None:
    first = await kernel.record("a = 1")
    await kernel.run("%unload_ext jupyter_revive_tracker")
    assert await kernel.eval(f"{TRACKER}.api.current() is None") is True
    reply = await kernel.run("untracked = 1")
    assert reply["content"]["status"] == "ok" and "revive" not in reply["metadata"]
    assert await kernel.eval("'init_metadata' in vars(get_ipython().kernel)") is False
    await kernel.run("%load_ext jupyter_revive_tracker")
    record = await kernel.record("b = 2")
    assert first and record and record["seq"] == 1 and record["context"] != first["context"]


async def test_files_and_environment_are_recorded_by_path_and_name_never_by_value(
    kernel: Kernel, tmp_path: Path
) -> None:
    await kernel.run(f"__import__('os').chdir({str(tmp_path)!r})", silent=True)
    wrote = await kernel.record("with open('a.txt', 'w') as f:\n    f.write('x')")
    read = await kernel.record("text = open('a.txt').read()")
    moved = await kernel.record("import os\nos.rename('a.txt', 'b.txt')")
    env = await kernel.record("os.environ['REVIVE_TOKEN'] = 's3cret-value'\nos.chdir('..')")
    scratch = await kernel.record("import tempfile\nwith tempfile.TemporaryFile() as f:\n    pass")
    assert wrote and read and moved and env and scratch
    a, b = str(tmp_path / "a.txt"), str(tmp_path / "b.txt")
    assert wrote["files"] == {"read": [], "written": [a], "removed": []}
    assert read["files"] == {"read": [a], "written": [], "removed": []}
    assert moved["files"] == {"read": [], "written": [b], "removed": [a]}
    assert env["env"] == {"vars": ["REVIVE_TOKEN"], "cwd": True, "options": [], "random": []}
    assert "s3cret" not in json.dumps(env)
    # made and removed within one execution: nothing later can read it
    assert "files" not in scratch


async def test_paths_are_kept_relative_to_the_notebook_folder_or_home_never_revealing_them(
    kernelspecs: dict[str, str], tmp_path: Path
) -> None:
    """The kernel starts in the notebook's folder; records go into the notebook."""
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    outside = tmp_path / "elsewhere.csv"
    kernel = await start_kernel(kernelspecs["revive"], cwd=str(folder))
    try:
        inside = await kernel.record("open('data/in.csv', 'w').close()")
        moved = await kernel.record("import os\nos.chdir('data')\nopen('in.csv').close()")
        away = await kernel.record(f"open({str(outside)!r}, 'w').close()")
        home = await kernel.eval("__import__('os').path.expanduser('~')")
        made = "_d = __import__('tempfile').mkdtemp(dir=__import__('os').path.expanduser('~'))"
        await kernel.run(made, silent=True)  # silent: not recorded
        homed = await kernel.record("open(_d + '/x.txt', 'w').close()")
        await kernel.run("import shutil\nshutil.rmtree(_d)", silent=True)
    finally:
        await kernel.stop()
    assert inside and moved and away and homed
    assert inside["files"]["written"] == ["data/in.csv"]
    assert moved["files"]["read"] == ["data/in.csv"]  # the same file after the chdir
    assert away["files"]["written"] == [str(outside)]  # neither under the folder nor home
    (written,) = homed["files"]["written"]
    assert written.startswith("~/") and written.endswith("/x.txt") and home not in written


async def test_pandas_option_changes_are_recorded(kernel: Kernel) -> None:
    imported = await kernel.record("import pandas as pd")
    assert imported is not None and "env" not in imported
    record = await kernel.record("pd.set_option('display.precision', 2)")
    assert record is not None
    assert record["env"]["options"] == ["pandas:display.precision"]
    again = await kernel.record("pd.get_option('display.precision')")
    assert again is not None and "env" not in again


async def test_a_library_class_changed_at_run_time_is_recorded(kernel: Kernel) -> None:
    made = await kernel.record("import pandas as pd\ndf = pd.DataFrame({'a': [1.0]})")
    assert made is not None and "env" not in made
    used = await kernel.record("m = df.describe()")
    assert used is not None and "env" not in used  # using a library changes no class
    patched = await kernel.record(
        "def install(cls):\n    cls.mean = lambda self, *a, **k: 42.0\ninstall(type(df))"
    )
    assert patched is not None and patched["env"]["classes"] == ["pandas.DataFrame"]
    after = await kernel.record("n = df.mean()")
    assert after is not None and "env" not in after  # told once, by the cell that did it


async def test_options_set_by_the_cell_that_imports_pandas_are_recorded(kernel: Kernel) -> None:
    # Compared with pandas' defaults (the import alone changes nothing: the test above).
    record = await kernel.record("import pandas as pd\npd.set_option('display.max_rows', 7)")
    assert record is not None and record["env"]["options"] == ["pandas:display.max_rows"]


async def test_settings_a_helper_changes_are_recorded_whatever_the_source_shows(
    kernel: Kernel,
) -> None:
    await kernel.record("import numpy as np, decimal, warnings, sys")
    await kernel.record(
        "def setup():\n    np.set_printoptions(precision=2)\n    np.seterr(all='raise')\n"
        "    decimal.getcontext().prec = 5\n    warnings.simplefilter('error')\n"
        "    sys.path.append('/nonexistent-revive')\nops = {'setup': setup}"
    )
    record = await kernel.record("ops['setup']()")
    assert record is not None and record["env"]["options"] == [
        "decimal:context",
        "numpy:errstate",
        "numpy:printoptions",
        "sys:path",
        "warnings:filters",
    ]
    # Read back, not changed: nothing to record. Flags raised by a computation are no setting.
    again = await kernel.record(
        "p = np.get_printoptions()\nq = decimal.Decimal(1) / decimal.Decimal(3)"
    )
    assert again is not None and "env" not in again
    # Filters that only silence warnings (libraries add them on import) change no value.
    quiet = await kernel.record("warnings.filterwarnings('ignore', message='revive')")
    assert quiet is not None and "env" not in quiet


async def test_matplotlib_settings_changed_through_any_code_are_recorded(kernel: Kernel) -> None:
    first = await kernel.record(
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt"
    )
    assert first is not None
    assert "matplotlib:rcParams" not in first.get("env", {}).get("options", [])
    styled = await kernel.record("use = plt.style.use\nuse('ggplot')")
    assert styled is not None and styled["env"]["options"] == ["matplotlib:rcParams"]
    # Set and put back (rc_context), or read through rcParams' own lookup: no change.
    put_back = await kernel.record(
        "with plt.rc_context({'lines.linewidth': 9}):\n    w = plt.rcParams['lines.linewidth']"
    )
    assert put_back is not None and "env" not in put_back
    plotted = await kernel.record("fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.close(fig)")
    assert plotted is not None and "env" not in plotted


async def test_a_locale_set_through_any_code_is_recorded(kernel: Kernel) -> None:
    first = await kernel.record(
        "import locale\nset_ctype = locale.setlocale\n"
        "target = 'C' if locale.setlocale(locale.LC_CTYPE) != 'C' else 'C.UTF-8'"
    )
    assert first is not None and "env" not in first
    changed = await kernel.record("set_ctype(locale.LC_CTYPE, target)")
    assert changed is not None and changed["env"]["options"] == ["locale:LC_ALL"]
    # Asked, or set to what it was: no change.
    asked = await kernel.record(
        "now = locale.setlocale(locale.LC_ALL)\nlocale.setlocale(locale.LC_CTYPE, target)"
    )
    assert asked is not None and "env" not in asked


async def test_draws_from_the_global_generators_are_recorded_through_any_code(
    kernel: Kernel,
) -> None:
    first = await kernel.record("import numpy as np, random")
    assert first is not None and "env" not in first
    # numpy loads its generator on first use: a draw then is one too, a first seed is not
    # (the source shows it)
    used = await kernel.record("draws = [np.random.rand]\nx = draws[0]()")
    assert used is not None and used["env"]["random"] == ["numpy.random"]
    seeded = await kernel.record("np.random.seed(0)\nrandom.seed(0)")
    assert seeded is not None and seeded["env"]["random"] == ["numpy.random", "random"]
    await kernel.record("draws.append(random.random)")
    drawn = await kernel.record("for d in draws:\n    d()")
    assert drawn is not None and drawn["env"]["random"] == ["numpy.random", "random"]
    looked = await kernel.record("s = np.random.get_state()\nt = random.getstate()")
    assert looked is not None and "env" not in looked
    # numpy's legacy normals come in pairs: the second draw only uses the cached one, which
    # changes what the next draw gives all the same.
    pair = await kernel.record("a = np.random.randn()")
    assert pair is not None and pair["env"]["random"] == ["numpy.random"]
    cached = await kernel.record("ops = [np.random.randn]\nb = ops[0]()")
    assert cached is not None and cached["env"]["random"] == ["numpy.random"]
    after = await kernel.record("c = 1")
    assert after is not None and "env" not in after


async def test_an_environment_change_between_cells_counts_for_the_next_cell(
    kernel: Kernel,
) -> None:
    # Not copied at each cell's start: a silent change is charged to the next cell, which a
    # restore then re-runs (one cell more), rather than lost.
    await kernel.record("x = 1")
    await kernel.run("__import__('os').environ['REVIVE_BETWEEN'] = '1'", silent=True)
    record = await kernel.record("y = 2")
    assert record is not None and record["env"]["vars"] == ["REVIVE_BETWEEN"]
    after = await kernel.record("z = 3")
    assert after is not None and "env" not in after


async def test_an_array_changed_between_cells_counts_for_the_next_cell_that_reads_it(
    kernel: Kernel,
) -> None:
    # The fingerprint before a cell reuses the checksums taken after the previous one (a large
    # array is hashed once per cell, not twice): a change in between is charged to the next
    # cell, as for the environment.
    await kernel.record("import numpy as np\narr = np.zeros(1000)")
    read = await kernel.record("total = arr.sum()")
    assert read is not None and read["unchanged"] == ["arr"]
    await kernel.run("arr[3] = 1.0", silent=True)
    record = await kernel.record("total = arr.sum()")
    assert record is not None and record["mutated"] == ["arr"]
    again = await kernel.record("total = arr.sum()")
    assert again is not None and again["mutated"] == [] and again["unchanged"] == ["arr"]


async def test_in_place_changes_reach_the_reply(kernel: Kernel) -> None:
    await kernel.record("items = []\nview = items")
    record = await kernel.record("items.append(1)")
    assert record is not None
    assert record["mutated"] == ["items", "view"]
    assert record["defined"] == []
    read = await kernel.record("n = len(items)")
    assert read is not None and read["mutated"] == [] and read["unchanged"] == ["items"]


async def test_records_are_finished_in_the_wait_before_the_reply(kernel: Kernel) -> None:
    # The kernel's own wait between its flushes and its reply is the tracker's while it is
    # loaded: the record is finished in it (a long fingerprint here), whole in the reply and
    # in a query sent right after.
    wait = "get_ipython().kernel._execute_sleep"
    assert await kernel.eval(wait) == 0.0
    await kernel.record("big = list(range(300_000))\nalias = big")
    record = await kernel.record("big.append(1)")
    assert record is not None and record["mutated"] == ["alias", "big"]
    context = await kernel.tracker("context_json()")
    assert context["executions"][-1] == record and context["seq"] == record["seq"]
    await kernel.run("%unload_ext jupyter_revive_tracker")
    assert await kernel.eval(wait) == 0.0005  # ipykernel's default, given back


async def test_a_key_that_is_not_a_name_does_not_stop_recording(kernel: Kernel) -> None:
    record = await kernel.record("globals()[1] = 'one'\nx = 1")
    assert record is not None and record["defined"] == ["x"]
    record = await kernel.record("y = 2\ndel globals()[1]")
    assert record is not None and record["defined"] == ["y"] and record["deleted"] == []


async def test_file_functions_replaced_between_cells_stay_their_owners(
    kernel: Kernel, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Someone (a test's monkeypatch, a library, a silent execution) replaces os.remove between
    # cells: the cell runs theirs, the tracker still sees the call, and theirs is back after
    # the cell. (The file is outside the folders the OS reports on: only the wrapper sees it.)
    outside = tmp_path_factory.mktemp("outside") / "z.txt"
    await kernel.run(f"import os\nos.chdir({str(tmp_path)!r})", silent=True)
    await kernel.record(f"open({str(outside)!r}, 'w').close()")
    await kernel.run(
        "_calls = []\n_original = os.remove\n"
        "def mine(path, *args, **kwargs):\n"
        "    _calls.append(path)\n"
        "    return _original(path, *args, **kwargs)\n"
        "os.remove = mine",
        silent=True,
    )
    record = await kernel.record(f"os.remove({str(outside)!r})")
    assert record is not None and record["files"]["removed"] == [str(outside)]
    assert await kernel.eval("(_calls, os.remove is mine)") == ([str(outside)], True)
    await kernel.run("os.remove = _original", silent=True)
    record = await kernel.record(
        "open('w.txt', 'w').close()\nos.remove('w.txt')\nopen('v.txt', 'w').close()"
    )
    assert record is not None and record["files"]["written"] == [str(tmp_path / "v.txt")]
    assert await kernel.eval("os.remove is _original") is True


async def test_file_functions_kept_by_a_class_defined_in_a_cell_still_work(
    kernel: Kernel, tmp_path: Path
) -> None:
    # A library imported in a cell may keep ``io.open`` in a class body; later calls through
    # an instance must not get the instance as the path (as a function wrapper would). (The
    # shell's own ``open`` is IPython's function: that one is bound, with or without us.)
    await kernel.run(f"import os\nos.chdir({str(tmp_path)!r})", silent=True)
    await kernel.record("import io\nclass Store:\n    opener = io.open\n    remove = os.remove")
    record = await kernel.record("Store().opener('s.txt', 'w').close()")
    assert record is not None and record["status"] == "ok"
    assert record["files"]["written"] == [str(tmp_path / "s.txt")]
    record = await kernel.record("Store().remove('s.txt')")
    assert record is not None and record["files"]["removed"] == [str(tmp_path / "s.txt")]


async def test_a_name_rebound_to_an_object_at_its_old_address_is_defined(kernel: Kernel) -> None:
    # The loop frees each int before making the next: the last one may sit where the first
    # was, which a diff of addresses alone would call unchanged.
    for _ in range(5):
        await kernel.record("acc = 10**30\ncounts = {'a': 10**30}")
        rebound = await kernel.record("for _ in range(2):\n    acc += 1")
        bumped = await kernel.record("for _ in range(2):\n    counts['a'] += 1")
        assert rebound is not None and bumped is not None
        assert rebound["defined"] == ["acc"] and "unchanged" not in rebound
        assert bumped["mutated"] == ["counts"] and "unchanged" not in bumped
