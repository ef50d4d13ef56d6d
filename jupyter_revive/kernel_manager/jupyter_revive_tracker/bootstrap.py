"""Import the tracker package from sources held in memory, for kernels the server did not launch.

A remote or gateway kernel may share no files with the server, so the server sends this module's
source and the package's sources (``{"__init__.py": ..., "api.py": ...}``) in one silent
execution, which runs it in a throwaway globals dict (binding no user names) and calls
``install(SOURCES)``. A finder at the front of ``sys.meta_path`` then answers for
``jupyter_revive_tracker`` and its submodules, and stays there so that a module imported later
comes from the same sources; ``get_source`` lets tracebacks show the code.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

PACKAGE = "jupyter_revive_tracker"


class SourceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Meta path finder and loader of one package whose files are ``sources``."""

    def __init__(self, package: str, sources: dict[str, str]) -> None:
        self.package = package
        self.sources = dict(sources)

    def _filename(self, fullname: str) -> str | None:
        if fullname == self.package:
            return "__init__.py"
        if not fullname.startswith(self.package + "."):
            return None
        path = fullname[len(self.package) + 1 :].replace(".", "/")
        for filename in (path + "/__init__.py", path + ".py"):
            if filename in self.sources:
                return filename
        return None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        filename = self._filename(fullname)
        if filename is None:
            return None
        is_package = filename.endswith("__init__.py")
        origin = f"<{self.package} (injected)>/{filename}"
        spec = importlib.util.spec_from_loader(fullname, self, origin=origin, is_package=is_package)
        if spec is not None:
            spec.has_location = True  # __file__ = origin, for tracebacks and reprs
        return spec

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # the default module

    def exec_module(self, module: ModuleType) -> None:
        filename = self._filename(module.__name__)
        if filename is None:
            raise ImportError(f"no source for {module.__name__}", name=module.__name__)
        origin = module.__spec__.origin if module.__spec__ is not None else filename
        code = compile(self.sources[filename], origin or filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)

    def get_source(self, fullname: str) -> str | None:
        filename = self._filename(fullname)
        return None if filename is None else self.sources[filename]


def install(sources: dict[str, str], package: str = PACKAGE) -> ModuleType:
    """The package, imported from ``sources`` unless this process already has one by that name.

    On failure nothing stays behind (finder, half-imported modules) and the error propagates.
    """
    existing = sys.modules.get(package)
    if existing is not None:
        return existing
    finder = SourceFinder(package, sources)
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module(package)
    except BaseException:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
        raise
