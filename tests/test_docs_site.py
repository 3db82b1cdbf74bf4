"""symgrad's own documentation site, built by Sphinx from docs/ and served over HTTP, as a reader
meets it: every formula typeset by the site's own copy of MathJax, every link and image of the
site found, no page wider than the window, and the API page listing the public functions once each."""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

import symgrad

from .test_tools import browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.tools

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("index.html", "gallery.html", "api.html")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site, served by a local HTTP server on a free port: its base URL."""
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    out = tmp_path_factory.mktemp("docs") / "html"
    # -W: a warning (a dead cross-reference, a missing file) fails the build
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(ROOT / "docs"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", out
    server.shutdown()
    thread.join()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test's output is its verdict, not an access log
        pass


def test_the_site_loads_mathjax_from_itself_not_from_the_disk(site):
    _, out = site
    html = (out / "gallery.html").read_text(encoding="utf-8")
    sources = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', html)
    assert sources == ["_static/mathjax/tex-chtml-full.js"]
    assert "file://" not in html


def test_served_pages_typeset_every_formula_and_fit_the_window(site, browser):  # noqa: F811
    """Each page typeset once, in a desktop's window and then a phone's (see checkers.at_widths)."""
    base, _ = site
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    failed: list = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    for name in PAGES:
        page.goto(base + name)
        # Sphinx adds MathJax only to pages that hold math; wait for it where it is
        if page.evaluate("() => !!document.querySelector('script[src*=mathjax]')"):
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
            page.evaluate("() => MathJax.startup.promise")
        seen = page.evaluate("""() => ({
            containers: document.querySelectorAll('mjx-container').length,
            errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
            text: (() => {  // TeX inside code blocks is meant to be read as TeX
                const body = document.body.cloneNode(true);
                body.querySelectorAll('pre, code').forEach(e => e.remove());
                return body.innerText;
            })(),
        })""")
        assert seen["errors"] == 0, name
        # TeX left as text is what a reader saw when MathJax did not load
        raw = re.search(r"\\(frac|partial|begin)\b", seen["text"])
        assert raw is None, (name, seen["text"][max(0, raw.start() - 150) : raw.end() + 50])
        for width in (1200, 400):
            page.set_viewport_size({"width": width, "height": 900})
            overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} is {overflow} px wider than a {width} px window"
        if name == "gallery.html":
            assert seen["containers"] > 100, seen["containers"]
    page.close()
    assert not failed, failed


def test_every_link_and_image_of_the_site_is_found(site, browser):  # noqa: F811
    base, _ = site
    page = browser.new_page()
    missing = []
    for name in PAGES:
        page.goto(base + name)
        targets = page.evaluate(
            """() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
                 .concat([...document.querySelectorAll('img[src]')].map(i => i.getAttribute('src')))"""
        )
        for target in targets:
            url = urljoin(base + name, target)
            parsed = urlparse(url)
            if not url.startswith(base) or not parsed.path.strip("/"):
                continue  # another site, or the top of this page
            response = page.request.get(url.split("#")[0])
            if response.status != 200:
                missing.append(f"{name}: {target} ({response.status})")
            if parsed.fragment and parsed.path.endswith(".html"):
                html = response.text()
                anchor = re.escape(parsed.fragment)
                if not re.search(rf'(id|name)="{anchor}"', html):
                    missing.append(f"{name}: {target} (no such anchor)")
    page.close()
    assert not missing, missing


def test_the_gallery_page_numbers_its_derivations_and_links_their_references(site):
    """The gallery page's symgrad blocks, expanded by symgrad's own directive: every equation of
    the reference derivation numbered under its block's prefix, as many as the derivation tags,
    each block with its own prefix, and a reference a link that shows the equation's number."""
    _, out = site
    gallery = (out / "gallery.html").read_text(encoding="utf-8")
    assert gallery.count('id="equation-reference-') == symgrad.render(symgrad.matmul(2, 4, 3), "md").count(r"\tag{")
    for prefix in ("reference", "conv", "net"):
        assert f'id="equation-{prefix}-' in gallery, prefix
    assert re.search(r'href="#equation-reference-chain-a">\(\d+\)</a>', gallery)


def test_the_api_page_lists_each_public_function_once(site):
    _, out = site
    html = (out / "api.html").read_text(encoding="utf-8")
    ids = re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', html)
    for name in (
        "symgrad.matmul",
        "symgrad.conv2d",
        "symgrad.conv_transpose2d",
        "symgrad.derive",
        "symgrad.check",
        "symgrad.equivalent",
        "symgrad.render",
        "symgrad.write",
        "symgrad.Derivation",
        "symgrad.Derivation.evaluate",
        "symgrad.Proof",
        "symgrad.testing.assert_backward",
        "symgrad.functional.conv2d",
        "symgrad.functional.softmax",
    ):
        assert ids.count(name) == 1, (name, ids.count(name))
    text = re.sub(r"<[^>]+>", "", html)
    # a preset shows its own parameters, and no internal type reaches a signature
    assert "symgrad.matmul(m=2, k=4, n=3" in text
    assert "*args" not in text
    assert not re.search(r"PolyTensor|Registry|SymbolTensor", text)
