"""The tracker's in-place change detection, in-process: cells exec'd in a ``__main__``-like
namespace, fingerprinted before and after as the ledger does."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from jupyter_revive.kernel_manager.jupyter_revive_tracker import changes
from jupyter_revive.kernel_manager.jupyter_revive_tracker.changes import Changes, candidates
from jupyter_revive.kernel_manager.jupyter_revive_tracker.names import is_owned_name
from jupyter_revive.kernel_manager.jupyter_revive_tracker.snapshots import Watch


def is_user(name: str) -> bool:
    return not is_owned_name(name)


def run(ns: dict[str, Any], source: str) -> tuple[list[str], list[str]]:
    """(mutated, unchanged) of executing ``source`` in ``ns``, found both ways: holders of a
    changed object through the namespace's snapshots (as the tracker does) and by looking at
    every value; the two must agree."""
    names = Watch()
    names.snapshot(ns)
    names.holding(ns, changes._OPAQUE)  # kept from before the cell, as across cells
    watch = Changes(ns, candidates(source, ns, is_user))
    exec(source, ns)
    names.snapshot(ns)
    found = watch.finish(names.watched, is_user, names)
    assert found == watch.finish(list(ns), is_user)
    return found


def session(*cells: str) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "__main__"}
    for cell in cells:
        exec(cell, ns)
    return ns


@pytest.mark.parametrize(
    ("setup", "cell", "mutated"),
    [
        (["items = []"], "items.append(1)", ["items"]),
        (["d = {}"], "d['k'] = 1", ["d"]),
        (["s = set()"], "s.add(1)", ["s"]),
        (["m = [[1], [2]]"], "m[0].append(3)", ["m"]),
        # a closure's counter advancing on a bare call
        (
            ["def make():\n    n = 0\n    def bump():\n        nonlocal n\n        n += 1\n"
             "        return n\n    return bump", "ctr = make()"],
            "ctr()",
            ["ctr"],
        ),
        # a mutable default argument
        (["def add(x, acc=[]):\n    acc.append(x)\n    return acc"], "add(3)", ["add"]),
        # a notebook function appending to a global list
        (["log = []", "def note(v):\n    log.append(v)"], "note(5)", ["log"]),
        # called through another name, mutating its argument
        (["def fill(xs):\n    xs.extend([1, 2])", "f = fill", "data = []"], "f(data)", ["data"]),
        # a method of a notebook class changing a global
        (
            ["seen = []", "class Acct:\n    def deposit(self, v):\n        seen.append(v)",
             "acct = Acct()"],
            "acct.deposit(5)",
            ["seen"],
        ),
        (["class P:\n    pass", "p = P()"], "p.x = 1", ["p"]),
        # a dataclass copy sharing a mutable field: both names hold the changed list
        (
            ["import copy\nfrom dataclasses import dataclass, field",
             "@dataclass\nclass Cfg:\n    tags: list = field(default_factory=list)",
             "a = Cfg()", "b = copy.copy(a)"],
            "b.tags.append('x')",
            ["a", "b"],
        ),
        # memoizing cache filled by a call
        (["import functools", "@functools.lru_cache\ndef sq(x):\n    return x * x"], "sq(4)",
         ["sq"]),
        # a decorator registry
        (
            ["REG = {}", "def register(f):\n    REG[f.__name__] = f\n    return f"],
            "@register\ndef task():\n    pass",
            ["REG"],
        ),
        # aliases: every name holding the changed object, and containers holding it
        (["xs = []", "ys = xs", "box = {'k': xs}"], "xs.append(1)", ["box", "xs", "ys"]),
        # iterators keep their position in C fields, advanced by a call the source hides
        (["it = iter(range(5))", "ops = [next]"], "ops[0](it)", ["it"]),
        (["it = iter([1, 2])", "ops = [next]"], "ops[0](it)", ["it"]),
        (["it = enumerate(zip('ab', map(str, [1, 2])))", "ops = [next]"], "ops[0](it)", ["it"]),
        (["import itertools\nit = itertools.count(3)", "ops = [next]"], "ops[0](it)", ["it"]),
        # iterators whose position no API shows (itertools' from Python 3.12 on, a dict's):
        # advanced, as far as anyone can tell, by every execution that reaches them
        (["import itertools\nit = itertools.islice('abc', 3)", "ops = [next]"], "ops[0](it)",
         ["it"]),
        (["d = {'a': 1, 'b': 2}", "keys = iter(d)", "ops = [next]"], "ops[0](keys)", ["keys"]),
        (["d = {'a': 1}", "keys = iter(d)", "box = [keys]"], "n = len(box)", ["box", "keys"]),
        # a generator whose locals moved
        (["def g():\n    for i in range(3):\n        yield i", "gen = g()", "ops = [next]"],
         "ops[0](gen)", ["gen"]),
        # a partial holding the changed list
        (["import functools", "xs = []", "push = functools.partial(list.append, xs)"],
         "push(1)", ["push", "xs"]),
        # notebook functions reached through a dispatch table or a bound method
        (["LOG = []", "def cb(v):\n    LOG.append(v)", "ops = {'note': cb}"], "ops['note'](1)",
         ["LOG"]),
        (["LOG = []", "class Acc:\n    def add(self, v):\n        LOG.append(v)",
          "h = Acc().add"], "h(1)", ["LOG"]),
        # a view the source does not show as one: the arrays sharing its memory changed too
        (["import numpy as np", "a = np.zeros(6)", "def view(x):\n    return x[1:3]",
          "v = view(a)\nm = a.reshape(2, 3)\nops = [np.copyto]"],
         "ops[0](v, 7.0)", ["a", "m", "v"]),
        # a configuration nested deeper than objects are walked
        (["cfg = {'a': {'b': {'c': {'d': {'e': {'f': []}}}}}}", "ops = {'cfg': cfg}"],
         "ops['cfg']['a']['b']['c']['d']['e']['f'].append(1)", ["cfg", "ops"]),
        # in-memory files written by code they are handed (their contents are C fields)
        (["import io", "buf = io.StringIO()"], "print('x', file=buf)", ["buf"]),
        (["import io\nimport numpy as np", "b = io.BytesIO()"], "np.save(b, np.arange(3))",
         ["b"]),
        # code set up by an earlier cell, run by this one, which never names what it changes
        (["seen = {}", "marks = map(lambda k: seen.setdefault(k, 0), 'ab')"], "out = list(marks)",
         ["marks", "seen"]),
        (["hits = []", "def keep(x):\n    hits.append(x)\n    return x", "it = filter(keep, [1])"],
         "odd = list(it)", ["hits", "it"]),
        (["log = []", "def gen():\n    log.append(1)\n    yield 1", "g = gen()"], "v = next(g)",
         ["g", "log"]),
        (["import itertools, collections", "ids = itertools.count()",
          "t = collections.defaultdict(lambda: next(ids))"], "a = t['x']", ["ids", "t"]),
    ],
)  # fmt: skip
def test_in_place_changes_are_observed(setup: list[str], cell: str, mutated: list[str]) -> None:
    ns = session(*setup)
    found, _ = run(ns, cell)
    assert found == mutated


def test_numpy_out_and_pandas_inplace() -> None:
    ns = session("import numpy as np\nimport pandas as pd", "a = np.zeros(3)\nb = np.ones(3)")
    assert run(ns, "np.add(a, b, out=a)")[0] == ["a"]
    ns["df"] = pd.DataFrame({"x": [3, 1, 2], "y": [1.0, 2.0, 3.0]})
    assert run(ns, "df.sort_values('x', inplace=True)")[0] == ["df"]
    assert run(ns, "df.loc[0, 'y'] = 9.0")[0] == ["df"]
    assert run(ns, "df['z'] = 1")[0] == ["df"]
    assert run(ns, "df.index.name = 'i'")[0] == ["df"]
    mutated, unchanged = run(ns, "df.head()")
    assert mutated == [] and "df" in unchanged
    # an array made read-only through a function called by another name
    exec("def freeze(x):\n    x.flags.writeable = False\nfz = freeze", ns)
    assert run(ns, "fz(b)")[0] == ["b"]


def test_reads_leave_names_unchanged_and_rebinding_is_not_a_mutation() -> None:
    ns = session("xs = [1, 2]", "d = {'a': [1]}", "def f(v):\n    return len(v)")
    mutated, unchanged = run(ns, "n = f(xs) + len(d)")
    assert mutated == []
    assert unchanged == ["d", "f", "xs"]
    mutated, _ = run(ns, "xs = xs + [3]")
    assert mutated == []


def test_iterators_partials_and_deep_configurations_read_whole_can_be_unchanged() -> None:
    ns = session(
        "import functools",
        "it = iter(range(5))\nli = iter([1, 2])\nnext(li)\nnext(li)\ndone = iter([1])\nlist(done)",
        "cfg = {'a': {'b': {'c': {'d': {'e': {'f': [1]}}}}}}",
        "push = functools.partial(list.append, [])",
    )
    mutated, unchanged = run(ns, "x = (it, li, done, cfg, push)\nnext(done, None)")
    assert mutated == [] and unchanged == ["cfg", "done", "it", "li", "push"]


def test_modules_and_library_objects_are_never_called_unchanged() -> None:
    """Their state is not walked (a module's attributes, matplotlib's ``rcParams``, a patched
    library class): "unchanged" would override the static reading of ``mod.limit = 7``."""
    ns = session(
        "import types\nmod = types.ModuleType('revive_probe')",
        "class Lib:\n    pass\nLib.__module__ = 'somelib'",
        "def helper():\n    pass\nhelper.__module__ = 'somelib'",
    )
    mutated, unchanged = run(ns, "mod.limit = 7\nLib.extra = 1\nhelper.note = 1")
    assert mutated == [] and unchanged == []


def test_generators_and_open_files_are_never_called_unchanged(tmp_path: Path) -> None:
    """Their state is partly out of sight (a loop's iterator on a generator's stack, a file's
    buffers): a difference is a change, an equal fingerprint says nothing."""
    (tmp_path / "lines.txt").write_text("one\ntwo\nthree\n")
    ns = session(
        "def g():\n    for x in [5, 5, 5]:\n        yield x",
        "gen = g()\nnext(gen)",
        f"fh = open({str(tmp_path / 'lines.txt')!r})",
        "ops = [next, lambda h: h.readline()]",
    )
    try:
        mutated, unchanged = run(ns, "ops[0](gen)")  # same line, same local: not seen
        assert mutated == [] and "gen" not in unchanged
        mutated, unchanged = run(ns, "ops[1](fh)")
        assert mutated == ["fh"] and "fh" not in unchanged
        mutated, unchanged = run(ns, "n = len(ops)")
        assert mutated == [] and "fh" not in unchanged and "gen" not in unchanged
    finally:
        ns["fh"].close()
    assert run(ns, "ops[1]")[0] == []  # closed: nothing to read


def test_what_is_only_sampled_is_never_called_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes, "HASH_BYTES", 1024)
    monkeypatch.setattr(changes, "MAX_ELEMENTS", 10)
    ns = session()
    ns["big"] = np.zeros(4096)
    ns["long"] = list(range(100))
    mutated, unchanged = run(ns, "big.sum(); len(long)")
    assert mutated == [] and unchanged == []
    # a change inside the sample is still seen
    assert run(ns, "big[0] = 1.0")[0] == ["big"]


def test_the_hashing_budget_is_shared_and_the_pass_after_follows_the_pass_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Buffers are hashed whole while a pass's budget lasts. A new buffer met first after the
    cell must not push one hashed whole before it into sampling: its fingerprint would then
    differ, and every name holding it would be charged with a change it did not have."""
    monkeypatch.setattr(changes, "HASH_BYTES", 8192)
    ns = session()
    a, b = np.zeros(512), np.zeros(512)  # 4 KB each: both fit before the cell
    ns.update(pair=[a, b], solo=b, big=np.zeros(4096))  # big: 32 KB, never whole
    ns["new"] = np.ones(512)
    assert run(ns, "pair.insert(0, new)")[0] == ["pair"]
    mutated, unchanged = run(ns, "big.sum(); solo.sum()")
    assert mutated == [] and unchanged == ["solo"]
    assert run(ns, "big[-1] = 1.0")[0] == ["big"]  # the sample still sees a change in it


def test_what_a_pass_reads_of_buffers_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole while HASH_BYTES last, then sampled while SAMPLED_BYTES last, then the layout only:
    a cell naming a frame of many blocks pays milliseconds, never a read of all of it."""
    monkeypatch.setattr(changes, "HASH_BYTES", 64 * 1024)
    monkeypatch.setattr(changes, "SAMPLED_BYTES", 256 * 1024)
    ns = session()
    ns["cols"] = [np.zeros(4096) for _ in range(100)]  # 100 buffers of 32 KB
    read: list[int] = []
    crc32 = changes.zlib.crc32

    def counted(data: Any, value: int = 0) -> int:
        read.append(len(data))
        return crc32(data, value)

    monkeypatch.setattr(changes.zlib, "crc32", counted)
    watch = Changes(ns, ["cols"])
    assert 0 < sum(read) <= (64 + 256) * 1024
    read.clear()
    assert watch.finish(list(ns), is_user) == ([], [])  # sampled: never "unchanged"
    assert 0 < sum(read) <= (64 + 256) * 1024
    assert run(ns, "cols[0][5] = 1.0")[0] == ["cols"]  # hashed whole
    assert run(ns, "cols[10][:] = 2.0")[0] == ["cols"]  # sampled
    assert run(ns, "cols[90][:] = 2.0") == ([], [])  # its layout only: the static reading


def test_a_buffer_changed_between_executions_counts_for_the_next_one() -> None:
    """The pass before reuses the checksums the previous execution's pass after took of the
    same buffers (no second hash of a large frame); a change made in between (a widget
    callback, a thread), invisible without it, is charged to the next execution."""
    ns = session()
    ns["arr"] = np.zeros(1000)
    first = Changes(ns, ["arr"])
    assert first.finish(list(ns), is_user) == ([], ["arr"])
    assert len(first.whole) == 1
    calls: list[int] = []
    crc32 = changes.zlib.crc32

    def counted(data: Any, value: int = 0) -> int:
        calls.append(len(data))
        return crc32(data, value)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(changes.zlib, "crc32", counted)
        again = Changes(ns, ["arr"], first.whole)
        assert again.finish(list(ns), is_user) == ([], ["arr"])
    assert calls == [8000]  # the pass after only
    ns["arr"][3] = 1.0  # between executions
    assert Changes(ns, ["arr"], again.whole).finish(list(ns), is_user) == (["arr"], [])
    ns["arr"][4] = 1.0
    assert Changes(ns, ["arr"]).finish(list(ns), is_user) == ([], ["arr"])  # without: unseen


def test_pandas_string_datetime_and_categorical_columns_are_fingerprinted() -> None:
    """pandas 3 keeps strings (and datetimes, categoricals) in arrays whose values live in C
    fields, not in ``__dict__``: a change there was once called "unchanged"."""
    ns = session("import pandas as pd")
    ns["df"] = pd.DataFrame(
        {
            "name": ["a", "b", "c"],
            "when": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]),
            "kind": pd.Categorical(["x", "y", "x"]),
        }
    )
    assert run(ns, "df.loc[1, 'name'] = 'z'")[0] == ["df"]
    assert run(ns, "df.loc[1, 'when'] = pd.Timestamp('1999-01-01')")[0] == ["df"]
    assert run(ns, "df.loc[1, 'kind'] = 'x'")[0] == ["df"]
    ns["names"] = ns["df"][["name", "when"]].copy()
    assert run(ns, "names['name'].str.upper()") == ([], ["names"])


@pytest.mark.parametrize(
    ("setup", "cell"),
    [
        ("v = np.ma.masked_array([1, 2, 3])", "v.fill_value = 7"),  # a subclass' __dict__
        ("v = pd.Series([1, 2])", "v.name = 'x'"),  # on the series, not in its manager
        ("v = pd.DataFrame({'a': [1]})", "v.flags.allows_duplicate_labels = False"),
        ("import collections\nv = collections.defaultdict(list)", "v.default_factory = set"),
        ("import collections\nP = collections.namedtuple('P', 'x')\nv = P([1])", "v.x.append(2)"),
    ],
)
def test_state_beside_the_obvious_container_is_seen(setup: str, cell: str) -> None:
    ns = session("import numpy as np\nimport pandas as pd", setup)
    assert run(ns, "n = len(v)")[0] == []
    assert run(ns, cell)[0] == ["v"]


def test_a_large_object_array_is_sampled_before_it_becomes_a_list() -> None:
    ns = session("import numpy as np")
    ns["objs"] = np.array([[i] for i in range(changes.MAX_ELEMENTS * 3)] + [None], dtype=object)
    mutated, unchanged = run(ns, "objs.size")
    assert mutated == [] and "objs" not in unchanged


def test_state_in_c_fields_of_a_base_class_is_never_called_unchanged() -> None:
    ns = session(
        "import ctypes\nclass Pt(ctypes.Structure):\n    _fields_ = [('x', ctypes.c_int)]",
        "pt = Pt()",
    )
    mutated, unchanged = run(ns, "pt.x = 3")  # a C field
    assert "pt" not in unchanged and mutated == []
    # an in-memory file's buffer is C-level too, but read (a subclass' as well)
    ns = session("import io\nclass Log(io.StringIO):\n    pass", "log = Log()")
    assert run(ns, "log.write('x')") == (["log"], [])
    ns = session(
        "class Pair:\n    __slots__ = ('__hidden', 'shown')\n"
        "    def __init__(self):\n        self.__hidden = []\n        self.shown = 1",
        "p = Pair()",
        "marker = object()",
    )
    assert run(ns, "p._Pair__hidden.append(1)")[0] == ["p"]  # a private (mangled) slot
    assert run(ns, "q = p; m = marker") == ([], ["marker", "p"])


@pytest.mark.parametrize(
    "setup",
    [
        "import numpy as np\ng = np.random.default_rng(0)",
        "import numpy as np\ng = np.random.RandomState(0)",
        "import random\ng = random.Random(0)",
    ],
)
def test_a_seeded_generator_is_changed_by_a_draw_and_only_by_one(setup: str) -> None:
    """Its state lives in C (numpy's bit generator, the Mersenne Twister): read by value."""
    ns = session(setup, "def draw(x):\n    return x.random()", "d = draw")
    assert run(ns, "g") == ([], ["g"])
    mutated, unchanged = run(ns, "a = d(g)")
    assert mutated == ["g"] and "d" in unchanged


def test_a_walk_cut_short_by_time_is_matched_object_for_object_after_the_cell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pass before the cell that ran out of time stops at some object; the pass after, on a
    busier machine, would run out sooner, and the shorter walk would look like a change."""
    now = [0.0]
    step = [0.001]

    class Clock:
        @staticmethod
        def perf_counter() -> float:
            now[0] += step[0]
            return now[0]

    monkeypatch.setattr(changes, "time", Clock)
    monkeypatch.setattr(changes, "BUDGET_S", 0.0045)
    ns = session()
    ns["rows"] = [[i] for i in range(5000)]
    watch = Changes(ns, ["rows"])
    step[0] = 0.1  # every reading of the clock now past the deadline
    assert watch.finish(list(ns), is_user) == ([], [])  # cut short: never "unchanged"


def test_a_c_object_without_attributes_is_not_called_unchanged() -> None:
    ns = session("import re\npat = re.compile('a')", "gen = iter([1, 2])")
    _, unchanged = run(ns, "next(gen); pat.match('a')")
    assert "gen" not in unchanged and "pat" not in unchanged


def test_candidates_are_bounded_and_follow_notebook_functions() -> None:
    ns = session("cfg = {}", "other = []", "def g():\n    return cfg", "def h():\n    return g()")
    assert sorted(candidates("h()", ns, lambda n: True)) == ["cfg", "g", "h"]
    many: dict[str, Any] = {f"v{i}": [] for i in range(changes.MAX_CANDIDATES + 50)}
    source = " ".join(many)
    assert len(candidates(source, many, lambda n: True)) == changes.MAX_CANDIDATES


def test_an_object_whose_attributes_raise_costs_precision_not_the_cell() -> None:
    ns = session(
        "class Bad:\n    def __getattribute__(self, name):\n        raise RuntimeError(name)",
        "bad = Bad()",
    )
    mutated, unchanged = run(ns, "x = 1")
    assert "bad" not in unchanged and mutated == []
    run(ns, "y = bad")  # mentions it: fingerprinting must not raise
    assert ns["y"] is ns["bad"]


def test_holders_kept_across_cells_follow_rebinding_and_deletion() -> None:
    ns = session("xs = []", "box = 1", "keep = {'k': xs}")
    names = Watch()
    names.snapshot(ns)

    def cell(source: str) -> list[str]:
        watch = Changes(ns, candidates(source, ns, is_user))
        exec(source, ns)
        names.snapshot(ns)
        return watch.finish(names.watched, is_user, names)[0]

    assert cell("xs.append(1)") == ["keep", "xs"]
    assert cell("box = [xs]\ndel keep") == []  # box became a container, keep is gone
    assert cell("xs.append(2)") == ["box", "xs"]
    assert cell("box = 2\nalso = xs") == []
    assert cell("xs.append(3)") == ["also", "xs"]


def test_an_object_at_a_freed_ones_address_is_still_a_change() -> None:
    # CPython hands a freed object's memory to the next one of its size: a name or element
    # whose address came back within the cell holds another value. Repeated, because reuse is
    # likely rather than certain (the identity-only fingerprint missed it ~19 times in 20).
    cell = (
        "for _ in range(2):\n    acc += 1\n    counts['a'] += 1\n    ctr()\n"
        "for x in (1.0, 2.0):\n    total += x"
    )
    counter = (
        "def make():\n    n = 10**30\n    def bump():\n        nonlocal n\n        n += 1\n"
        "    return bump\nctr = make()"
    )
    for _ in range(20):
        ns = session("acc = 10**30\ncounts = {'a': 10**30}\ntotal = 0.5", counter)
        before = {name: id(ns[name]) for name in ("acc", "total")}
        watch = Changes(ns, candidates(cell, ns, is_user))
        exec(cell, ns)
        mutated, unchanged = watch.finish(list(ns), is_user)
        assert mutated == ["counts", "ctr"] and unchanged == []
        came_back = sorted(name for name, address in before.items() if id(ns[name]) == address)
        assert sorted(watch.rebound) == came_back  # the others the namespace diff sees


def test_atoms_compare_by_type_and_value_but_huge_strings_are_not_read() -> None:
    assert changes._value_key(1) != changes._value_key(1.0) != changes._value_key(True)
    hashable = sys.version_info >= (3, 12)  # slices became hashable in 3.12
    assert changes._value_key(slice(1)) == ((slice, hash(slice(1))) if hashable else None)
    huge = "x" * (changes.MAX_HASHED + 1)
    assert changes._value_key(huge) is None
    ns = session()
    ns["text"] = huge
    assert run(ns, "n = len(text)") == ([], [])  # cannot tell: neither unchanged nor rebound


def test_names_only_assigned_are_not_fingerprinted_before_the_cell() -> None:
    ns = session("df = [1, 2]", "other = df", "def load():\n    return [3]")
    assert candidates("df = load()", ns, is_user) == ["load"]
    for source in ("df = df + [3]", "df += [3]", "df: list = []", "x = df = []", "other = df"):
        assert "df" in candidates(source, ns, is_user), source
    # the old object is still seen changing through another name
    assert run(ns, "df = load()\nother.append(4)")[0] == ["other"]


def test_names_in_any_script_are_candidates_whether_the_cell_is_ascii_or_not() -> None:
    # ASCII cells are scanned with ASCII classes, others with Unicode ones: the same names.
    ns = session("données = []", "table = {}", "ok = []")
    assert sorted(candidates("données.append(1)\ntable['é'] = 2", ns, is_user)) == [
        "données",
        "table",
    ]
    assert sorted(candidates("ok.append(1)\ntable['e'] = 2", ns, is_user)) == ["ok", "table"]
    assert candidates("données = []\nok = 1", ns, is_user) == []  # only assigned to
    assert run(ns, "données.append(1)")[0] == ["données"]


def test_names_only_assigned_in_a_very_large_cell_are_fingerprinted_all_the_same() -> None:
    ns = session("df = [1, 2]")
    padding = "\n" + "# " + "x" * changes.ASSIGNED_SCAN
    assert candidates("df = [3]" + padding, ns, is_user) == ["df"]


def test_large_atom_containers_are_looked_up_before_the_cell_and_read_after_it() -> None:
    """The pass before finds a large list's or dict's atoms in ``known`` by the identities it
    holds (no pass over their types and values, on the reply's path); the pass after always
    reads them, so that an element replaced during the cell at its old address still shows; a
    stale entry can only report a change."""
    ns = session(
        "items = list(range(1000, 1300))", "table = {f'k{i}': i * 1000 for i in range(300)}"
    )
    known: dict[Any, Any] = {}
    read: list[int] = []
    values = changes._Pass._values

    def counted(self: Any, atoms: tuple[Any, ...], types: tuple[type, ...]) -> Any:
        read.append(len(atoms))
        return values(self, atoms, types)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(changes._Pass, "_values", counted)
        first = Changes(ns, ["items", "table"], None, known)
        assert len(read) == 3  # items, the table's keys, its values: nothing known yet
        assert first.finish(list(ns), is_user) == ([], ["items", "table"])
        assert len(read) == 6 and len(known) == 3
        read.clear()
        again = Changes(ns, ["items", "table"], None, known)
        assert read == []  # looked up
        exec("items.append(1)\ntable['k0'] = -1", ns)
        assert again.finish(list(ns), is_user) == (["items", "table"], [])
        assert read == [301, 300, 300]  # read after, whatever is known
    # A stale entry (elements at the same addresses, other values): a change, never "unchanged".
    for key in known:
        known[key] = (known[key][0], 12345)
    assert Changes(ns, ["items"], None, known).finish(list(ns), is_user) == (["items"], [])
    # Bounded: the oldest entries go first.
    many = {f"c{i}": list(range(i, i + 300)) for i in range(changes.KNOWN_CONTAINERS + 6)}
    Changes(many, list(many), None, known)
    assert len(known) == changes.KNOWN_CONTAINERS
    assert ("items", changes.identities(many["c69"]), 300) in known


def test_in_memory_files_read_without_moving_are_unchanged() -> None:
    ns = session("import io", "buf = io.StringIO('abc')\nb = io.BytesIO(b'abc')")
    assert run(ns, "t = buf.getvalue() + str(b.getvalue())") == ([], ["b", "buf"])
    assert run(ns, "t = buf.read(1)")[0] == ["buf"]  # its position moved
    ns["buf"].close()
    assert run(ns, "closed = buf.closed") == ([], ["buf"])


def test_a_module_from_the_users_files_is_walked_by_its_globals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``helper.py`` beside the notebook keeps state its functions change: the module is a
    candidate, walked by its globals (never exact); library modules stay unwalked."""
    (tmp_path / "revive_helper_mod.py").write_text(
        "STATE = []\nCFG = {'lr': 0.1}\ndef add(x):\n    STATE.append(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "revive_helper_mod", raising=False)
    ns = session("import revive_helper_mod as h\nimport json")
    assert run(ns, "h.add(1)") == (["h"], [])
    assert run(ns, "n = len(h.STATE)") == ([], [])  # read: no change, never "unchanged"
    assert run(ns, "h.CFG['lr'] = 0.5") == (["h"], [])
    assert run(ns, "json.loads('1')") == ([], [])
    assert changes._user_module(ns["h"]) and not changes._user_module(ns["json"])
    # its functions, imported by name, reach what the notebook imported beside them
    ns = session("from revive_helper_mod import STATE, add")
    assert run(ns, "add(2)")[0] == ["STATE"]


def test_a_builtin_method_bound_to_an_object_charges_that_object() -> None:
    ns = session("import collections", "dq = collections.deque([1, 2, 3])", "rot = dq.rotate")
    assert run(ns, "rot(1)")[0] == ["dq", "rot"]
    ns = session("from math import sqrt\nxs = [1]\nn = len(xs)")
    assert run(ns, "r = sqrt(n)") == ([], ["n", "sqrt"])  # a module's builtin: an atom


def test_a_slot_wrapper_bound_to_an_object_charges_that_object() -> None:
    # ``it.__next__`` is a method-wrapper, not a builtin method: bound all the same
    ns = session("it = iter([1, 2, 3])", "nx = it.__next__")
    assert run(ns, "nx()")[0] == ["it", "nx"]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="itertools objects reduce before 3.12")
def test_itertools_objects_show_their_position() -> None:
    ns = session("import itertools", "cyc = itertools.cycle('ab')\nsl = itertools.islice('ab', 2)")
    assert run(ns, "a = next(cyc)\nb = next(sl)")[0] == ["cyc", "sl"]


def test_a_bound_method_held_in_a_container_charges_its_object_and_who_holds_it() -> None:
    # The partial holds ``layers.append``: a builtin method is an atom only when bound to one.
    ns = session(
        "import functools",
        "cfg = {'model': {'layers': [1]}}",
        "add = functools.partial(cfg['model']['layers'].append, 2)",
    )
    assert run(ns, "add()")[0] == ["add", "cfg"]  # cfg holds the list two levels down


def test_a_wide_container_is_looked_into_level_by_level() -> None:
    # Thousands of small objects: the one holding the changed list is the first, and the walk
    # reaches every object's attributes (level 2) before any of their contents (level 3).
    ns = session(
        "class Result:\n    def __init__(self, i):\n        self.scores = [i]\n"
        "        self.meta = {'i': i, 'tags': [i]}",
        "results = [Result(i) for i in range(3000)]\nfirst = results[0].scores",
    )
    assert run(ns, "first.append(1)")[0] == ["first", "results"]
    # and a holder three levels down, behind 2,000 elements
    exec("rows = [[r] for r in results[:1000]]", ns)
    assert run(ns, "first.append(2)")[0] == ["first", "results", "rows"]


def test_an_instance_of_a_notebook_class_shows_its_class_attributes() -> None:
    ns = session(
        "class T:\n    tags = []\n    def add(self, t):\n        self.tags.append(t)",
        "t1 = T()\nad = t1.add",
    )
    assert run(ns, "ad('x')")[0] == ["T", "ad", "t1"]


def test_data_shared_through_a_base_class_charges_that_base() -> None:
    ns = session(
        "class Base:\n    seen = []",
        "class Sub(Base):\n    def note(self, x):\n        self.seen.append(x)",
        "s1 = Sub()\nnt = s1.note",
    )
    assert run(ns, "nt(1)")[0] == ["Base", "nt", "s1"]
    assert run(ns, "y = s1.note") == ([], ["s1"])  # still exactly unchanged when nothing changed
