"""The missing-variable guard, as a table of tiny snippets."""

from __future__ import annotations

import pytest

from jupyter_revive.prompts.names import missing_names, used_names


@pytest.mark.parametrize(
    ("code", "live", "missing"),
    [
        ("plt.plot(predictions, actual)", {"plt"}, ["actual", "predictions"]),
        ("plt.plot(predictions, actual)", {"plt", "predictions", "actual"}, []),
        ("x = 1\nprint(x)", set(), []),
        # What every kernel has (the tracker's interpreter-name rules): never missing.
        ("display(get_ipython())\nprint(In, Out, _, _i3, __file__)", set(), []),
        ("x = x + 1", set(), ["x"]),
        ("total += 1", set(), ["total"]),
        ("df['a'] = 1", set(), ["df"]),
        ("del gone", set(), ["gone"]),
        ("import numpy as np\nnp.sin(q)", set(), ["q"]),
        ("from math import pi\npi * r", set(), ["r"]),
        ("[a for a in rows if a > limit]", set(), ["limit", "rows"]),
        ("def f():\n    return y + z\nz = 1\nf()", set(), ["y"]),
        ("lambda v: v + w", set(), ["w"]),
        ("if (n := len(items)) > 1:\n    print(n)", set(), ["items"]),
        ("for i in range(3):\n    t = i\nprint(i, t)", set(), []),
        ("try:\n    import foo\nexcept ImportError as e:\n    print(e)", set(), []),
        (
            "class A:\n    k = base\n    def m(self):\n        return self.k + g",
            set(),
            ["base", "g"],
        ),
        ("def f():\n    global G\n    G = 1\nf()\nprint(G)", set(), []),
        ("with open(path) as fh:\n    data = fh.read()", set(), ["path"]),
        ("display(df)\nget_ipython()", {"df"}, []),
        ("len(range(3)); sorted([]); Exception", set(), []),
        ("%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot(xs)", set(), ["xs"]),
        ("!ls\nfiles = 1", set(), []),
        ("this is not python (", set(), []),
    ],
)
def test_missing_names(code, live, missing):
    assert missing_names(code, live) == missing


def test_used_names_are_the_live_variables_the_code_reads():
    code = "import numpy as np\nresult = np.mean(df['y']) + offset\nnew = 1"
    assert used_names(code, {"df", "offset", "unused", "np"}) == ["df", "offset"]
