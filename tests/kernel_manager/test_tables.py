"""The tracker's namespace snapshots, in-process: ``tables.TableWatch`` (copies of the dict's
entry table) and the portable ``snapshots.Watch`` against a diff by identity, on random
changes of the kinds cells and IPython make."""

from __future__ import annotations

import random
from typing import Any

import pytest

from jupyter_revive.kernel_manager.jupyter_revive_tracker import changes, snapshots, tables
from jupyter_revive.kernel_manager.jupyter_revive_tracker.names import is_owned_name
from jupyter_revive.kernel_manager.jupyter_revive_tracker.snapshots import Watch, _mismatches
from jupyter_revive.kernel_manager.jupyter_revive_tracker.tables import TableWatch

readable = pytest.mark.skipif(tables._head_of is None, reason="no readable dict tables here")
WATCHES = [pytest.param(TableWatch, marks=readable, id="table"), pytest.param(Watch, id="portable")]
CACHES = ["_", "__", "___", "_i", "_ii", "_iii"]


def expected(before: dict[Any, Any], after: dict[Any, Any]) -> tuple[list[str], list[str]]:
    """Names bound to another object (or new), names gone: the user's only."""
    bound = [k for k, v in after.items() if k not in before or before[k] is not v]
    gone = [k for k in before if k not in after]
    return (
        sorted(k for k in bound if not is_owned_name(k)),
        sorted(k for k in gone if not is_owned_name(k)),
    )


def change(rnd: random.Random, ns: dict[Any, Any], step: int) -> None:
    """One cell's worth of changes, with IPython's own around it."""
    for _ in range(rnd.randrange(0, 6)):
        keys = [k for k in ns if isinstance(k, str)]
        op = rnd.random()
        if op < 0.3 or not keys:
            ns[f"n{rnd.randrange(150)}"] = object()  # new, or rebound if it exists
        elif op < 0.45:
            ns[rnd.choice(keys)] = object()
        elif op < 0.55:
            del ns[rnd.choice(keys)]
        elif op < 0.6:
            key = rnd.choice(keys)  # deleted and bound again to the same object: moved
            ns[key] = ns.pop(key)
        elif op < 0.65:
            for i in range(rnd.randrange(50, 400)):  # grows the table past a resize
                ns[f"bulk_{step}_{i}"] = i
        elif op < 0.67:
            ns.clear()
        elif op < 0.69:
            ns[rnd.randrange(3)] = object()  # a non-str key
        else:
            ns[rnd.choice(keys)] = ns[rnd.choice(keys)]  # an alias
    for name in rnd.sample(CACHES, rnd.randrange(0, 4)):  # IPython, around every cell
        ns[name] = object()
    ns[f"_i{step}"] = "source"


@pytest.mark.parametrize("make", WATCHES)
def test_diffs_match_the_namespace_by_identity_on_random_cells(make: Any) -> None:
    for seed in range(150):
        rnd = random.Random(seed)
        ns: dict[Any, Any] = {f"v{i}": object() for i in range(rnd.randrange(0, 80))}
        ns.update({name: object() for name in CACHES[: rnd.randrange(0, 7)]})
        watch = make()
        before = watch.snapshot(ns)
        for step in range(30):
            old = dict(ns)
            change(rnd, ns, step)
            after = watch.snapshot(ns, rnd.random() < 0.3)
            bound, gone = watch.diff(before, after)
            assert (sorted(bound), sorted(gone)) == expected(old, ns), (seed, step)
            some = {id(v) for v in list(ns.values())[:3]}
            assert sorted(watch.bound_to(ns, some)) == sorted(
                k for k, v in ns.items() if id(v) in some and not is_owned_name(k)
            ), (seed, step)
            before = after


@pytest.mark.parametrize("make", WATCHES)
def test_diffs_of_snapshots_several_cells_apart(make: Any) -> None:
    rnd = random.Random(7)
    ns: dict[Any, Any] = {f"v{i}": object() for i in range(40)}
    watch = make()
    first = watch.snapshot(ns)
    start = dict(ns)
    for step in range(12):
        change(rnd, ns, step)
        watch.snapshot(ns)
    bound, gone = watch.diff(first, watch.snapshot(ns, True))
    assert (sorted(bound), sorted(gone)) == expected(start, ns)


@pytest.mark.parametrize("make", WATCHES)
def test_containers_are_kept_up_to_date_across_cells(make: Any) -> None:
    rnd = random.Random(3)
    ns: dict[Any, Any] = {"xs": [], "n": 1, "box": {}}
    watch = make()
    watch.snapshot(ns)
    assert watch.holding(ns, changes._OPAQUE) == {"xs", "box"}
    for step in range(60):
        change(rnd, ns, step)
        if rnd.random() < 0.3:
            ns[f"c{step}"] = [step]
        watch.snapshot(ns)
        if step % 5 == 0:
            want = {
                k for k, v in ns.items() if not is_owned_name(k) and type(v) not in changes._OPAQUE
            }
            assert set(watch.holding(ns, changes._OPAQUE)) == want, step


@readable
def test_an_instance_dict_with_a_split_table_is_compared_from_its_items() -> None:
    class Module:
        pass

    ns = Module().__dict__
    ns.update(a=1, b=2)
    watch = TableWatch()
    before = watch.snapshot(ns)
    ns["a"], ns["c"] = object(), 3
    del ns["b"]
    assert watch.diff(before, watch.snapshot(ns)) == (["a", "c"], ["b"])


def test_the_portable_watch_is_used_where_tables_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tables, "_head_of", None)
    assert type(tables.make_watch()) is snapshots.Watch


@readable
def test_the_table_watch_is_used_where_the_probe_passed() -> None:
    assert type(tables.make_watch()) is TableWatch


def test_mismatches_finds_every_differing_item() -> None:
    rnd = random.Random(11)
    for _ in range(300):
        width = rnd.choice([8, 16, 24])
        n = rnd.randrange(0, 120)
        a = bytes(rnd.randrange(256) for _ in range(n * width))
        b = bytearray(a) + bytes(rnd.randrange(0, 3) * width)  # b may be longer
        for i in rnd.sample(range(n), min(n, rnd.randrange(0, 6))):
            b[i * width + rnd.randrange(width)] ^= 1 + rnd.randrange(255)
        lo = rnd.randrange(0, n + 1)
        want = [
            i
            for i in range(lo, n)
            if a[i * width : (i + 1) * width] != b[i * width : (i + 1) * width]
        ]
        assert _mismatches(a, bytes(b), n, width, lo) == want


def test_a_key_that_is_not_a_string_is_never_a_user_name() -> None:
    assert is_owned_name(1) is True  # type: ignore[arg-type]
    assert is_owned_name(("a",)) is True  # type: ignore[arg-type]
    assert is_owned_name("x") is False


def test_identities_read_from_memory_follow_every_element() -> None:
    assert tables._list_items is not None  # CPython 3.11+, 64-bit: the probe passed
    items: list[Any] = [object() for _ in range(300)]
    table = {f"k{i}": object() for i in range(300)}
    before = (tables.identities(items), tables.identities(table))
    assert before == (tables.identities(list(items)), tables.identities(dict(table)))
    items[150] = object()
    table["k7"] = object()
    assert tables.identities(items) != before[0] and tables.identities(table) != before[1]
    table.pop("k9")
    table["k9"] = table["k8"]  # same keys and values, another order: another table
    assert tables.identities(table) != before[1]
    assert tables.identities(type("Plain", (), {})().__dict__) is None  # a split table
    assert tables.identities((1, 2)) is None


@pytest.mark.parametrize("size", [10, changes.READ_FROM + 10])
def test_fingerprints_see_a_replaced_element_however_large_the_container(size: int) -> None:
    ns: dict[str, Any] = {"xs": [10**30 + i for i in range(size)]}
    ns["d"] = dict(enumerate(ns["xs"]))
    for cell, changed in (("xs.sort(reverse=True)", "xs"), ("xs[3] = 1", "xs"), ("d[3] = 1", "d")):
        found = changes.Changes(ns, ["xs", "d"])
        exec(cell, ns)
        other = "d" if changed == "xs" else "xs"
        assert found.finish(["xs", "d"], lambda name: True) == ([changed], [other]), cell
