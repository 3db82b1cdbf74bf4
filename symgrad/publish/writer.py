"""Atomic writes of rendered documents into an output folder.

Every format is rendered before anything is written, so a bad option leaves the
folder as it was; each file is written to a temporary name in the same folder
and renamed into place, so a reader never sees half a file. Files symgrad did
not write are never touched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..core.errors import SymgradError
from .documents import DEFAULT_DATE, EXTRA_FORMATS, FORMATS, SUFFIX, environment, render
from .mathjax import BUNDLE, FOLDER, LOCAL, copy_local, find_bundle


def parse_formats(formats) -> tuple:
    if isinstance(formats, str):
        formats = FORMATS if formats.strip() == "all" else [f.strip() for f in formats.split(",") if f.strip()]
    formats = tuple(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS + EXTRA_FORMATS]
    if unknown or not formats:
        known = ",".join(FORMATS + EXTRA_FORMATS)
        raise SymgradError(f"unknown format {', '.join(unknown) or '(none)'}: use all or some of {known}")
    return formats


def stem(d) -> str:
    return d.presentation.stem


def file_name(d, fmt: str, date: str) -> str:
    """Where each format goes under the output folder. A Jekyll post goes to _posts/ under the name
    Jekyll requires, YYYY-MM-DD-slug.md, or Jekyll ignores it."""
    if fmt == "jekyll":
        return f"_posts/{date}-{stem(d)}.md"
    if fmt == "hugo":  # where a Hugo site keeps posts; the shortcode goes to HUGO_SHORTCODE
        return f"content/posts/{stem(d)}.md"
    return stem(d) + SUFFIX[fmt]


HUGO_SHORTCODE = "layouts/shortcodes/symgrad.html"


def write(d, out_dir, formats=FORMATS, **options) -> list[Path]:
    """Render ``d`` in each format into ``out_dir``; returns the paths written."""
    formats = parse_formats(formats)
    local = options.get("mathjax_url") == LOCAL
    if local:  # found before anything is written, so a missing bundle leaves the folder as it was
        find_bundle()
        options["mathjax_url"] = f"{FOLDER}/{BUNDLE}"
    cache: dict = {}  # each formula printed once for all the formats
    texts = {fmt: render(d, fmt, cache=cache, **options) for fmt in formats}
    out = make_folder(out_dir)
    paths = []
    if local and "html" in formats:
        paths.append(copy_local(out)[1][0])  # the bundle; its fonts sit beside it
    if "hugo" in texts:
        texts = {**texts, "hugo shortcode": environment("html").get_template("hugo_shortcode.html.j2").render()}
    for fmt, text in texts.items():
        path = out / (
            HUGO_SHORTCODE if fmt == "hugo shortcode" else file_name(d, fmt, options.get("date", DEFAULT_DATE))
        )
        make_folder(path.parent)
        atomic_write(path, text)
        paths.append(path)
    return paths


def make_folder(out_dir) -> Path:
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SymgradError(f"cannot create the output folder {out}: {exc.strerror or exc}") from None
    return out


def atomic_write(path: Path, text: str) -> None:
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except OSError as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise SymgradError(f"cannot write {path}: {exc.strerror or exc}") from None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
