"""The tracker's watch of library classes (``classes.ClassWatch``), in-process on real pandas,
scikit-learn and matplotlib objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

from jupyter_revive.kernel_manager.jupyter_revive_tracker import classes
from jupyter_revive.kernel_manager.jupyter_revive_tracker.classes import ClassWatch
from jupyter_revive.kernel_manager.jupyter_revive_tracker.snapshots import dict_tag

pytestmark = pytest.mark.skipif(dict_tag is None, reason="no dict version tags here")
_ABSENT = object()


@pytest.fixture
def restored() -> Iterator[list[tuple[type, str, Any]]]:
    """Patches made by a test, undone after it: (class, attribute, what it had or a marker)."""
    undo: list[tuple[type, str, Any]] = []
    yield undo
    for cls, name, old in reversed(undo):
        if old is _ABSENT:
            delattr(cls, name)
        else:
            setattr(cls, name, old)


def patch(undo: list[tuple[type, str, Any]], cls: type, name: str, value: Any) -> None:
    undo.append((cls, name, cls.__dict__.get(name, _ABSENT)))
    setattr(cls, name, value)


def test_a_library_class_changed_through_an_instance_or_a_base_is_seen_once(
    restored: list[tuple[type, str, Any]],
) -> None:
    df = pd.DataFrame({"a": [1.0, 2.0]})
    watch = ClassWatch()
    watch.add([df, 1, "text"])
    assert watch.changed() == []
    patch(restored, type(df), "mean", lambda self, *a, **k: 42.0)
    assert watch.changed() == ["pandas.DataFrame"]
    assert watch.changed() == []  # reported by the execution that made it, not the next ones
    patch(restored, pd.core.generic.NDFrame, "abs", lambda self: 0)  # a base class
    assert watch.changed() == ["pandas.NDFrame"]


def test_common_use_of_libraries_changes_no_class() -> None:
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    df = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0) % 7, "c": list("xy") * 25})
    model = make_pipeline(StandardScaler(), LinearRegression())
    fig, ax = plt.subplots()
    watch = ClassWatch()
    watch.add([df, df["a"], model, fig, ax, pd.DataFrame])
    df.describe()
    df.groupby("c").mean(numeric_only=True)
    df["c"].str.upper()
    df.plot(ax=ax)
    ax.set_title("t")
    model.fit(df[["a"]], df["b"])
    model.predict(df[["a"]])
    df._repr_html_()
    plt.close(fig)
    assert watch.changed() == []


def test_a_rewrite_with_the_same_objects_is_no_change(
    restored: list[tuple[type, str, Any]],
) -> None:
    series = pd.Series([1.0])
    watch = ClassWatch()
    watch.add([series])
    patch(restored, pd.Series, "sum", pd.Series.__dict__["sum"])  # the dict's tag moves
    assert watch.changed() == []


def test_only_mutable_library_classes_are_watched() -> None:
    class Mine:  # a notebook class: fingerprints and the planner see it
        pass

    Mine.__module__ = "__main__"
    watch = ClassWatch()
    watch.add([Mine(), Mine, np.zeros(2), [1], {"a": 1}, pd.Index([1])])
    watched = {cls.__qualname__ for cls in watch._watched}
    assert "Mine" not in watched and "ndarray" not in watched  # numpy's is a static type
    assert not watched & {"list", "dict", "object", "type"}
    assert "Index" in watched  # a class bound itself, and its bases


def test_the_watch_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classes, "MAX_CLASSES", 2)
    watch = ClassWatch()
    watch.add([pd.DataFrame({"a": [1]})])
    assert len(watch._watched) == 2


def test_types_looked_at_do_not_pile_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Classes made on the fly (a namedtuple per cell) are remembered only up to a bound."""
    import collections

    monkeypatch.setattr(classes, "MAX_KINDS", 10)
    watch = ClassWatch()
    for i in range(25):
        make: Any = collections.namedtuple  # a computed name each time
        watch.add([make(f"Row{i}", "a")(1)])
    assert len(watch._kinds) <= 10


def test_the_classes_of_values_a_checkpoint_load_bound_are_watched(
    restored: list[tuple[type, str, Any]],
) -> None:
    from types import SimpleNamespace

    from jupyter_revive.kernel_manager.jupyter_revive_tracker.ledger import Tracker

    df = pd.DataFrame({"a": [1.0]})
    tracker = Tracker(SimpleNamespace(user_ns={"df": df}))  # only the namespace is read
    tracker.note_loaded(["df", "gone"])
    assert tracker.loaded == {"df": 0, "gone": 0}
    patch(restored, type(df), "mean", lambda self, *a, **k: 42.0)
    assert tracker._classes.changed() == ["pandas.DataFrame"]


def test_the_classes_of_values_held_in_a_bound_container_are_watched(
    restored: list[tuple[type, str, Any]],
) -> None:
    frames = {"raw": pd.DataFrame({"a": [1.0]})}
    watch = ClassWatch()
    watch.add([frames, [[pd.Series([1.0])]]])  # one level in only: not the nested list's series
    assert "DataFrame" in {cls.__qualname__ for cls in watch._watched}
    assert "Series" not in {cls.__qualname__ for cls in watch._watched}
    patch(restored, pd.DataFrame, "mean", lambda self, *a, **k: 42.0)
    assert watch.changed() == ["pandas.DataFrame"]
