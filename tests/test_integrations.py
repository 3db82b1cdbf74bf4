"""The documentation-tool integrations, each built by the real tool: a small site with a symgrad
block, opened in headless Chromium with a local MathJax. Every formula typesets, the equation
count is the derivation's, a cross-reference resolves, and a bad block stops the build with
symgrad's one-line error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import symgrad

from .checkers import LOCAL_MATHJAX, html_formulas, typeset
from .conftest import require, require_program
from .test_tools import browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.tools

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BLOCK = "matmul -m 2 -k 3 -n 2 --loss mean"
BAD = "matmul -m 0 -k 3 -n 2"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1", "PATH": f"{BIN}:{os.environ['PATH']}"}


def run(args, cwd, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)


def equations_of() -> int:
    """How many numbered equations the derivation's document has (counted in symgrad's Markdown)."""
    d = symgrad.matmul(2, 3, 2, loss="mean")
    return symgrad.render(d, "md").count(r"\tag{")


def fragment_formulas() -> int:
    d = symgrad.matmul(2, 3, 2, loss="mean")
    found, _ = html_formulas(symgrad.render(d, "fragment"))
    return len(found)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "symgrad: error:" in line]
    assert lines, stderr
    return lines[-1]


def page_links_resolve(page, selector: str) -> list:
    """The in-page links that point nowhere (a bare # is the top of the page)."""
    return page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel)).map(a => a.getAttribute('href'))
             .filter(h => h !== '#').filter(h => { const id = decodeURIComponent(h.split('#')[1] || '');
                            return !(document.getElementById(id) || document.getElementsByName(id).length); })""",
        selector,
    )


# --- Sphinx, from reStructuredText and from MyST -------------------------------------------------


def sphinx_site(tmp_path: Path, block: str = BLOCK) -> Path:
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    require("local MathJax", LOCAL_MATHJAX.is_file(), "npm ci")
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        'project = "A blog"\n'
        'extensions = ["symgrad.sphinx", "myst_parser"]\n'
        f'mathjax_path = "{LOCAL_MATHJAX.as_uri()}"\n'
        'myst_fence_as_directive = ["symgrad"]\n'
    )
    (src / "index.rst").write_text(
        "Gradients\n=========\n\n.. toctree::\n\n   post\n\n"
        f".. symgrad:: {block}\n   :label-prefix: mm\n\n"
        "The chain rule for one entry of A is :eq:`mm-chain-a`.\n"
    )
    (src / "post.md").write_text(f"# A post in MyST\n\n```symgrad\n{block}\n```\n\nAfter the derivation.\n")
    return src


def test_sphinx_builds_rst_and_myst_pages_with_numbered_referenced_equations(tmp_path, browser):  # noqa: F811
    src = sphinx_site(tmp_path)
    out = tmp_path / "out"
    done = run([str(BIN / "python"), "-m", "sphinx", "-W", "-q", "-b", "html", str(src), str(out)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = equations_of()
    for name in ("index.html", "post.html"):
        html = (out / name).read_text(encoding="utf-8")
        display = len(re.findall(r'<div class="math notranslate nohighlight" id="equation-', html))
        inline = len(re.findall(r'<span class="math notranslate nohighlight">', html))
        assert display == expected > 15, name
        page = browser.new_page()
        result = typeset(page, (out / name).as_uri())
        assert result["errors"] == 0 and result["containers"] == display + inline, name
        # the section links of the derivation, and in index.html the author's :eq:, all land
        assert not page_links_resolve(page, "a.reference.internal[href^='#']"), name
        page.close()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<a class="reference internal" href="#equation-mm-chain-a">\(\d+\)</a>', index)


def test_a_bad_sphinx_directive_stops_the_build_with_one_line(tmp_path):
    src = sphinx_site(tmp_path, BAD)
    done = run([str(BIN / "python"), "-m", "sphinx", "-q", "-b", "html", str(src), str(tmp_path / "out")], tmp_path)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "symgrad: error:" in line]
    # one line for each bad block, at its place: the reStructuredText page and the MyST one
    assert len(errors) == 2 and all("a size must be a positive integer" in line for line in errors)
    assert any("index.rst:8: ERROR" in line for line in errors) and any("post.md:3: ERROR" in line for line in errors)
    assert "Traceback" not in done.stderr


def test_a_bad_block_keeps_failing_later_builds_until_it_is_fixed(tmp_path):
    """Sphinx does not read an unchanged page again: the failure is kept with the environment."""
    src = sphinx_site(tmp_path, BAD)
    build = [str(BIN / "python"), "-m", "sphinx", "-q", "-b", "html", str(src), str(tmp_path / "out")]
    assert run(build, tmp_path).returncode == 2
    assert run(build, tmp_path).returncode == 2  # nothing changed, nothing read again
    for page in ("index.rst", "post.md"):
        (src / page).write_text((src / page).read_text().replace(BAD, BLOCK))
    done = run(build, tmp_path)
    assert done.returncode == 0, done.stderr


def test_a_broken_formula_is_caught_by_the_page_check(tmp_path, browser):  # noqa: F811
    src = sphinx_site(tmp_path)
    out = tmp_path / "out"
    assert run([str(BIN / "python"), "-m", "sphinx", "-q", "-b", "html", str(src), str(out)], tmp_path).returncode == 0
    page_path = out / "post.html"
    html = page_path.read_text(encoding="utf-8")
    page_path.write_text(html.replace(r"\end{aligned}", "", 1), encoding="utf-8")  # an environment left open
    page = browser.new_page()
    result = typeset(page, page_path.as_uri())
    page.close()
    assert result["errors"] >= 1


# --- pandoc --------------------------------------------------------------------------------------


def test_the_pandoc_filter_expands_blocks_for_html_and_latex(tmp_path, browser):  # noqa: F811
    pandoc = require_program("pandoc", "apt-get install pandoc")
    pytest.importorskip("panflute")
    (tmp_path / "post.md").write_text(f"# My post\n\nSome text.\n\n```symgrad\n{BLOCK}\n```\n\nAfter.\n")
    done = run(
        [
            pandoc,
            "post.md",
            "--filter",
            "symgrad-pandoc",
            f"--mathjax={LOCAL_MATHJAX.as_uri()}",
            "-s",
            "--metadata",
            "title=My post",
            "-o",
            "post.html",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "post.html").read_text(encoding="utf-8")
    display = html.count('<span class="math display">')
    assert display == equations_of() > 15
    page = browser.new_page()
    result = typeset(page, (tmp_path / "post.html").as_uri())
    assert result["errors"] == 0 and result["containers"] == html.count("\\(") + html.count("\\[")
    assert not page_links_resolve(page, "a[href^='#']")  # the derivation's contents
    page.close()
    # the same filter for a printed page
    done = run([pandoc, "post.md", "--filter", "symgrad-pandoc", "-s", "-o", "post.tex"], tmp_path)
    assert done.returncode == 0, done.stderr
    tex = (tmp_path / "post.tex").read_text(encoding="utf-8")
    assert tex.count(r"\tag{") == equations_of()
    pdflatex = require_program("pdflatex", "apt-get install texlive-latex-base")
    built = run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "post.tex"], tmp_path)
    assert built.returncode == 0, built.stdout[-2000:]
    # and for Word: every formula converted to Word's own math, none left as TeX
    done = run([pandoc, "post.md", "--filter", "symgrad-pandoc", "-o", "post.docx"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Could not convert TeX math" not in done.stderr, done.stderr[:2000]

    document = zipfile.ZipFile(tmp_path / "post.docx").read("word/document.xml").decode("utf-8")
    assert document.count("<m:oMathPara>") >= equations_of()


def test_a_bad_block_stops_pandoc_with_one_line(tmp_path):
    pandoc = require_program("pandoc", "apt-get install pandoc")
    pytest.importorskip("panflute")
    (tmp_path / "post.md").write_text(f"```symgrad\n{BAD}\n```\n")
    done = run([pandoc, "post.md", "--filter", "symgrad-pandoc", "-o", "post.html"], tmp_path)
    assert done.returncode != 0
    assert "a size must be a positive integer" in one_error_line(done.stderr)
    assert not (tmp_path / "post.html").exists()


# --- MkDocs Material -----------------------------------------------------------------------------

MKDOCS_YML = """site_name: A blog
theme:
  name: material
markdown_extensions:
  - pymdownx.arithmatex:
      generic: true
  - pymdownx.superfences:
      custom_fences:
        - name: symgrad
          class: symgrad
          format: !!python/name:symgrad.mkdocs.fence
extra_javascript:
  - javascripts/mathjax.js
  - {mathjax}
"""

# MkDocs Material's documented MathJax setup for arithmatex
MATHJAX_JS = """window.MathJax = {
  tex: { inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]], processEscapes: true,
         processEnvironments: true },
  options: { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" }
};
"""


def mkdocs_site(tmp_path: Path, block: str) -> Path:
    pytest.importorskip("material")
    require("local MathJax", LOCAL_MATHJAX.is_file(), "npm ci")
    site = tmp_path / "site"
    (site / "docs" / "javascripts").mkdir(parents=True)
    (site / "mkdocs.yml").write_text(MKDOCS_YML.format(mathjax=LOCAL_MATHJAX.as_uri()))
    (site / "docs" / "javascripts" / "mathjax.js").write_text(MATHJAX_JS)
    (site / "docs" / "index.md").write_text(f"# My post\n\nThe gradient, proven:\n\n```symgrad\n{block}\n```\n")
    return site


def test_mkdocs_material_builds_the_fence(tmp_path, browser):  # noqa: F811
    site = mkdocs_site(tmp_path, BLOCK)
    done = run([str(BIN / "mkdocs"), "build", "-q", "--strict"], site)
    assert done.returncode == 0, done.stderr
    page = browser.new_page()
    result = typeset(page, (site / "site" / "index.html").as_uri())
    assert result["errors"] == 0 and result["containers"] == fragment_formulas() > 50
    assert not page_links_resolve(page, ".symgrad-derivation a[href^='#']")
    page.close()


def test_a_bad_mkdocs_fence_stops_the_build_with_one_line(tmp_path):
    site = mkdocs_site(tmp_path, BAD)
    done = run([str(BIN / "mkdocs"), "build", "-q"], site)
    assert done.returncode != 0
    assert "a size must be a positive integer" in one_error_line(done.stderr)
    assert "Traceback" not in done.stderr


# --- Hugo ----------------------------------------------------------------------------------------


def test_the_hugo_format_survives_goldmark_without_passthrough(tmp_path, browser):  # noqa: F811
    hugo = require_program("hugo", "apt-get install hugo")
    require("local MathJax", LOCAL_MATHJAX.is_file(), "npm ci")
    site = tmp_path / "site"
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "config.toml").write_text('baseURL = "http://example.org/"\ntitle = "A blog"\n')
    (site / "layouts" / "_default" / "single.html").write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{{ .Title }}</title>'
        f'<script defer src="{LOCAL_MATHJAX.as_uri()}"></script></head>'
        "<body><h1>{{ .Title }}</h1>{{ .Content }}</body></html>\n"
    )
    d = symgrad.matmul(2, 3, 2, loss="mean")
    paths = symgrad.write(d, site, "hugo", date="2024-05-01")
    assert sorted(p.relative_to(site).as_posix() for p in paths) == [
        "content/posts/matmul-2x3x2.md",
        "layouts/shortcodes/symgrad.html",
    ]
    done = run([hugo, "--quiet"], site)
    assert done.returncode == 0, done.stdout + done.stderr
    page_path = site / "public" / "posts" / "matmul-2x3x2" / "index.html"
    html = page_path.read_text(encoding="utf-8")
    assert "raw HTML omitted" not in html and "<em>" not in html
    page = browser.new_page()
    result = typeset(page, page_path.as_uri())
    assert result["errors"] == 0 and result["containers"] == fragment_formulas() > 50
    page.close()


def test_goldmark_mangles_the_same_math_without_the_shortcode(tmp_path):
    """Why the shortcode: the plain Markdown page through the same Hugo loses its math."""
    hugo = require_program("hugo", "apt-get install hugo")
    site = tmp_path / "site"
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "content" / "posts").mkdir(parents=True)
    (site / "config.toml").write_text('baseURL = "http://example.org/"\ntitle = "A blog"\n')
    (site / "layouts" / "_default" / "single.html").write_text("<html><body>{{ .Content }}</body></html>\n")
    d = symgrad.matmul(2, 3, 2, loss="mean")
    (site / "content" / "posts" / "plain.md").write_text("---\ntitle: plain\n---\n" + symgrad.render(d, "md"))
    assert run([hugo, "--quiet"], site).returncode == 0
    html = (site / "public" / "posts" / "plain" / "index.html").read_text(encoding="utf-8")
    assert "<em>" in html or r"a_{11} & a_{12} \\ a_{21}" not in html
