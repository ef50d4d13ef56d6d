"""Prompt templates: text files shipped in ``prompts/templates/``, each overridable from config."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template

TEMPLATE_NAMES = ("system.txt", "context.txt", "details.txt")


class TemplateError(ValueError):
    """A configured template directory or file cannot be used."""


def load_template(name: str, override_dir: str | None = None) -> Template:
    """The template ``name`` from ``override_dir`` if that directory has it, else the packaged one.

    Templates use ``string.Template`` placeholders (``$variables``): code and JSON are full of
    braces, which ``str.format`` would trip over.
    """
    if name not in TEMPLATE_NAMES:
        expected = ", ".join(TEMPLATE_NAMES)
        raise TemplateError(f"Unknown template {name!r}; expected one of {expected}.")
    if override_dir:
        directory = Path(override_dir).expanduser()
        if not directory.is_dir():
            raise TemplateError(f"Template directory {str(directory)!r} does not exist.")
        candidate = directory / name
        if candidate.is_file():
            return Template(candidate.read_text(encoding="utf-8"))
    # One joinpath per segment: several arguments need Python 3.11.
    packaged = resources.files("jupyter_revive.prompts").joinpath("templates").joinpath(name)
    return Template(packaged.read_text(encoding="utf-8"))
