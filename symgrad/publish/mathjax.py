"""Where an HTML page gets MathJax: a URL (checked), or a copy next to the page that works offline."""

from __future__ import annotations

import os
import shutil
import urllib.parse
from pathlib import Path

from ..core.errors import SymgradError

DEFAULT_MATHJAX = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml-full.js"
LOCAL = "local"
FOLDER = "mathjax"  # next to the page
BUNDLE = "tex-chtml-full.js"
FONTS = Path("output") / "chtml" / "fonts" / "woff-v2"  # MathJax finds them relative to its own script


def check_url(url: object) -> str:
    """An http(s) or file URL, or a relative path; nothing a page could execute or break out of."""
    text = str(url)
    if not text or any(ch.isspace() or ch in "\"'<>`" for ch in text):
        raise SymgradError(f"the MathJax URL {text!r} is not a URL or a relative path")
    scheme = urllib.parse.urlsplit(text).scheme.lower()
    if scheme not in ("http", "https", "file", ""):
        raise SymgradError(f"the MathJax URL must be http(s), file, or a relative path, not {scheme}:")
    if scheme == "" and text.startswith("//"):
        raise SymgradError("the MathJax URL must name its scheme (https://...) or be a relative path")
    return text


# MathJax 3.2.2's browser bundle and web fonts ship inside the package (1.7 MB, Apache-2.0: see
# its LICENSE there), so `--mathjax local` works after `pip install symgrad` without npm.
PACKAGED = Path(__file__).resolve().parents[1] / "mathjax"


def find_bundle() -> Path:
    """MathJax 3's es5 folder: $SYMGRAD_MATHJAX when set, else the copy inside the package."""
    if os.environ.get("SYMGRAD_MATHJAX"):
        folder = Path(os.environ["SYMGRAD_MATHJAX"])
        if (folder / BUNDLE).is_file() and (folder / FONTS).is_dir():
            return folder
        raise SymgradError(
            f"SYMGRAD_MATHJAX={folder} does not hold MathJax 3's {BUNDLE} and {FONTS.as_posix()}: "
            "point it at the es5 folder of the mathjax npm package, or unset it to use symgrad's own copy"
        )
    if (PACKAGED / BUNDLE).is_file() and (PACKAGED / FONTS).is_dir():
        return PACKAGED
    raise SymgradError(
        f"symgrad's copy of MathJax is missing from {PACKAGED}: reinstall symgrad, or set "
        "SYMGRAD_MATHJAX to the folder that holds tex-chtml-full.js (mathjax/es5 of 'npm install mathjax@3')"
    )


def copy_local(out: Path) -> tuple[str, list[Path]]:
    """Copy the bundle and its fonts into out/mathjax/; returns the page's relative link and the files."""
    source = find_bundle()
    target = out / FOLDER
    written = []
    try:
        (target / FONTS).mkdir(parents=True, exist_ok=True)
        for relative in [Path(BUNDLE), *(FONTS / f.name for f in sorted((source / FONTS).iterdir()) if f.is_file())]:
            shutil.copyfile(source / relative, target / relative)
            written.append(target / relative)
    except OSError as exc:
        raise SymgradError(f"cannot copy MathJax into {target}: {exc.strerror or exc}") from None
    return f"{FOLDER}/{BUNDLE}", written
