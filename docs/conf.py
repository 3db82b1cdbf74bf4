"""symgrad's own documentation, built with Sphinx and its own directive:

.venv/bin/python -m sphinx -b html docs docs/_build/html
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's symgrad, not an installed one

project = "symgrad"
extensions = ["symgrad.sphinx", "myst_parser", "sphinx.ext.autodoc"]
exclude_patterns = ["_build", "screenshots.json"]
myst_fence_as_directive = ["symgrad"]
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"]  # README's links to files of the repository
html_title = "symgrad"
autodoc_member_order = "bysource"
# MathJax: the copy npm installs, when there is one (the tests build offline), else Sphinx's default
_local = ROOT / "node_modules" / "mathjax" / "es5" / "tex-chtml-full.js"
if _local.is_file():
    mathjax_path = _local.as_uri()
exclude_patterns += ["model.py"]
