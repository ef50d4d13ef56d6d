"""Library classes changed in place at run time: ``type(df).mean = f``, a helper's monkeypatch,
``tqdm.pandas()`` adding ``DataFrame.progress_apply``.

Such a change alters what every later cell computes with that library's objects, and the source
of the cell that makes it names the class only sometimes (the planner sees ``pd.DataFrame.mean =
f``, not ``type(df).mean = f`` nor a call into another library). So the tracker watches the
classes of the library objects the namespace holds, and their bases: each record reads their
dicts' version tags (``snapshots.dict_tag``, one attribute read per class, in the wait before the
reply), and a class whose tag moved is compared with the keys and values it had, so that a
rewrite with the same objects counts for nothing. Common use leaves library classes' dicts alone
(pandas, numpy, scikit-learn, matplotlib: computing, plotting, fitting, rendering, writing files
were checked), so a change is a patch.

Watched: the mutable heap classes defined outside ``builtins`` and the notebook (a notebook
class is the namespace's own: fingerprints see its data, the planner its source) of the values
the namespace held when the tracker loaded, each recorded execution bound and each checkpoint load
bound (and of the first ``INSIDE`` elements of those that are lists, tuples, sets or dicts), and
such classes bound themselves; ``MAX_CLASSES`` at most.
Not seen: a class that no value in the namespace had when it was changed (``tqdm.pandas()``
before any DataFrame; a restore that skips that cell then fails loudly, with an
``AttributeError``), and anything without dict version tags (Python 3.14+, PyPy).
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Iterable
from itertools import islice
from typing import Any

from .snapshots import dict_tag

MAX_CLASSES = 256  # watched at once; later ones are not
MAX_KINDS = 4096  # types remembered as looked at (a cache: past it, it starts again)
INSIDE = 64  # elements of a bound list, tuple, set or dict (values) whose classes count too
_CONTAINERS = frozenset({list, tuple, set, frozenset, dict})
_HEAP_TYPE, _IMMUTABLE_TYPE = 1 << 9, 1 << 8  # Py_TPFLAGS_*: static and immutable types refuse
_OWN_MODULES = frozenset({"builtins", "__main__"})


class _Watched:
    __slots__ = ("keys", "tag", "values", "view")

    def __init__(self, view: Any) -> None:
        self.view = view
        self.tag = view.value
        content = view.dict
        self.keys = tuple(content)
        self.values = tuple(content.values())


def _library_classes(value: Any) -> Iterable[type]:
    kind = type(value)
    classes = kind.__mro__
    if issubclass(kind, type):  # a class itself: it and its bases too
        classes = (*value.__mro__, *classes)
    for cls in classes:
        flags = cls.__flags__
        mutable = flags & _HEAP_TYPE and not flags & _IMMUTABLE_TYPE
        if mutable and cls.__module__ not in _OWN_MODULES:
            yield cls


def _class_dict(cls: type) -> dict[str, Any] | None:
    """The dict behind ``cls.__dict__`` (a read-only proxy of it)."""
    found = gc.get_referents(cls.__dict__)
    return found[0] if len(found) == 1 and type(found[0]) is dict else None


def _named(cls: type) -> str:
    """``pandas.DataFrame``: the class's top package and qualified name."""
    return f"{str(cls.__module__).partition('.')[0]}.{cls.__qualname__}"


class ClassWatch:
    """``add`` the values an execution bound; ``changed`` after each execution."""

    def __init__(self) -> None:
        self._watched: dict[type, _Watched] = {}
        self._kinds: set[type] = set()  # types whose classes are watched (or not watchable)

    def add(self, values: Iterable[Any]) -> None:
        if dict_tag is None:
            return
        kinds, watched = self._kinds, self._watched
        for value in values:
            kind = type(value)
            if kind in _CONTAINERS:  # `frames = {"a": df}`: the frames' classes, one level in
                inner = value.values() if kind is dict else value
                self.add([v for v in islice(inner, INSIDE) if type(v) not in _CONTAINERS])
                continue
            if kind in kinds and not issubclass(kind, type):
                continue
            if len(kinds) >= MAX_KINDS:  # classes made on the fly must not pile up here
                kinds.clear()
            kinds.add(kind)
            for cls in _library_classes(value):
                if cls in watched or len(watched) >= MAX_CLASSES:
                    continue
                content = _class_dict(cls)
                if content is not None:
                    watched[cls] = _Watched(dict_tag(content))

    def changed(self) -> list[str]:
        """The watched classes changed since the last call (sorted names, deduplicated)."""
        found: set[str] = set()
        for cls, seen in self._watched.items():
            tag = seen.view.value
            if tag == seen.tag:
                continue
            content = seen.view.dict
            keys, values = tuple(content), tuple(content.values())
            if keys != seen.keys or not all(map(operator.is_, values, seen.values)):
                found.add(_named(cls))
            seen.tag, seen.keys, seen.values = tag, keys, values
        return sorted(found)
