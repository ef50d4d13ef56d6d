"""Which names of a user namespace are IPython's or the interpreter's, not the user's.

The one owner of this rule: the tracker (inside the kernel) and the server's planner and prompt
builder import it. Standard library only, so that it runs unchanged in any kernel.

Three kinds of names, from reading IPython's ``InteractiveShell.init_user_ns``, its display hook
and ``system``:

* ``CACHE_NAMES``: rebound by IPython itself around every cell (output cache ``_ __ ___``, input
  history ``_i _ii _iii``, the history lists, ``!cmd``'s exit code), plus ``_N`` and ``_iN``.
* ``MODULE_NAMES``: module attributes the interpreter gives every namespace; any other dunder
  (``__warningregistry__`` appears when a warning fires) is the interpreter's too.
* ``SHELL_NAMES``: bound once at start-up and listed in ``user_ns_hidden``; a user may rebind
  them (``exit = 3``), and the tracker counts that by identity against ``user_ns_hidden``.

The first two are *owned* (``is_owned_name``): never the user's, whatever a cell does. All three
are *interpreter names* (``is_interpreter_name``): a kernel has them without any cell defining
them. ``SHELL_BUILTINS`` is a different concept: what IPython adds to ``builtins`` (not to the
namespace) while a cell runs, which ``dir(builtins)`` outside a kernel does not list.
"""

from __future__ import annotations

from typing import Any

CACHE_NAMES = frozenset({"_", "__", "___", "_i", "_ii", "_iii", "_ih", "_oh", "_dh", "_exit_code"})
MODULE_NAMES = frozenset(
    {"__name__", "__doc__", "__package__", "__loader__", "__spec__", "__builtins__", "__builtin__"}
)
SHELL_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})
# The fixed names only: the functions below also match _N, _iN and every dunder, so ask them.
OWNED_NAMES = CACHE_NAMES | MODULE_NAMES
INTERPRETER_NAMES = OWNED_NAMES | SHELL_NAMES
SHELL_BUILTINS = frozenset({"display", "get_ipython", "exit", "quit", "__IPYTHON__"})


def is_owned_name(name: str) -> bool:
    """Never a user's binding: IPython's caches, ``_N``/``_iN``, interpreter dunders.

    On the tracker's hot path (every new namespace key of every cell): set lookups and slices.
    A key that is not a str (``globals()[1] = 2``) names no variable: never the user's.
    """
    if type(name) is not str:
        return True
    if name[:1] != "_":  # every owned name starts with one (OWNED_NAMES too)
        return False
    if name in OWNED_NAMES:
        return True
    if len(name) > 4 and name[:2] == "__" and name[-2:] == "__":
        return True
    # _N (output cache) and _iN (input history)
    rest = name[2:] if name[:2] == "_i" else name[1:]
    return rest.isdigit()


def is_interpreter_name(name: str) -> bool:
    """A name IPython or the interpreter puts into the user namespace (see the module doc)."""
    return name in SHELL_NAMES or is_owned_name(name)


def user_names(ns: dict[str, Any], hidden: dict[str, Any]) -> list[str]:
    """The user's names of ``ns``, in namespace order; ``hidden``: IPython's ``user_ns_hidden``.

    A shell name counts once the user rebound it (its value is no longer the hidden one).
    """
    names = []
    for name, value in ns.items():
        if is_owned_name(name):
            continue
        if name in hidden and hidden[name] is value:
            continue
        names.append(name)
    return names
