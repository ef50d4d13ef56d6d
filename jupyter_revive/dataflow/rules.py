"""Name tables the cell analysis consults: which calls mutate, display, touch the outside world.

Heuristics live here, apart from the visitor, so that widening them is a one-line change with a
test next to it.
"""

from __future__ import annotations

import builtins

from ..kernel_manager.jupyter_revive_tracker.names import SHELL_BUILTINS, is_interpreter_name
from ..kernel_manager.jupyter_revive_tracker.settings import NUMPY_RNG, PYTHON_RNG

# Pseudo-names for hidden interpreter state that cells share without naming it. They take part in
# planning like variables but are never restore targets.
PY_RANDOM = "<random>"
NP_RANDOM = "<numpy.random>"
CWD = "<cwd>"  # the working directory relative paths resolve against
SYS_PATH = "<sys.path>"  # where imports look: sys.path, and modules put in sys.modules
# Targets whose assignment or deletion changes SYS_PATH (``sys.modules["cfg"] = ns``).
IMPORT_SYSTEM = frozenset({"sys.path", "sys.modules"})


# Calls whose result is a live view of their receiver or argument, not a copy: a later change of
# that object shows through it (``keys = d.keys()``, then ``d["b"] = 2``).
VIEW_METHODS = frozenset({"keys", "values", "items"})
VIEW_FUNCTIONS = frozenset({"iter", "reversed", "memoryview"})

RNG_STATES = frozenset({PY_RANDOM, NP_RANDOM})
# The tracker's names for the global generators (a record's ``env.random``).
_OBSERVED_GENERATORS = {NUMPY_RNG: NP_RANDOM, PYTHON_RNG: PY_RANDOM}
# Observed state outside the namespace (the tracker's files and env records), by key.
FILE_PREFIX = "<file:"
ENV_PREFIX = "<env:"
OPTION_PREFIX = "<option:"
# A library changed in place through an imported name (``pd.DataFrame.mean = f``): state of the
# process that every later cell may compute with, through any object of that library.
PATCH_PREFIX = "<patch:"
# Attributes of a library that hold its options, not its code (``pd.options.display``): setting
# them patches nothing (the tracker observes them as settings).
OPTION_ATTRIBUTES = frozenset({"options"})


def is_pseudo(name: str) -> bool:
    return name.startswith("<")


def file_state(path: str) -> str:
    return f"{FILE_PREFIX}{path}>"


def in_folder(path: str, folder: str) -> bool:
    """Whether a recorded file ``path`` lies under the recorded ``folder`` (``"."``: the
    notebook's own, where paths are recorded relative; see the tracker's ``touches.shown``)."""
    if folder == ".":
        return not path.startswith(("/", "~/", "../"))
    return path.startswith(folder.rstrip("/") + "/")


def generator_states(keys: frozenset[str]) -> set[str]:
    """The hidden states of the global generators a record says a run drew from."""
    return {_OBSERVED_GENERATORS[k] for k in keys if k in _OBSERVED_GENERATORS}


def env_state(key: str) -> str:
    return f"{ENV_PREFIX}{key}>"


def option_state(key: str) -> str:
    return f"{OPTION_PREFIX}{key}>"


def patch_state(name: str) -> str:
    return f"{PATCH_PREFIX}{name}>"


def shortened(items: list[str], at_most: int = 3) -> str:
    """The first ``at_most`` of ``items`` joined by commas, and how many more (messages)."""
    more = f" (+{len(items) - at_most})" if len(items) > at_most else ""
    return ", ".join(items[:at_most]) + more


def describe_state(name: str) -> str | None:
    """How a plan's reason names an observed outside state ("changes file data.csv"), or None."""
    verbs = (
        (FILE_PREFIX, "changes file "),
        (ENV_PREFIX, "sets $"),
        (OPTION_PREFIX, "sets "),
        (PATCH_PREFIX, "patches "),
    )
    for prefix, verb in verbs:
        if name.startswith(prefix):
            key = name[len(prefix) : -1]
            return verb + (key.rsplit("/", 1)[-1] if prefix == FILE_PREFIX else key)
    return None


# Method names that change their receiver wherever they appear (`x = lst.pop()` too).
MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "popitem",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "sort",
        "reverse",
        "popleft",
        "appendleft",
        "extendleft",
        "rotate",
        "fill",
        "resize",
        "put",
        "itemset",
        "setflags",
        "fit",
        "partial_fit",
        "fit_transform",
        "fit_predict",
        "fit_resample",
        "set_params",
        "__setitem__",
        "__delitem__",
        "intersection_update",
        "difference_update",
        "symmetric_difference_update",
        "move_to_end",
        "subtract",
        # generator methods advance their bit generator's state
        "normal",
        "uniform",
        "integers",
        "random",
        "choice",
        "shuffle",
        "permutation",
        "permuted",
        "standard_normal",
        "binomial",
        "poisson",
        "exponential",
        "rand",
        "randn",
        "randint",
        "multinomial",
        "gamma",
        "beta",
        "lognormal",
        "gauss",
        "triangular",
        "random_sample",
        "bytes",
    }
)

# Methods that, called as a statement, only look, display or plot. Any other method called as a
# statement is assumed to change its receiver (`model.step()`), which errs towards replaying more.
PURE_STATEMENT_METHODS = frozenset(
    {
        # pandas / numpy inspection
        "head",
        "tail",
        "describe",
        "info",
        "sample",
        "mean",
        "sum",
        "count",
        "value_counts",
        "nunique",
        "unique",
        "isna",
        "isnull",
        "notna",
        "notnull",
        "corr",
        "cov",
        "max",
        "min",
        "std",
        "var",
        "median",
        "quantile",
        "mode",
        "to_string",
        "to_dict",
        "to_list",
        "tolist",
        "to_numpy",
        "to_markdown",
        "to_html",
        "to_latex",
        "items",
        "keys",
        "values",
        "get",
        "copy",
        "memory_usage",
        "duplicated",
        "any",
        "all",
        "equals",
        "groupby",
        "agg",
        "aggregate",
        "apply",
        "map",
        "filter",
        "query",
        "sort_values",
        "sort_index",
        "reset_index",
        "set_index",
        "rename",
        "drop",
        "dropna",
        "fillna",
        "astype",
        "merge",
        "join",
        "pivot",
        "pivot_table",
        "melt",
        "round",
        "abs",
        "cumsum",
        "diff",
        "pct_change",
        "rolling",
        "nlargest",
        "nsmallest",
        "idxmax",
        "idxmin",
        "argmax",
        "argmin",
        "dot",
        "reshape",
        "flatten",
        "ravel",
        "transpose",
        "prod",
        "nonzero",
        "item",
        "select_dtypes",
        "style",
        "replace",
        "format",
        "split",
        "strip",
        "lower",
        "upper",
        "startswith",
        "endswith",
        "find",
        "index",
        "count_nonzero",
        "explode",
        "crosstab",
        "isin",
        "between",
        # estimators, read-only
        "predict",
        "predict_proba",
        "predict_log_proba",
        "score",
        "transform",
        "decision_function",
        "get_params",
        "inverse_transform",
        "get_feature_names_out",
        # display and plotting
        "show",
        "display",
        "print",
        "plot",
        "hist",
        "bar",
        "barh",
        "scatter",
        "boxplot",
        "imshow",
        "legend",
        "grid",
        "set_title",
        "set_xlabel",
        "set_ylabel",
        "set_xlim",
        "set_ylim",
        "set_xticks",
        "set_yticks",
        "set_xticklabels",
        "set_yticklabels",
        "axhline",
        "axvline",
        "text",
        "annotate",
        "tight_layout",
        "savefig",
        "colorbar",
        "fill_between",
        "errorbar",
        "pie",
        "violinplot",
        "contour",
        "contourf",
        "pcolormesh",
        "subplots_adjust",
        "suptitle",
        "heatmap",
        "line",
        "area",
        "kde",
        "density",
        "box",
        "render",
        "_repr_html_",
        "__repr__",
        "__str__",
    }
)

# Functions that change the object passed as their first argument.
ARG_MUTATING_FUNCTIONS = frozenset(
    {
        "random.shuffle",
        "np.random.shuffle",
        "numpy.random.shuffle",
        "np.copyto",
        "np.put",
        "np.fill_diagonal",
        "np.place",
        "np.putmask",
        "heapq.heappush",
        "heapq.heappop",
        "heapq.heapify",
        "heapq.heapreplace",
        "heapq.heappushpop",
        "bisect.insort",
        "next",  # advances an iterator
    }
)

# Functions and methods drawing on numpy's global generator unless given `random_state=`.
GLOBAL_NP_RNG_CONSUMERS = frozenset({"train_test_split", "shuffle", "resample", "sample"})

RNG_CONSTRUCTORS = frozenset(
    {
        "default_rng",
        "RandomState",
        "Generator",
        "PCG64",
        "MT19937",
        "SeedSequence",
        "Random",
        "SystemRandom",
    }
)

CWD_FUNCTIONS = frozenset({"os.chdir", "chdir"})
LINE_MAGICS_CWD = frozenset({"cd", "pushd", "popd"})
# Calls that read files by (possibly relative) path.
FILE_READ_FUNCTIONS = frozenset(
    {
        "open",
        "np.load",
        "np.loadtxt",
        "np.genfromtxt",
        "numpy.load",
        "pickle.load",
        "joblib.load",
        "json.load",
        "Image.open",
    }
)
FILE_READ_PREFIXES = ("read_", "load")

LINE_MAGICS_INSTALL = frozenset({"pip", "conda", "mamba", "micromamba", "uv"})
LINE_MAGICS_SHELL = frozenset({"system", "sx", "sc"})
# Line magics whose argument is Python run in the user namespace.
LINE_MAGICS_RUN_CODE = frozenset({"time", "prun"})
CELL_MAGICS_RUN_CODE = frozenset({"time", "capture", "prun"})
CELL_MAGICS_TIMEIT = frozenset({"timeit"})
CELL_MAGICS_SHELL = frozenset(
    {
        "bash",
        "sh",
        "script",
        "system",
        "cmd",
        "powershell",
        "perl",
        "ruby",
        "python2",
        "python3",
        "pypy",
    }
)
CELL_MAGICS_FILE = frozenset({"writefile", "file"})
CELL_MAGICS_DISPLAY = frozenset(
    {"html", "HTML", "markdown", "javascript", "js", "latex", "svg", "debug"}
)

FILE_WRITE_METHODS = frozenset(
    {
        "to_csv",
        "to_parquet",
        "to_excel",
        "to_json",
        "to_pickle",
        "to_feather",
        "to_hdf",
        "to_sql",
        "to_stata",
        "to_orc",
        "savefig",
        "write_text",
        "write_bytes",
        "save",
        "touch",
        "mkdir",
        "unlink",
        "rmdir",
        "tofile",
    }
)
FILE_WRITE_FUNCTIONS = frozenset(
    {
        "np.save",
        "np.savez",
        "np.savez_compressed",
        "np.savetxt",
        "numpy.save",
        "numpy.savez",
        "numpy.savetxt",
        "pickle.dump",
        "json.dump",
        "joblib.dump",
        "yaml.dump",
        "torch.save",
        "os.remove",
        "os.unlink",
        "os.rename",
        "os.replace",
        "os.makedirs",
        "os.mkdir",
        "os.rmdir",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.move",
        "shutil.rmtree",
        "plt.savefig",
        "dump",
    }
)
SHELL_PREFIXES = ("os.system", "os.popen", "subprocess.")
NETWORK_PREFIXES = (
    "requests.",
    "httpx.",
    "urllib.",
    "urllib3.",
    "http.client",
    "socket.",
    "aiohttp.",
    "smtplib.",
    "ftplib.",
    "urlopen",
    "urlretrieve",
    "boto3.",
    "wget.",
)
REMOTE_URL_PREFIXES = ("http://", "https://", "ftp://", "s3://", "gs://", "az://")

# What a cell can read without any cell defining it: Python's builtins and what IPython adds to
# them in a kernel (`display`). The tracker's `names` owns the interpreter-name rules.
BUILTIN_NAMES = frozenset(dir(builtins)) | SHELL_BUILTINS


def is_kernel_internal(name: str) -> bool:
    """A name every kernel has without any cell defining it: never a restore target."""
    return is_interpreter_name(name) or name in SHELL_BUILTINS
