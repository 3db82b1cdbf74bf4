"""Regenerate the screenshots in docs/ and the record of what they show.

    .venv/bin/python scripts/screenshots.py

Four pictures of the reference example (2×4 times 4×3, mean loss), taken with the real tools:
the HTML page in Chromium on a desktop (1200 px) and on a phone (400 px), page 4 of the PDF
(pdflatex, then pdftoppm), and the Jekyll post inside a fresh site with the default theme
(minima). Each picture starts at the section on dL/dA, where the matrices and the longest sums
are. Then two networks of the gallery, the attention head and BatchNorm → Sigmoid → MSE, on a
desktop and a phone, each from its computation graph on, where the graph and the first layers'
equations are. docs/screenshots.json records a digest of the documents they were taken from and
of this script; a test renders the documents again and fails when the digest differs, so a
template change that alters a page asks for new pictures.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RECORD = DOCS / "screenshots.json"
PICTURES = {
    "desktop": "reference-desktop.png",
    "phone": "reference-phone.png",
    "pdf": "reference-pdf-page.png",
    "minima": "reference-in-minima.png",
    "attention desktop": "attention-head-desktop.png",
    "attention phone": "attention-head-phone.png",
    "batch norm desktop": "batch-norm-desktop.png",
    "batch norm phone": "batch-norm-phone.png",
}
# the gallery's networks photographed, by their gallery name, and the anchor each picture starts at
NETWORKS = {"attention": "attention_head", "batch norm": "batch_norm_sigmoid_mse"}
START = "graph"
DATE = "2024-05-01"  # the post's date, which Jekyll puts in its path


def documents() -> dict[str, str]:
    """The documents the pictures show, as symgrad writes them by default."""
    import symgrad
    from symgrad.gallery import GALLERY

    d = symgrad.matmul(2, 4, 3)
    out = {fmt: symgrad.render(d, fmt, date=DATE) for fmt in ("html", "tex", "jekyll")}
    for name, entry in NETWORKS.items():
        out[name] = symgrad.render(dict(GALLERY)[entry](), "html")
    return out


def digest() -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for fmt, text in sorted(documents().items()):
        h.update(fmt.encode() + b"\0" + text.encode())
    return h.hexdigest()


def shoot(page, url: str, path: Path, start: str = "") -> None:
    """Open a page, wait for MathJax, scroll to the dL/dA section (or the heading of the anchor
    ``start``), and photograph the viewport."""
    page.goto(url)
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")
    if start:
        page.evaluate(f"() => document.querySelector('a[name=\"{start}\"]').parentElement.scrollIntoView()")
    else:
        page.evaluate("() => document.getElementById('eq-local_A').previousElementSibling.scrollIntoView()")
    page.screenshot(path=str(path))


def main() -> int:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    import symgrad
    from symgrad.gallery import GALLERY

    mathjax = ROOT / "node_modules" / "mathjax" / "es5" / "tex-chtml-full.js"
    for program in ("chromium", "latexmk", "pdftoppm", "jekyll"):
        if shutil.which(program) is None:
            print(f"screenshots: {program} is missing (bash scripts/test.sh installs it)", file=sys.stderr)
            return 2
    d = symgrad.matmul(2, 4, 3)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        page_path = work / "page.html"
        page_path.write_text(symgrad.render(d, "html", mathjax_url=mathjax.as_uri()), encoding="utf-8")
        networks = {}
        for name, entry in NETWORKS.items():
            networks[name] = work / f"{entry}.html"
            networks[name].write_text(
                symgrad.render(dict(GALLERY)[entry](), "html", mathjax_url=mathjax.as_uri()), encoding="utf-8"
            )
        site = work / "site"
        site.mkdir()
        (site / "_config.yml").write_text("title: A blog\ntheme: minima\nmarkdown: kramdown\n")
        symgrad.write(d, site, "jekyll", date=DATE, mathjax_url=mathjax.as_uri())
        subprocess.run(
            ["jekyll", "build", "-q", "--source", str(site), "--destination", str(site / "_site")], check=True
        )
        (post,) = [p for p in (site / "_site").rglob("*.html") if "matmul" in p.name]
        (tex,) = symgrad.write(d, work / "tex", "tex")
        subprocess.run(
            ["latexmk", "-pdf", "-interaction=nonstopmode", tex.name], cwd=tex.parent, check=True, capture_output=True
        )
        subprocess.run(
            ["pdftoppm", "-f", "4", "-l", "4", "-r", "90", "-png", "-singlefile", tex.with_suffix(".pdf").name, "page"],
            cwd=tex.parent,
            check=True,
        )
        shutil.copy(tex.parent / "page.png", DOCS / PICTURES["pdf"])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            shots = [
                ("desktop", page_path.as_uri(), (1200, 1300), ""),
                ("phone", page_path.as_uri(), (400, 860), ""),
                ("minima", post.as_uri(), (1200, 1300), ""),
            ]
            for name, path in networks.items():
                shots.append((f"{name} desktop", path.as_uri(), (1200, 1300), START))
                shots.append((f"{name} phone", path.as_uri(), (400, 860), START))
            for name, url, size, start in shots:
                page = browser.new_page(viewport={"width": size[0], "height": size[1]})
                shoot(page, url, DOCS / PICTURES[name], start)
                page.close()
            browser.close()
    RECORD.write_text(json.dumps({"pictures": PICTURES, "digest": digest()}, indent=2) + "\n")
    for name in PICTURES.values():
        print(DOCS / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
