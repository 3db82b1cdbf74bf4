"""Every template compiles without a warning: a backslash in a Jinja string literal must be
written twice, or Python reads it as an escape ("\\b" in "\\bar" would be a backspace)."""

from __future__ import annotations

import warnings

import pytest

from symgrad.publish.documents import environment, templates_dir

TEMPLATES = sorted(path.name for path in templates_dir().glob("*.j2"))


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_template_compiles_without_a_warning(name):
    env = environment("html" if name.endswith("html.j2") else "tex")
    source = (templates_dir() / name).read_text(encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env.parse(source)
