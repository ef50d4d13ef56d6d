"""Fidelity: run a notebook in a real kernel, plan, replay only the plan in a fresh kernel, and
compare every restored value (and which restored names share one object)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from jupyter_revive.dataflow import plan_notebook

from .kernels import Kernel, KernelPool, record


@dataclass(frozen=True)
class Fixture:
    id: str
    cells: Sequence[str]
    minimal: int  # executions a hand-made minimal plan needs
    order: Sequence[int] | None = None  # default: every cell once, in document order
    names: Sequence[str] | None = None
    ledger: bool = True  # record observed bindings; False tests static-only planning


PANDAS_PIPELINE = [
    "import numpy as np\nimport pandas as pd",
    "rng = np.random.default_rng(0)\n"
    "raw = pd.DataFrame({'x': rng.normal(size=200), 'y': rng.normal(size=200)})\n"
    "raw.loc[::17, 'x'] = np.nan",
    "raw.describe()",
    "cleaned_df = raw.dropna().copy()\ncleaned_df['z'] = cleaned_df.x * 2 + cleaned_df.y",
    "cleaned_df.head()",
    "from sklearn.linear_model import LinearRegression\nmodel = LinearRegression()",
    "model.fit(cleaned_df[['x', 'y']], cleaned_df.z)",
    "predictions = model.predict(cleaned_df[['x', 'y']])",
    "print(predictions[:5])",
]

SKLEARN_PIPELINE = [
    "from sklearn.datasets import make_classification\n"
    "from sklearn.model_selection import train_test_split\n"
    "from sklearn.preprocessing import StandardScaler\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "from sklearn.metrics import accuracy_score",
    "X, y = make_classification(n_samples=300, n_features=5, random_state=1)",
    "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=2)",
    "scaler = StandardScaler()\nX_train_s = scaler.fit_transform(X_train)",
    "X_test_s = scaler.transform(X_test)",
    "clf = LogisticRegression(C=0.5)\nclf.fit(X_train_s, y_train)",
    "acc = accuracy_score(y_test, clf.predict(X_test_s))\nacc",
    "print(clf.coef_)",
]

PANDAS_INPLACE = [
    "import pandas as pd",
    "df = pd.DataFrame({'a': [3, 1, 2], 'b': [1.5, 2.5, 3.5]})",
    "df.sort_values('a', inplace=True)",
    "df.reset_index(drop=True, inplace=True)",
    "df.insert(0, 'c', df.a * 10)",
    "df.pop('b')",
    "df.head()",
    "summary = df.describe()",
]

MUTATION = [
    "items = []",
    "items.append(1)",
    "items.extend([5, 3])",
    "print(items)",
    "items.sort(reverse=True)",
    "d = {}",
    "d['first'] = items[0]",
    "del d['first']\nd['b'] = 2",
]

# A library class patched in one cell changes what a later cell computes with an instance of it,
# though that cell names neither the class nor its module.
LIBRARY_CLASS_PATCHED = [
    "import pandas as pd\ndf = pd.DataFrame({'a': [1.0, 2.0, 3.0]})",
    "pd.DataFrame.mean = lambda self, *args, **kwargs: 42.0",
    "pd.DataFrame.total = lambda self: float(self.to_numpy().sum()) * 10",
    "m = df.mean()\nt = df.total()",
]

# The same patches where no source names the class: through an instance, and by a function of
# another module (as ``tqdm.pandas()`` adds ``DataFrame.progress_apply``). The tracker sees the
# class's dict change.
CLASS_PATCHED_THROUGH_AN_INSTANCE = [
    "import pandas as pd\ndf = pd.DataFrame({'a': [1.0, 2.0, 3.0]})",
    "type(df).mean = lambda self, *args, **kwargs: 42.0",
    "m = df.mean()",
]
CLASS_PATCHED_BY_A_MODULE = [
    "import pandas as pd\ndf = pd.DataFrame({'a': [1.0, 2.0, 3.0]})",
    "from pathlib import Path\n"
    "Path('patcher.py').write_text('import pandas\\n"
    "def install():\\n"
    "    pandas.core.generic.NDFrame.abs = lambda self: 42.0\\n')",
    "import patcher\npatcher.install()",
    "m = df.abs()",
]

OUT_OF_ORDER = ["a = b * 2", "b = 10", "b = b + 1", "c = a + b"]

RERUN = ["n = 0", "n += 1", "log = []", "log.append(n)"]

MAGICS = [
    "%time base = 3",
    "%%capture cap\nprint('hi')\npower = base ** 2",
    "%timeit -n1 -r1 base ** 2",
    "files = !echo a b",
    "%%time\nsquare = power * power",
]

FAILING = ["a = 1", "b = a + 1\nraise ValueError('boom')\nc = 3", "c = b * 10"]

DYNAMIC = [
    "names = ['u', 'v']",
    "for i, nm in enumerate(names):\n    globals()[nm] = i * 10 + 1",
    "w = u + v",
    "exec('t = w + 1')",
    "import sys\nsetattr(sys.modules[__name__], 'q', t * 2)",
]

ALIASING = [
    "a = [1, 2]",
    "b = a",
    "b.append(3)",
    "c = a[:]",
    "c.append(4)",
    "import numpy as np\narr = np.arange(6)",
    "view = arr[:3]",
    "view[0] = 100",
]

DISPLAY_ONLY = ["x = 5", "print(x)", "x", "display(x)", "repr(x)", "y = x + 1", "print(y)"]

OVERWRITTEN = ["x = 1", "x = 2", "y = x * 3", "x = 4"]

FUNCTIONS = [
    "scale = 2",
    "def f(v):\n    return v * scale",
    "def setup():\n    global cfg\n    cfg = {'k': f(3)}",
    "setup()",
    "scale = 5",
    "out = f(1)",
    "def add(lst, v):\n    lst.append(v)",
    "acc = []",
    "add(acc, out)",
]

SEEDED_RANDOM = [
    "import numpy as np",
    "np.random.seed(42)",
    "a = np.random.rand(3)",
    "b = np.random.rand(3)",
    "import random\nrandom.seed(1)\nr1 = random.random()",
    "r2 = random.random()",
]

DELETES = ["tmp = [1, 2]", "total = sum(tmp)", "del tmp", "tmp2 = total"]

CONDITIONAL = [
    "flag = True",
    "x = 0",
    "if flag:\n    x = 10",
    "try:\n    import not_a_module_xyz\nexcept ImportError as e:\n    fallback = True",
]

CLASSES = [
    "class Counter:\n    def __init__(self):\n        self.n = 0\n"
    "    def bump(self):\n        self.n += step",
    "step = 2",
    "ctr = Counter()",
    "ctr.bump()",
    "ctr.bump()",
    "step = 100",
]

CLASS_GLOBALS_CHANGE = [
    "class Account:\n    def __init__(self):\n        self.balance = 0\n"
    "    def deposit(self):\n        self.balance += rate * 100",
    "rate = 1",
    "acct = Account()",
    "rate = 2",
    "acct.deposit()",
    "rate = 5",
    "acct.deposit()",
    "rate = 0",
]

# Changes the source does not show, seen only by the tracker's fingerprints (in-place effects).
CLOSURE_COUNTER = [
    "def make():\n    n = 0\n    def bump():\n        nonlocal n\n        n += 1\n"
    "        return n\n    return bump",
    "ctr = make()",
    "ctr()",
    "ctr()",
    "value = ctr()",
]

MUTABLE_DEFAULT = [
    "def add(x, acc=[]):\n    acc.append(x)\n    return acc",
    "add(1)",
    "add(2)",
    "res = list(add(3))",
]

GLOBAL_APPEND = [
    "log = []",
    "def note(v):\n    log.append(v)",
    "note(1)",
    "note(2)",
    "n = len(log)",
]

CALL_THROUGH_ALIAS = [
    "def fill(xs):\n    xs.extend([1, 2])",
    "f = fill",
    "data = []",
    "f(data)",
    "n = len(data)",
]

# pandas 3 keeps strings (and datetimes, categoricals) in arrays whose values live in C fields.
STRING_COLUMN_THROUGH_ALIAS = [
    "import pandas as pd",
    "df = pd.DataFrame({'name': ['a', 'b', 'c'], 'n': [1.0, 2.0, 3.0]})",
    "def tidy(frame):\n    frame.loc[frame.n > 1, 'name'] = 'big'",
    "clean = tidy",
    "clean(df)",
    "labels = list(df.name)",
]

# A seeded generator's state lives in C: a draw through a function called by another name.
GENERATOR_THROUGH_ALIAS = [
    "import numpy as np",
    "rng = np.random.default_rng(0)",
    "def draw(g):\n    return g.normal()",
    "d = draw",
    "a = d(rng)",
    "b = float(rng.normal())",
]

RANDOM_THROUGH_ALIAS = [
    "import random",
    "gen = random.Random(0)",
    "def draw(g):\n    return g.random()",
    "d = draw",
    "a = d(gen)",
    "b = gen.random()",
]

PLOT_AXES = [
    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt",
    "fig, ax = plt.subplots()",
    "ax.set_title('Sales')",
    "ax.set_xlabel('month')",
    "ax.plot([1, 2], [3, 4], label='a')\nax.legend()",
    "labels = (ax.get_title(), ax.get_xlabel(), len(ax.get_legend().get_texts()))",
]

MEMO_CACHE = [
    "import functools",
    "@functools.lru_cache(None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)",
    "fib(20)",
    "size = fib.cache_info().currsize",
]

REGISTRY = [
    "REG = {}",
    "def register(f):\n    REG[f.__name__] = f\n    return f",
    "@register\ndef first():\n    return 1",
    "@register\ndef second():\n    return 2",
    "keys = sorted(REG)",
]

DATACLASS_SHARED = [
    "import copy\nfrom dataclasses import dataclass, field",
    "@dataclass\nclass Cfg:\n    tags: list = field(default_factory=list)",
    "a = Cfg()",
    "b = copy.copy(a)",
    "b.tags.append('x')",
    "seen = list(a.tags)",
]

NUMPY_OUT = [
    "import numpy as np",
    "a = np.zeros(3)\nb = np.arange(3.0)",
    "np.add(a, b, out=a)",
    "np.multiply(a, 2, out=a)",
    "s = float(a.sum())",
]

# Statically suspected mutators (method calls as statements) that changed nothing.
READ_ONLY_CALLS = [
    "import pandas as pd",
    "df = pd.DataFrame({'a': [1, 2, 3]})",
    "df.head()",
    "df.describe()",
    "total = int(df.a.sum())",
]

# Files and process state: seen by the tracker's wrapped file functions and option snapshots.
FILE_ROUND_TRIP = [
    "with open('out.txt', 'w') as f:\n    f.write('41')",
    "value = int(open('out.txt').read()) + 1",
    "import os\nos.remove('out.txt')",
]

FILE_CHANGED_AFTER_READ = [
    "with open('cfg.txt', 'w') as f:\n    f.write('a')",
    "first = open('cfg.txt').read()",
    "with open('cfg.txt', 'w') as f:\n    f.write('b')",
    "second = open('cfg.txt').read()",
]

RELATIVE_PATH_AFTER_CHDIR = [
    "import os\nos.makedirs('d1', exist_ok=True)\nos.makedirs('d2', exist_ok=True)",
    "for d, text in (('d1', 'one'), ('d2', 'two')):\n"
    "    with open(os.path.join(d, 'x.txt'), 'w') as f:\n        f.write(text)",
    "os.chdir('d2')",
    "val = open('x.txt').read()",
    "os.chdir('..')\nos.remove('d2/x.txt')",
]

ENV_READ_BY_A_FUNCTION = [
    "import os",
    "os.environ['REVIVE_SCALE'] = '3'",
    "def scaled(x):\n    return x * int(os.environ.get('REVIVE_SCALE', '1'))",
    "y = scaled(2)",
]

PANDAS_OPTION = [
    "import pandas as pd",
    "pd.set_option('display.precision', 2)",
    "text = pd.DataFrame({'a': [1.23456]}).to_string()",
]

# An object freed during a cell can leave its successor at its own address: a loop that rebinds
# a name twice, a counter in a dict bumped twice. Identity alone would call them unchanged.
ADDRESS_REUSED = [
    "acc = 10**30\ncounts = {'a': 10**30}\ntotal = 0.5\nitems = [10**30, 10**30 + 1]",
    "for _ in range(2):\n    acc += 1",
    "for _ in range(2):\n    counts['a'] += 1",
    "for x in (1.0, 2.0):\n    total += x",
    "for _ in range(1):\n    items.pop()\n    items.append(items[0] + 7)",
]

# Process state a later cell computes with, changed where the source does not show it: seen by
# the tracker's settings and generator reads.
GLOBAL_GENERATORS_BY_A_HELPER = [
    "import numpy as np, random",
    "np.random.seed(0)\nrandom.seed(3)",
    "def draw():\n    return np.random.rand() + random.random()",
    "ops = {'draw': draw}",
    "ops['draw']()",
    "b = np.random.rand()\nr = random.random()",
]

# numpy's legacy normals come in pairs: the second draw takes the cached one, and the next draw
# depends on it having been taken.
CACHED_NORMAL = [
    "import numpy as np",
    "np.random.seed(1)",
    "a = np.random.randn()",
    "ops = [getattr(np.random, 'rand' + 'n')]",
    "ops[0]()",
    "b = np.random.randn()",
]

DECIMAL_BY_A_HELPER = [
    "from decimal import Decimal, getcontext",
    "def setp(n):\n    getcontext().prec = n",
    "ops = {'p': setp}",
    "ops['p'](5)",
    "d = str(Decimal(1) / Decimal(3))",
]

NUMPY_PRINT_OPTIONS = [
    "import numpy as np",
    "np.set_printoptions(precision=2)",
    "text = str(np.array([1.234567]))",
]

SKLEARN_CONFIG = [
    "from sklearn import set_config\nfrom sklearn.preprocessing import StandardScaler\n"
    "import numpy as np",
    "set_config(transform_output='pandas')",
    "kind = type(StandardScaler().fit_transform(np.ones((3, 2)))).__name__",
]

WARNINGS_AS_ERRORS = [
    "import warnings",
    "warnings.simplefilter('error')",
    "try:\n    warnings.warn('x')\n    res = 'warned'\nexcept UserWarning:\n    res = 'raised'",
]

# Modules and library objects are not walked, so the tracker never calls them unchanged: the
# static reading of an assignment to their attributes stands.
RCPARAMS = [
    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt",
    "plt.rcParams['lines.linewidth'] = 3",
    "lw = float(plt.rcParams['lines.linewidth'])",
]

MODULE_ATTRIBUTE_PATCHED = ["import json", "json.revive_limit = 0.7", "t = json.revive_limit * 2"]

# A view made by a function, written through a function reached through a container: the array
# it views changed too.
HIDDEN_VIEW = [
    "import numpy as np",
    "a = np.zeros(5)",
    "def view(x):\n    return x[1:3]",
    "v = view(a)",
    "ops = [np.copyto]",
    "ops[0](v, 7.0)",
    "s = float(a.sum())",
]

# Notebook functions run through a dispatch table or a bound method change the globals they
# reach: the tracker follows them there.
DISPATCH_TABLE = [
    "import numpy as np",
    "arr = np.zeros(3)",
    "ops = {'mark': lambda: arr.__setitem__(0, 1.0)}",
    "ops['mark']()",
    "s = float(arr.sum())",
]

BOUND_METHOD = [
    "LOG = []",
    "class Acc:\n    def add(self, v):\n        LOG.append(v)",
    "h = Acc().add",
    "h(1)",
    "n = len(LOG)",
]

# Iterators advanced, a configuration changed deep down, through a function the source reaches
# through a container: seen by the tracker alone.
ITERATOR_THROUGH_A_CONTAINER = [
    "it = iter(range(10))\ncount = __import__('itertools').count()",
    "def adv(x):\n    next(x)",
    "ops = {'adv': adv}",
    "ops['adv'](it)\nops['adv'](count)",
    "b = next(it)\nc = next(count)",
]

DEEP_CONFIG_THROUGH_A_CONTAINER = [
    "cfg = {'a': {'b': {'c': {'d': {'e': []}}}}}",
    "def poke(c):\n    c['a']['b']['c']['d']['e'].append(1)",
    "ops = [poke]",
    "ops[0](cfg)",
    "n = len(cfg['a']['b']['c']['d']['e'])",
]

# Objects the tracker cannot fingerprint whole (C state, deeper than it walks, larger than it
# reads), changed by a notebook function called by another name: the call resolves statically.
ITERATOR_THROUGH_ALIAS = [
    "it = iter(range(10))",
    "def adv(x):\n    next(x)",
    "g = adv",
    "g(it)",
    "b = next(it)",
]

DEEP_CONFIG_THROUGH_ALIAS = [
    "cfg = {'a': {'b': {'c': {'d': {'e': []}}}}}",
    "def poke():\n    cfg['a']['b']['c']['d']['e'].append(1)",
    "p = poke",
    "p()",
    "n = len(cfg['a']['b']['c']['d']['e'])",
]

LARGE_LIST_THROUGH_ALIAS = [
    "big = list(range(300_000))",
    "def poke(x):\n    x[123_457] = -1",
    "p = poke",
    "p(big)",
    "v = big[123_457]",
]

# In-memory files written by library code they are handed: the write is a C field.
TEXT_TO_MEMORY_FILE = [
    "import io",
    "buf = io.StringIO()",
    "print('hello', file=buf)",
    "text = buf.getvalue()",
]
ARRAY_TO_MEMORY_FILE = [
    "import io\nimport numpy as np",
    "b = io.BytesIO()",
    "np.save(b, np.arange(3))",
    "size = len(b.getvalue())",
]
FRAME_TO_MEMORY_FILE = [
    "import io\nimport pandas as pd",
    "sio = io.StringIO()",
    "pd.DataFrame({'a': [1, 2]}).to_csv(sio)",
    "n = len(sio.getvalue())",
]

# Code that runs later than the cell that set it up, in a cell that never names what it changes.
LAZY_MAP = [
    "seen = {}",
    "marks = map(lambda k: seen.setdefault(k, len(seen)), 'abcab')",
    "out = list(marks)",
    "n = len(seen)",
]
LAZY_FILTER = [
    "hits = []",
    "def keep(x):\n    hits.append(x)\n    return x % 2",
    "it = filter(keep, range(6))",
    "odd = list(it)",
    "m = len(hits)",
]
GENERATOR_CHANGES_A_GLOBAL = [
    "log = []",
    "def gen():\n    for i in range(3):\n        log.append(i)\n        yield i",
    "g = gen()",
    "first = next(g)",
    "k = len(log)",
]
DEFAULTDICT_FACTORY = [
    "import itertools, collections",
    "ids = itertools.count()",
    "table = collections.defaultdict(lambda: next(ids))",
    "a = table['x']\nb = table['y']",
    "nxt = next(ids)",
]

# Modules the notebook writes and imports: the import system reads the file in C.
MODULE_WRITTEN_THEN_REWRITTEN = [
    "%%writefile helper_a.py\nX = 1",
    "import helper_a\na = helper_a.X",
    "%%writefile helper_a.py\nX = 2",
]
MODULE_RELOADED = [
    "with open('helper_b.py', 'w') as f:\n    f.write('X = 1')",
    "import helper_b\na = helper_b.X",
    "with open('helper_b.py', 'w') as f:\n    f.write('X = 2')",
    "import importlib\nhelper_b = importlib.reload(helper_b)\nb = helper_b.X",
]

# Registration in a library, and modules put where imports find them (failed loudly before).
ACCESSOR_REGISTERED = [
    "import pandas as pd",
    "@pd.api.extensions.register_series_accessor('geo')\nclass Geo:\n"
    "    def __init__(self, s):\n        self._s = s\n"
    "    def twice(self):\n        return (self._s * 2).tolist()",
    "s = pd.Series([1, 2])",
    "r = s.geo.twice()",
]
MODULE_IN_SYS_MODULES = [
    "import sys, types",
    "sys.modules['cfg_mod'] = types.SimpleNamespace(x=7)",
    "import cfg_mod\nv = cfg_mod.x",
]

# State of a module from the notebook's files, changed by its own functions.
USER_MODULE = (
    "%%writefile util_state.py\nSTATE = []\nCFG = {'lr': 0.1}\n"
    "def add(x):\n    STATE.append(x)\ndef set_lr(v):\n    CFG['lr'] = v"
)
USER_MODULE_STATE = [
    USER_MODULE,
    "import util_state",
    "util_state.add(1)",
    "util_state.set_lr(0.5)",
    "n = len(util_state.STATE)",
    "lr = util_state.CFG['lr']",
]
USER_MODULE_IMPORTED_BY_NAME = [
    USER_MODULE.replace("util_state", "util_names"),
    "from util_names import STATE, add",
    "add(2)",
    "m = list(STATE)",
]
ARRAY_MADE_READ_ONLY = [
    "import numpy as np",
    "a = np.zeros(3)",
    "def freeze(x):\n    x.flags.writeable = False",
    "fz = freeze",
    "fz(a)",
    "w = bool(a.flags.writeable)",
]

DEQUE_ROTATED_THROUGH_A_BUILTIN_METHOD = [
    "import collections",
    "dq = collections.deque([1, 2, 3])",
    "rot = dq.rotate",
    "rot(1)",
    "head = dq[0]",
]

DICT_VIEW = ["d = {'a': 1}", "keys = d.keys()", "d['b'] = 2", "ks = sorted(keys)"]
CLASS_LIST_SHARED_BY_INSTANCES = [
    "class T:\n    tags = []\n    def add(self, t):\n        self.tags.append(t)",
    "t1 = T()",
    "t2 = T()",
    "ad = t1.add",
    "ad('x')",
    "n = len(t2.tags)",
]

BASE_CLASS_LIST_SHARED = [
    "class Base:\n    seen = []",
    "class Sub(Base):\n    def note(self, x):\n        self.seen.append(x)",
    "s1 = Sub()",
    "nt = s1.note",
    "nt(1)",
    "n = len(Base.seen)",
]

# Written through a handle kept open across cells: only opening it calls a wrapped function.
HANDLE_WRITTEN_LATER = [
    "f = open('handle.txt', 'w')",
    "f.write('a\\n')",
    "f.write('b\\n')\nf.flush()",
    "f.close()",
    "txt = open('handle.txt').read()",
]
HANDLE_WRITTEN_BY_A_FUNCTION = [
    "log = open('notes.txt', 'w')",
    "def note(m):\n    log.write(m + '\\n')\n    log.flush()",
    "note('x')",
    "note('y')",
    "lines = open('notes.txt').read().split()",
]
BINARY_HANDLE = [
    "bf = open('blob.bin', 'wb')",
    "bf.write(b'xyz')",
    "bf.close()",
    "data = open('blob.bin', 'rb').read()",
]
CSV_WRITER_ON_A_HANDLE = [
    "import csv",
    "fh = open('rows.csv', 'w', newline='')\nw = csv.writer(fh)",
    "w.writerow([1, 2])",
    "fh.close()",
    "rows = list(csv.reader(open('rows.csv')))",
]
FRAME_TO_A_HANDLE = [
    "import pandas as pd",
    "out = open('frame.csv', 'w')",
    "pd.DataFrame({'a': [1, 2]}).to_csv(out)\nout.close()",
    "back = pd.read_csv('frame.csv')",
]
# logging's FileHandler opens its file with the ``open`` it captured at import: the handle is
# found by the fingerprint walk, through the logger's handlers.
LOGGING_FILE_HANDLER = [
    "import logging",
    "lg = logging.getLogger('revive.fidelity')\nh = logging.FileHandler('run.log', mode='w')\n"
    "lg.addHandler(h)\nlg.setLevel(logging.INFO)",
    "lg.info('hello')",
    "txt = open('run.log').read()",
]
MEMMAP_WRITTEN = [
    "import numpy as np",
    "mm = np.memmap('mapped.dat', dtype='float64', mode='w+', shape=(4,))",
    "mm[:] = 3.0",
    "mm.flush()",
    "b = np.fromfile('mapped.dat')",
]
# Iterated in hash order: the provisioner gives every kernel of a notebook the same seed.
SET_OF_STRINGS = [
    "words = {'alpha', 'beta', 'gamma', 'delta', 'epsilon'}",
    "order = list(words)\nfirst = next(iter({'x': 1, 'y': 2}.keys() | {'z'}))",
]
# matplotlib settings changed through code the source does not show as a change (the first
# cell puts back the defaults: the recording kernel is shared with other notebooks).
PYPLOT = (
    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nplt.rcdefaults()"
)
FACE = "fig, ax = plt.subplots()\nface = tuple(ax.get_facecolor())\nplt.close(fig)"
STYLE_USED = [PYPLOT, "plt.style.use('ggplot')", FACE]
RC_SET_THROUGH_AN_ALIAS = [PYPLOT, "setrc = matplotlib.rc", "setrc('axes', facecolor='0.5')", FACE]
RC_CONTEXT_PUT_BACK = [PYPLOT, "with plt.rc_context({'axes.facecolor': '0.2'}):\n    pass", FACE]
# Advanced through a slot wrapper bound to it (``it.__next__``), a call no source line shows.
ITERATOR_ADVANCED_THROUGH_A_WRAPPER = [
    "it = iter([10, 20, 30])",
    "nx = it.__next__",
    "nx()",
    "v = next(it)",
]
# A list two levels into a config, grown through a bound method a partial holds.
NESTED_LIST_GROWN_THROUGH_A_PARTIAL = [
    "import functools",
    "cfg = {'model': {'layers': [1]}}",
    "add = functools.partial(cfg['model']['layers'].append, 2)",
    "add()",
    "n = len(cfg['model']['layers'])",
]
# A listing sees the files the notebook wrote: their writers run before it.
GLOB_AFTER_WRITES = [
    "import glob, os\nos.makedirs('parts', exist_ok=True)",
    "open('parts/a.csv', 'w').write('1')",
    "found = sorted(glob.glob('parts/*.csv'))",
    "os.remove('parts/a.csv')",
]
# The C library's locale, set through another name for ``setlocale`` (a call the source shows as
# no change), to whichever of two locales it is not in.
LOCALE_SET_THROUGH_AN_ALIAS = [
    "import locale\nset_ctype = locale.setlocale",
    "target = 'C' if locale.setlocale(locale.LC_CTYPE) != 'C' else 'C.UTF-8'",
    "set_ctype(locale.LC_CTYPE, target)",
    "current = locale.setlocale(locale.LC_ALL)",
]
# A database that C code writes at a path the notebook computes: the OS reports the file
# (``fsevents``), so the cell that reads it depends on the one that filled it.
SQLITE_AT_A_COMPUTED_PATH = [
    "import os, sqlite3\nfolder = 'out'\ntarget = os.path.join(folder, 'totals' + '.sqlite')",
    "os.makedirs(folder, exist_ok=True)\ncon = sqlite3.connect(target)\n"
    "con.execute('create table t (x)')\ncon.executemany('insert into t values (?)', [(1,), (2,)])\n"
    "con.commit()\ncon.close()",
    "con = sqlite3.connect(target)\ntotal = con.execute('select sum(x) from t').fetchone()[0]\n"
    "con.close()",
    "os.remove(target)",
]
# A program the cell runs writes the file; a later cell reads it and another one removes it.
PROGRAM_WRITES_A_FILE = [
    "import subprocess, sys",
    'subprocess.run([sys.executable, \'-c\', \'open("made.txt", "w").write("7")\'], check=True)',
    "made = int(open('made.txt').read())",
    "import os\nos.remove('made.txt')",
]

# A program writes in a folder the cell changed to and back from, which no watch was ever on; the
# file is read where the source names no path (no working directory read either).
PROGRAM_WRITES_IN_A_FOLDER_CHANGED_TO = [
    "import os, subprocess, sys\nfrom pathlib import Path\nhome = os.getcwd()\n"
    "work = os.path.join(os.path.dirname(home), 'elsewhere-' + os.path.basename(home))\n"
    "os.makedirs(work, exist_ok=True)",
    "os.chdir(work)\n"
    'subprocess.run([sys.executable, \'-c\', \'open("made.txt", "w").write("7")\'], check=True)\n'
    "os.chdir(home)",
    "made = int(Path(work, 'made.txt').read_text())",
    "os.remove(os.path.join(work, 'made.txt'))",
]

FIXTURES = [
    Fixture("pandas-pipeline", PANDAS_PIPELINE, minimal=6),
    Fixture("pandas-pipeline-predictions-only", PANDAS_PIPELINE, minimal=6, names=["predictions"]),
    Fixture("sklearn-pipeline", SKLEARN_PIPELINE, minimal=7),
    Fixture("sklearn-pipeline-static-only", SKLEARN_PIPELINE, minimal=7, ledger=False),
    Fixture("pandas-inplace", PANDAS_INPLACE, minimal=7),
    Fixture("mutation", MUTATION, minimal=7),
    Fixture("out-of-order", OUT_OF_ORDER, minimal=4, order=[1, 0, 2, 3]),
    Fixture("rerun-cells", RERUN, minimal=7, order=[0, 1, 2, 3, 1, 3, 1]),
    Fixture("n-plus-one-twice", RERUN[:2], minimal=3, order=[0, 1, 1]),
    Fixture("magics", MAGICS, minimal=4),
    Fixture("failing-cell", FAILING, minimal=3),
    Fixture("failing-cell-static-only", FAILING, minimal=3, ledger=False),
    Fixture("dynamic-definitions", DYNAMIC, minimal=5),
    Fixture("dynamic-definitions-static-only", DYNAMIC, minimal=5, ledger=False),
    Fixture("aliasing", ALIASING, minimal=8),
    Fixture("aliasing-list-only", ALIASING, minimal=3, names=["a"]),
    Fixture("aliasing-array-only", ALIASING, minimal=3, names=["arr"]),
    Fixture("display-only-cells", DISPLAY_ONLY, minimal=2),
    Fixture("overwritten-definitions", OVERWRITTEN, minimal=3),
    Fixture("functions-and-globals", FUNCTIONS, minimal=9),
    Fixture("seeded-random", SEEDED_RANDOM, minimal=6, names=["b", "r2"]),
    Fixture("deleted-names", DELETES, minimal=3),
    Fixture("conditional-static-only", CONDITIONAL, minimal=3, ledger=False),
    Fixture("conditional-with-ledger", CONDITIONAL, minimal=3),
    Fixture("class-instances", CLASSES, minimal=6),
    Fixture(
        "class-methods-read-globals-when-called", CLASS_GLOBALS_CHANGE, minimal=7, names=["acct"]
    ),
    Fixture("closure-counter", CLOSURE_COUNTER, minimal=5, names=["value", "ctr"]),
    Fixture("mutable-default", MUTABLE_DEFAULT, minimal=4, names=["res", "add"]),
    Fixture("function-appends-to-global", GLOBAL_APPEND, minimal=5),
    Fixture("called-through-another-name", CALL_THROUGH_ALIAS, minimal=5, names=["n", "data"]),
    Fixture(
        "string-column-changed-through-an-alias",
        STRING_COLUMN_THROUGH_ALIAS,
        minimal=6,
        names=["labels"],
    ),
    Fixture("seeded-generator-drawn-through-an-alias", GENERATOR_THROUGH_ALIAS, 6, names=["b"]),
    Fixture("random-instance-drawn-through-an-alias", RANDOM_THROUGH_ALIAS, 6, names=["b"]),
    Fixture("plot-axes-configured-call-by-call", PLOT_AXES, minimal=6, names=["labels"]),
    Fixture("memoizing-cache", MEMO_CACHE, minimal=4, names=["size"]),
    Fixture("decorator-registry", REGISTRY, minimal=5, names=["keys"]),
    Fixture("dataclass-copy-shares-a-field", DATACLASS_SHARED, minimal=6, names=["seen"]),
    Fixture("numpy-ufunc-out", NUMPY_OUT, minimal=5, names=["s"]),
    Fixture("read-only-method-calls", READ_ONLY_CALLS, minimal=3, names=["total"]),
    Fixture("file-written-then-read-then-removed", FILE_ROUND_TRIP, minimal=2, names=["value"]),
    Fixture("file-changed-after-it-was-read", FILE_CHANGED_AFTER_READ, minimal=4),
    Fixture("relative-path-after-chdir", RELATIVE_PATH_AFTER_CHDIR, minimal=4, names=["val", "os"]),
    Fixture("environment-read-by-a-function", ENV_READ_BY_A_FUNCTION, minimal=4, names=["y"]),
    Fixture("pandas-display-option", PANDAS_OPTION, minimal=3, names=["text"]),
    Fixture("address-reused-within-a-cell", ADDRESS_REUSED, minimal=5),
    Fixture(
        "global-generators-drawn-by-a-helper", GLOBAL_GENERATORS_BY_A_HELPER, 6, names=["b", "r"]
    ),
    Fixture("legacy-normal-cached-by-the-draw-before", CACHED_NORMAL, 6, names=["b"]),
    Fixture("decimal-precision-set-by-a-helper", DECIMAL_BY_A_HELPER, 5, names=["d"]),
    Fixture("numpy-print-options", NUMPY_PRINT_OPTIONS, minimal=3, names=["text"]),
    Fixture("warnings-turned-into-errors", WARNINGS_AS_ERRORS, minimal=3, names=["res"]),
    Fixture("sklearn-output-configured", SKLEARN_CONFIG, minimal=3, names=["kind"]),
    Fixture("iterator-advanced-through-an-alias", ITERATOR_THROUGH_ALIAS, 5, names=["b"]),
    Fixture("deep-config-changed-through-an-alias", DEEP_CONFIG_THROUGH_ALIAS, 5, names=["n"]),
    Fixture("large-list-changed-through-an-alias", LARGE_LIST_THROUGH_ALIAS, 5, names=["v"]),
    Fixture("rcparams-set-then-read", RCPARAMS, minimal=3, names=["lw"]),
    Fixture("module-attribute-patched", MODULE_ATTRIBUTE_PATCHED, minimal=3, names=["t"]),
    Fixture(
        "iterators-advanced-through-a-container", ITERATOR_THROUGH_A_CONTAINER, 5, names=["b", "c"]
    ),
    Fixture("array-changed-through-a-hidden-view", HIDDEN_VIEW, minimal=7, names=["s"]),
    Fixture("global-changed-through-a-dispatch-table", DISPATCH_TABLE, minimal=5, names=["s"]),
    Fixture("global-changed-through-a-bound-method", BOUND_METHOD, minimal=5, names=["n"]),
    Fixture(
        "deep-config-changed-through-a-container", DEEP_CONFIG_THROUGH_A_CONTAINER, 5, names=["n"]
    ),
    Fixture("text-printed-to-an-in-memory-file", TEXT_TO_MEMORY_FILE, 4, names=["text"]),
    Fixture("array-saved-to-an-in-memory-file", ARRAY_TO_MEMORY_FILE, 4, names=["size"]),
    Fixture("frame-written-to-an-in-memory-file", FRAME_TO_MEMORY_FILE, 4, names=["n"]),
    Fixture("lazy-map-changes-a-global-when-consumed", LAZY_MAP, minimal=4, names=["n"]),
    Fixture("lazy-filter-changes-a-global-when-consumed", LAZY_FILTER, minimal=5, names=["m"]),
    Fixture("generator-changes-a-global-when-advanced", GENERATOR_CHANGES_A_GLOBAL, 5, names=["k"]),
    Fixture("defaultdict-factory-advances-a-counter", DEFAULTDICT_FACTORY, 5, names=["nxt"]),
    Fixture("module-written-imported-rewritten", MODULE_WRITTEN_THEN_REWRITTEN, 2, names=["a"]),
    Fixture("module-rewritten-and-reloaded", MODULE_RELOADED, minimal=4, names=["a", "b"]),
    Fixture("accessor-registered-by-a-decorator", ACCESSOR_REGISTERED, 4, names=["r"]),
    Fixture("module-put-in-sys-modules", MODULE_IN_SYS_MODULES, minimal=3, names=["v"]),
    Fixture("state-of-a-module-from-the-notebooks-files", USER_MODULE_STATE, 6, names=["n", "lr"]),
    Fixture("module-functions-imported-by-name", USER_MODULE_IMPORTED_BY_NAME, 4, names=["m"]),
    Fixture("array-made-read-only-through-an-alias", ARRAY_MADE_READ_ONLY, 6, names=["w"]),
    Fixture(
        "deque-rotated-through-a-builtin-method",
        DEQUE_ROTATED_THROUGH_A_BUILTIN_METHOD,
        minimal=5,
        names=["head"],
    ),
    Fixture("dict-view-sees-a-later-change", DICT_VIEW, minimal=4, names=["ks"]),
    Fixture("class-list-shared-by-instances", CLASS_LIST_SHARED_BY_INSTANCES, 6, names=["n"]),
    Fixture("base-class-list-shared-by-a-subclass", BASE_CLASS_LIST_SHARED, 6, names=["n"]),
    Fixture("file-written-through-a-handle-later", HANDLE_WRITTEN_LATER, 5, names=["txt"]),
    Fixture("handle-written-by-a-function", HANDLE_WRITTEN_BY_A_FUNCTION, 5, names=["lines"]),
    Fixture("binary-handle-written-later", BINARY_HANDLE, minimal=4, names=["data"]),
    Fixture("csv-writer-on-an-open-handle", CSV_WRITER_ON_A_HANDLE, 5, names=["rows"]),
    Fixture("frame-written-to-an-open-handle", FRAME_TO_A_HANDLE, minimal=4, names=["back"]),
    Fixture("logging-file-handler", LOGGING_FILE_HANDLER, minimal=4, names=["txt"]),
    Fixture("memory-map-written", MEMMAP_WRITTEN, minimal=4, names=["b"]),
    Fixture("glob-sees-files-removed-since", GLOB_AFTER_WRITES, minimal=3, names=["found"]),
    Fixture("set-of-strings-iterated", SET_OF_STRINGS, minimal=2, names=["order", "first"]),
    Fixture(
        "iterator-advanced-through-a-slot-wrapper",
        ITERATOR_ADVANCED_THROUGH_A_WRAPPER,
        minimal=4,
        names=["v"],
    ),
    Fixture(
        "nested-list-grown-through-a-partial",
        NESTED_LIST_GROWN_THROUGH_A_PARTIAL,
        minimal=5,
        names=["n"],
    ),
    Fixture("plot-style-used", STYLE_USED, minimal=3, names=["face"]),
    Fixture("rc-set-through-an-alias", RC_SET_THROUGH_AN_ALIAS, minimal=4, names=["face"]),
    Fixture("rc-context-puts-settings-back", RC_CONTEXT_PUT_BACK, minimal=2, names=["face"]),
    Fixture(
        "locale-set-through-an-alias", LOCALE_SET_THROUGH_AN_ALIAS, minimal=4, names=["current"]
    ),
    Fixture("library-class-patched", LIBRARY_CLASS_PATCHED, minimal=4, names=["m", "t"]),
    Fixture(
        "class-patched-through-an-instance",
        CLASS_PATCHED_THROUGH_AN_INSTANCE,
        minimal=3,
        names=["m"],
    ),
    Fixture("class-patched-by-a-module", CLASS_PATCHED_BY_A_MODULE, minimal=4, names=["m"]),
    Fixture("sqlite-at-a-computed-path", SQLITE_AT_A_COMPUTED_PATH, minimal=3, names=["total"]),
    Fixture("program-writes-a-file", PROGRAM_WRITES_A_FILE, minimal=3, names=["made"]),
    Fixture(
        "program-writes-in-a-folder-changed-to",
        PROGRAM_WRITES_IN_A_FOLDER_CHANGED_TO,
        minimal=3,
        names=["made"],
    ),
]


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelPool]:
    kernels = KernelPool(str(tmp_path_factory.mktemp("kernels")))
    yield kernels
    kernels.close()


@pytest.fixture
def recorder(pool: KernelPool) -> Iterator[Kernel]:
    """A fresh kernel per recording: one kernel process, one context, as a user's session."""
    kernel = pool.fresh()
    yield kernel
    kernel.shutdown()


# Recorded notebooks by fixture id: the overhead test reuses what the fidelity tests recorded
# and records the rest itself, so its verdict never depends on which tests ran before it.
RECORDED: dict[str, nbformat.NotebookNode] = {}


def _record(fx: Fixture, kernel: Kernel, workdir: Path) -> nbformat.NotebookNode:
    order = fx.order if fx.order is not None else range(len(fx.cells))
    nb, _ = record(kernel, fx.cells, order, ledger=fx.ledger, workdir=str(workdir))
    RECORDED[fx.id] = nb
    return nb


@pytest.mark.parametrize("fx", FIXTURES, ids=[f.id for f in FIXTURES])
def test_replaying_the_plan_restores_identical_values(
    fx: Fixture, recorder: Kernel, pool: KernelPool, tmp_path: Path
) -> None:
    """Replayed where the recording ran: files it left behind are there, as after a restart."""
    nb = _record(fx, recorder, tmp_path)
    plan = plan_notebook(nb, fx.names)
    assert plan.names, "nothing to restore"
    assert not plan.unrestorable
    expected = recorder.fingerprint(plan.names)

    replay = pool.fresh()
    try:
        replay.chdir(str(tmp_path))
        for cell in plan.cells:
            replay.run(nb.cells[cell.index].source)
        restored = replay.fingerprint(plan.names)
    finally:
        replay.shutdown()

    for name in plan.names:
        assert restored["values"][name] == expected["values"][name], name
    assert restored["shared"] == expected["shared"]
    assert len(plan.cells) >= fx.minimal


def test_plans_add_few_cells_beyond_the_minimum(
    pool: KernelPool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    extra: dict[str, int] = {}
    for fx in FIXTURES:
        nb = RECORDED.get(fx.id)
        if nb is None:
            kernel = pool.fresh()
            try:
                nb = _record(fx, kernel, tmp_path_factory.mktemp(fx.id))
            finally:
                kernel.shutdown()
        extra[fx.id] = len(plan_notebook(nb, fx.names).cells) - fx.minimal
    lines = [f"  {name:40} +{n}" for name, n in extra.items() if n]
    print(f"\nplan overhead: {sum(extra.values())} extra cells over {len(extra)} notebooks")
    print("\n".join(lines))
    assert sum(extra.values()) <= 3


# (id, cells, order, names the kernel lost). In "aliasing" the lost names share objects with
# live ones their cells mutate, so those are rebuilt too rather than mutated twice.
PARTIAL_LOSSES = [
    ("pandas-pipeline", PANDAS_PIPELINE, None, ["model", "predictions"], True),
    ("mutation", MUTATION, None, ["d"], True),
    ("rerun-cells", RERUN, [0, 1, 2, 3, 1, 3, 1], ["n"], True),
    ("aliasing", ALIASING, None, ["b", "view"], False),
    ("functions-and-globals", FUNCTIONS, None, ["cfg", "acc"], True),
]


@pytest.mark.parametrize(
    ("cells", "order", "lost", "fewer"),
    [case[1:] for case in PARTIAL_LOSSES],
    ids=[case[0] for case in PARTIAL_LOSSES],
)
def test_restoring_into_a_kernel_that_kept_some_names(
    cells: Sequence[str],
    order: Sequence[int] | None,
    lost: list[str],
    fewer: bool,
    recorder: Kernel,
    tmp_path: Path,
) -> None:
    """Names the kernel still holds are not rebuilt, and end with their recorded values."""
    nb, _ = record(
        recorder, cells, order if order is not None else range(len(cells)), workdir=str(tmp_path)
    )
    every = plan_notebook(nb).names
    expected = recorder.fingerprint(every)
    recorder.run("del " + ", ".join(lost), silent=True)
    live = [n for n in every if n not in lost]

    plan = plan_notebook(nb, live_names=live)
    assert set(lost) <= set(plan.names)
    for cell in plan.cells:
        recorder.run(nb.cells[cell.index].source)
    restored = recorder.fingerprint(every)
    assert restored["values"] == expected["values"]
    assert restored["shared"] == expected["shared"]
    assert (len(plan.cells) < len(plan_notebook(nb).cells)) == fewer
