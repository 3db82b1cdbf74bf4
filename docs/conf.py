"""symgrad's own documentation, built with Sphinx and its own directive:

.venv/bin/python -m sphinx -b html docs docs/_build/html

The site works when served over HTTP as well as from the disk: symgrad's own copy of MathJax is
copied into it.
"""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's symgrad, not an installed one

project = "symgrad"
extensions = ["symgrad.sphinx", "myst_parser", "sphinx.ext.autodoc"]
exclude_patterns = ["_build", "screenshots.json", "model.py"]
myst_fence_as_directive = ["symgrad"]
myst_heading_anchors = 3
html_title = "symgrad"
html_static_path = ["_static"]
html_css_files = ["site.css"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"  # signatures stay one readable line; the types go in the text

MATHJAX = ROOT / "symgrad" / "mathjax"
# what tex-chtml-full.js loads at run time, relative to itself: only its web fonts
MATHJAX_FILES = ("tex-chtml-full.js", "output/chtml/fonts/woff-v2")
mathjax_path = "mathjax/tex-chtml-full.js"  # relative to _static: works over HTTP and from disk


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    for name in MATHJAX_FILES:
        source = MATHJAX / name
        if source.is_dir():
            shutil.copytree(source, target / name, dirs_exist_ok=True)
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def setup(app):
    app.connect("build-finished", _copy_mathjax)
