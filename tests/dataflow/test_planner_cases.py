"""The planner on a table of small notebooks: which executions it replays, in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from jupyter_revive.dataflow import plan_notebook

from .notebooks import notebook


@dataclass(frozen=True)
class Case:
    id: str
    cells: Sequence[str]
    expected: Sequence[int]  # cell positions, in replay order
    order: Sequence[int] | None = None
    names: Sequence[str] | None = None
    live: Sequence[str] = ()
    ledger: dict[int, dict[str, Any]] = field(default_factory=dict)
    counts: Sequence[int | None] | None = None
    restorable: Sequence[str] | None = None


CASES = [
    Case(
        # written and read by C code (pyarrow), then removed: no tracker record of the files
        "file-written-by-c-code",
        [
            "df.to_parquet('p.parquet')",
            "back = pd.read_parquet('p.parquet')",
            "os.remove('p.parquet')",
        ],
        [0, 1],
        names=["back"],
        ledger={0: {"defined": []}, 1: {"defined": ["back"]}, 2: {"defined": []}},
    ),
    Case(
        "pipeline-skips-display",
        [
            "import pandas as pd",
            "df = pd.DataFrame({'a': [1, None]})",
            "df.head()",
            "clean = df.dropna()",
            "print(clean)",
        ],
        [0, 1, 3],
    ),
    Case(
        # a library patched in place changes what later cells compute with its objects, though
        # they name neither the class nor its module
        "library-patched-in-an-earlier-cell",
        [
            "import pandas as pd\ndf = pd.DataFrame({'a': [1.0]})",
            "pd.DataFrame.mean = lambda self: 42.0",
            "setattr(pd.DataFrame, 'total', lambda self: 1.0)",
            "m = df.mean()",
        ],
        [0, 1, 2, 3],
        names=["m"],
    ),
    Case(
        "library-patched-where-it-is-imported",
        [
            "from pandas import DataFrame\nDataFrame.mean = lambda self: 42.0",
            "import pandas as pd\ndf = pd.DataFrame({'a': [1.0]})",
            "m = df.mean()",
        ],
        [0, 1, 2],
        names=["m"],
    ),
    Case(
        "library-patched-by-a-notebook-function",
        [
            "import pandas as pd\ndf = pd.DataFrame({'a': [1.0]})",
            "def patch():\n    pd.DataFrame.mean = lambda self: 42.0",
            "patch()",
            "m = df.mean()",
        ],
        [0, 1, 2, 3],
        names=["m"],
    ),
    Case(
        # the tracker saw a library class change where no source names it: every later cell
        # may compute with the patch
        "observed-class-patch-through-an-instance",
        [
            "import pandas as pd\ndf = pd.DataFrame({'a': [1.0]})",
            "type(df).mean = lambda self: 42.0",
            "x = 1",
            "m = df.mean()",
        ],
        [0, 1, 3],
        names=["m"],
        ledger={
            1: {
                "defined": [],
                "env": {
                    "vars": [],
                    "cwd": False,
                    "options": [],
                    "random": [],
                    "classes": ["pandas.DataFrame"],
                },
            }
        },
    ),
    Case(
        "library-attribute-deleted",
        [
            "import pandas as pd",
            "pd.DataFrame.total = lambda self: 1.0",
            "delattr(pd.DataFrame, 'total')",
            "x = 1",
        ],
        [0, 1, 2, 3],
        names=["x"],
    ),
    Case(
        # a library's options, environment and search path are other hidden states (observed
        # by the tracker): setting them patches no library
        "library-options-and-containers-are-not-patches",
        [
            "import pandas as pd\nimport os\nimport sys",
            "pd.options.display.precision = 2",
            "os.environ['A'] = '1'",
            "sys.path.append('..')",
            "x = 1",
        ],
        [4],
        names=["x"],
    ),
    Case(
        # calling a library's functions patches nothing: later cells do not depend on them
        "library-calls-are-not-patches",
        [
            "import matplotlib.pyplot as plt\nimport math",
            "plt.plot([1, 2])",
            "plt.title('t')",
            "root = math.sqrt(2)",
        ],
        [0, 3],
        names=["root"],
    ),
    Case("overwritten-definition-dropped", ["x = 1", "x = 2", "y = x"], [1, 2]),
    Case("aug-assign-run-twice-replays-twice", ["n = 0", "n += 1"], [0, 1, 1], order=[0, 1, 1]),
    Case(
        "out-of-order-uses-value-at-read-time",
        ["a = b + 1", "b = 10", "b = 20"],
        [1, 0, 2],
        order=[1, 0, 2],
    ),
    Case("every-later-mutator", ["lst = []", "lst.append(1)", "lst.append(2)"], [0, 1, 2]),
    Case(
        "mutator-before-recreation-dropped",
        ["lst = [0]", "lst.append(1)", "lst = []", "lst.append(2)"],
        [2, 3],
    ),
    Case(
        "plot-and-print-cells-never-included",
        ["import matplotlib.pyplot as plt", "x = [1, 2]", "plt.plot(x)", "print(x)", "x"],
        [0, 1],
    ),
    Case("subset-of-names", ["a = 1", "b = 2", "c = a"], [0, 2], names=["c"]),
    Case(
        "function-globals-read-at-call-time",
        ["scale = 3", "def f(v):\n    return v * scale", "y = f(2)", "scale = 4"],
        [0, 1, 2],
        names=["y"],
    ),
    Case(
        "restoring-a-function-brings-its-globals",
        ["scale = 3", "def f(v):\n    return v * scale", "other = 1"],
        [0, 1],
        names=["f"],
        restorable=["f", "scale"],
    ),
    Case(
        "global-write-belongs-to-calling-cell",
        ["def load():\n    global data\n    data = [1]", "load()", "z = data"],
        [0, 1, 2],
        names=["z"],
    ),
    Case(
        "function-mutating-global-is-a-mutator",
        ["log = []", "def note(x):\n    log.append(x)", "note(1)", "note(2)"],
        [0, 1, 2, 3],
        names=["log"],
    ),
    Case(
        "function-mutating-argument-is-a-mutator",
        ["def add(lst):\n    lst.append(1)", "items = []", "add(items)"],
        [0, 1, 2],
        names=["items"],
    ),
    Case(
        "alias-mutation-restores-original",
        ["a = []", "b = a", "b.append(1)"],
        [0, 1, 2],
        names=["a"],
    ),
    Case(
        "chained-assignment-shares-the-object",
        ["a = b = []", "b.append(1)", "c = 1"],
        [0, 1],
        names=["a"],
    ),
    Case(
        "deleted-name-is-not-a-target",
        ["tmp = 1", "keep = tmp + 1", "del tmp"],
        [0, 1],
        restorable=["keep"],
    ),
    Case(
        "dynamic-cell-kept-when-nothing-else-defines",
        ["code = 'x = 1'", "exec(code)", "y = x + 1"],
        [0, 1, 2],
        names=["y"],
    ),
    Case(
        "dynamic-cell-dropped-when-static-definer-exists",
        ["code = 'q = 1'", "exec(code)", "x = 5", "y = x + 1"],
        [2, 3],
        names=["y"],
    ),
    Case(
        "ledger-bindings-override-static-guess",
        ["code = 'x = 1'", "exec(code)", "y = x + 1"],
        [0, 1, 2],
        names=["y"],
        order=[0, 1, 2],
        ledger={1: {"defined": ["x"]}},
    ),
    Case(
        "function-called-through-another-name-mutates-its-argument",
        ["def fill(xs):\n    xs.append(1)", "f = fill", "data = []", "f(data)", "n = len(data)"],
        [0, 1, 2, 3, 4],
        names=["n"],
    ),
    Case(
        "observed-draw-from-a-global-generator-the-source-does-not-show",
        [
            "import numpy as np",
            "np.random.seed(0)",
            "ops = {'draw': np.random.rand}",
            "ops['draw']()",
            "b = np.random.rand()",
        ],
        [0, 1, 2, 3, 4],
        names=["b"],
        ledger={
            3: {
                "defined": [],
                "env": {"vars": [], "cwd": False, "options": [], "random": ["numpy.random"]},
            }
        },
    ),
    Case(
        "observed-seed-does-not-need-the-draws-before-it",
        ["import random", "a = random.random()", "random.seed(1)", "b = random.random()"],
        [0, 2, 3],
        names=["b"],
        ledger={
            i: {
                "defined": d,
                "env": {"vars": [], "cwd": False, "options": [], "random": ["random"]},
            }
            for i, d in ((1, ["a"]), (2, []), (3, ["b"]))
        },
    ),
    Case(
        "failed-cell-only-bound-what-ledger-saw",
        ["b = 5", "a = 1\nraise ValueError\nb = 2"],
        [0, 1],
        order=[0, 1],
        ledger={1: {"status": "error", "defined": ["a"]}},
    ),
    Case(
        "failed-cell-without-bindings-keeps-earlier-definers",
        ["b = 5", "a = 1\nraise ValueError\nb = 2"],
        [0, 1],
        order=[0, 1],
        ledger={1: {"status": "error"}},
    ),
    Case(
        "method-call-reads-class-globals-at-call-time",
        [
            "class C:\n    def bump(self):\n        self.n = step",
            "step = 1",
            "c = C()",
            "step = 2",
            "c.bump()",
            "step = 3",
        ],
        [0, 1, 2, 3, 4],
        names=["c"],
    ),
    Case(
        "working-directory-changes-precede-relative-reads",
        ["import os", "%cd /tmp", "x = 1", "os.chdir('sub')", "text = open('f.txt').read()"],
        [0, 1, 3, 4],
        names=["text"],
    ),
    Case(
        "sys-path-changes-precede-imports",
        ["import sys", "sys.path.append('src')", "x = 1", "import helpers"],
        [0, 1, 3],
        names=["helpers"],
    ),
    Case(
        "random-draws-inside-called-functions-count",
        [
            "import numpy as np",
            "np.random.seed(3)",
            "def draw():\n    return np.random.rand()",
            "a = draw()",
            "b = draw()",
        ],
        [0, 1, 2, 3, 4],
        names=["b"],
    ),
    Case(
        "next-advances-an-iterator",
        ["it = iter([1, 2, 3])", "a = next(it)", "b = next(it)"],
        [0, 1, 2],
        names=["b"],
    ),
    Case(
        "builtins-never-pull-in-dynamic-cells",
        ["exec(src)", "n = len([1])\nprint(n)"],
        [1],
        names=["n"],
    ),
    Case(
        "seeded-random-replays-earlier-draws",
        ["import numpy as np", "np.random.seed(0)", "a = np.random.rand()", "b = np.random.rand()"],
        [0, 1, 2, 3],
        names=["b"],
    ),
    Case("execution-counts-order", ["x = 2", "x = 1"], [0], counts=[2, 1]),
    Case("unrun-cells-ignored-with-counts", ["x = 2", "x = 1"], [1], counts=[None, 1]),
    Case("document-order-without-counts", ["x = 2", "x = 1", "y = x"], [1, 2]),
    Case(
        "maybe-definition-keeps-earlier-one",
        ["cond = False", "x = 0", "if cond:\n    x = 1"],
        [0, 1, 2],
    ),
    Case("live-name-not-replanned", ["a = 1", "b = a + 1"], [1], live=["a"], restorable=["b"]),
    Case(
        "live-name-changed-since-read-is-rebuilt",
        ["a = 1", "b = a + 1", "a = 5"],
        [0, 1, 2],
        live=["a"],
        restorable=["a", "b"],
    ),
    Case(
        "live-name-mutated-by-planned-cell-is-rebuilt",
        ["a = []", "b = len(a)\na.append(1)"],
        [0, 1],
        live=["a"],
        restorable=["a", "b"],
    ),
    Case(
        "module-calls-are-not-mutations",
        ["import numpy as np", "arr = np.zeros(3)", "np.save('x.npy', arr)"],
        [0, 1],
    ),
    Case(
        "inplace-mutation-included",
        [
            "import pandas as pd",
            "df = pd.DataFrame({'a': [1]})",
            "df.rename(columns={'a': 'b'}, inplace=True)",
            "df.describe()",
        ],
        [0, 1, 2],
    ),
    Case(
        "sklearn-fit-is-a-mutation",
        [
            "from sklearn.linear_model import LinearRegression",
            "X = [[0], [1]]\ny = [0, 1]",
            "model = LinearRegression()",
            "model.fit(X, y)",
            "model.score(X, y)",
        ],
        [0, 1, 2, 3],
        names=["model"],
    ),
    Case(
        "magic-wrapped-code-is-analysed",
        ["%time base = 2", "%%time\npower = base ** 8", "%timeit base ** 2"],
        [0, 1],
    ),
    Case("unknown-name-is-unrestorable", ["a = 1"], [], names=["ghost"], restorable=[]),
    Case(
        "loop-accumulation",
        ["total = 0", "for v in [1, 2, 3]:\n    total += v"],
        [0, 1],
        names=["total"],
    ),
    Case(
        # the instance shares its class's list: a change observed in the class is read with it
        "class-attribute-changed-then-read-through-an-instance",
        ["class T:\n    tags = []", "t = T()", "T.tags.append(1)", "print('x')", "n = len(t.tags)"],
        [0, 1, 2, 4],
        names=["n"],
    ),
    Case(
        "dict-view-sees-later-changes",
        ["d = {'a': 1}", "keys = d.keys()", "d['b'] = 2", "ks = sorted(keys)"],
        [0, 1, 2, 3],
        names=["ks"],
    ),
    Case(
        "helper-function-transitive-globals",
        ["k = 2", "def g(v):\n    return v * k", "def f(v):\n    return g(v) + 1", "r = f(1)"],
        [0, 1, 2, 3],
        names=["r"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_planner_case(case: Case) -> None:
    nb = notebook(case.cells, case.order, ledger=case.ledger, counts=case.counts)
    plan = plan_notebook(nb, case.names, live_names=case.live)
    assert [c.index for c in plan.cells] == list(case.expected)
    if case.restorable is not None:
        assert sorted(plan.names) == sorted(case.restorable)
    if case.names is not None and case.restorable is None:
        assert set(case.names) <= set(plan.names)


def test_names_lead_with_the_pipelines_products_and_say_what_kind_the_rest_are() -> None:
    cells = [
        "import math\nfrom statistics import mean\ndf = [1, 4]",
        "cleaned_df = [math.sqrt(x) for x in df]",
        "def fit(xs):\n    return mean(xs)",
        "model = fit(cleaned_df)",
        "predictions = [model * x for x in df]",
        "for row in df:\n    total = row",
    ]
    plan = plan_notebook(notebook(cells, [0, 1, 2, 3, 4, 5]))
    assert plan.names[:3] == ("predictions", "model", "cleaned_df")
    assert set(plan.names[3:5]) == {"df", "total"}  # data, then the rest by kind
    assert plan.kinds == {"fit": "function", "mean": "import", "math": "module", "row": "temporary"}
    assert plan.names[-4:] == ("fit", "mean", "math", "row")
    # with recorded durations the expensive chain leads: the training behind the model
    timed = notebook(cells, [0, 1, 2, 3, 4, 5], ledger={3: {"ms": 60_000}, 4: {"ms": 1}})
    assert plan_notebook(timed).names[:2] == ("predictions", "model")


def test_interpreter_dunders_from_an_older_ledger_are_not_restored() -> None:
    cells = ["text = open('data.txt').read()", "value = int(text)"]
    nb = notebook(
        cells, [0, 1], ledger={0: {"defined": ["__warningregistry__", "text"], "deleted": []}}
    )
    plan = plan_notebook(nb)
    assert "__warningregistry__" not in plan.names
    assert set(plan.names) == {"text", "value"}
