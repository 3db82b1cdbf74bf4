"""``symgrad check-doc``: verify a hand-written derivation line by line, in its author's LaTeX.

    report = check_document("post.md")            # declarations in front matter or post.md.symgrad.yaml
    report.count("refuted"), report.refuted[0].reason

Every display formula is split into its chain of equalities, and every link is checked exactly
(``check.py``) with the meanings the declarations give the symbols: the declarations read
(``declarations.py``), the values of the symbols (``values.py``) and their derivatives
(``meaning.py``), two values decided equal or apart (``equality.py``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..core.errors import SymgradError
from ..publish.documents import environment
from ..publish.mathjax import DEFAULT_MATHJAX
from .check import SYMBOL, Report, check, lead_ins
from .declarations import Declarations
from .reader import annotate, columns, html_source, read

__all__ = ["Report", "check_document", "declarations_for", "html_report", "json_report", "text_report"]


def _yaml(text: str, where: str):
    try:
        import yaml
    except ImportError:
        raise SymgradError("check-doc reads YAML declarations: pip install pyyaml") from None
    try:
        return yaml.load(text, Loader=_loader())  # a safe loader, refusing repeated keys
    except yaml.YAMLError as exc:
        raise SymgradError(f"the declarations in {where} are not valid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise SymgradError(f"the declarations in {where} are nested too deeply to read") from None


def _loader():
    """YAML's safe loader, but a key written twice in one mapping (indices: {i: m, i: n}) is an
    error: YAML would keep the last one silently, and the author may mean the other."""
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen: set = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # <<: *shared, a scope reusing another's
                    continue
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (str, int, float, bool)) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is written twice in one mapping: keep one", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

        def construct_yaml_int(self, node):
            # YAML 1.1 reads 010 as 8, 0x10 as 16 and 1:30 as 90: kept as written, so that a size
            # written so is refused (it must be a plain integer) rather than read as another number
            text = self.construct_scalar(node)
            return super().construct_yaml_int(node) if re.fullmatch(r"[-+]?(0|[1-9][0-9_]*)", text) else text

    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    return Loader


def declarations_for(path: Path, text: str, sidecar: Path | None = None) -> Declarations:
    """The declarations: a given file, else POST.symgrad.yaml beside the post, else the front
    matter's symgrad: key."""
    candidates = [sidecar] if sidecar is not None else [path.with_name(path.name + ".symgrad.yaml")]
    for candidate in candidates:
        if candidate is not None and candidate.is_file():
            try:
                source = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise SymgradError(f"cannot read the declarations file {candidate}: {exc}") from None
            if sidecar is None and _declares(path, text):  # two declarations, one would be ignored
                raise SymgradError(
                    f"{path} declares its symbols both in its front matter and in {candidate.name}: keep one of the two"
                )
            data = _yaml(source, str(candidate))
            return Declarations.read(data.get("symgrad", data) if isinstance(data, dict) else data)
        if sidecar is not None:
            raise SymgradError(f"the declarations file {sidecar} does not exist")
    front = _front_matter(path, text)
    if front is not None:
        return Declarations.read(front)
    raise SymgradError(
        f"{path} declares nothing: add a symgrad: key to its front matter, or a file {path.name}.symgrad.yaml "
        "with sizes, indices, tensors and define"
    )


def _declares(path: Path, text: str) -> bool:
    """Whether the front matter declares symbols too (front matter that is not YAML does not)."""
    try:
        return _front_matter(path, text) is not None
    except SymgradError:
        return False


def _front_matter(path: Path, text: str):
    """The front matter's symgrad: declarations, or None when it has none."""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end > 0:
            front = _yaml(text[3:end], f"{path}'s front matter")
            if isinstance(front, dict) and "symgrad" in front:
                return front["symgrad"]
    return None


def check_document(path, declarations=None) -> Report:
    path = Path(path)
    equations, text = read(path)
    decl = declarations_for(path, text, None if declarations is None else Path(declarations))
    if not equations:
        raise SymgradError(f"{path} has no display formula to check")
    report = check(equations, decl, lead_ins(path, text, equations))
    report.equations = equations
    return report


def html_report(report: Report, path, mathjax_url: str = DEFAULT_MATHJAX) -> str:
    """An annotated copy of an HTML post: a mark beside every formula, linked to the verdicts and
    counterexamples appended at its end. For a Markdown or LaTeX source, a page of its formulas,
    each line marked the same way."""
    path = Path(path)
    links = [{**vars(link), "id": k, "symbol": SYMBOL[link.verdict]} for k, link in enumerate(report.links, 1)]
    equations = []
    for position, eq in enumerate(report.equations):
        mine = [link for link in links if link["position"] == position]
        lines = [
            {"tex": _typeset(tex), "links": [link for link in mine if link["line"] == k]}
            for k, tex in enumerate(eq.lines, 1)
        ]
        equations.append((eq.number, lines))
    env = environment("html")
    summary = text_report(report).splitlines()[-1]
    context = dict(name=path.name, report=report, equations=equations, links=links, summary=summary)
    source = path.read_text(encoding="utf-8")
    if not html_source(path, source):
        return env.get_template("checkdoc_report.html.j2").render(mathjax_url=mathjax_url, **context)
    marks = [
        [env.get_template("checkdoc_marks.html.j2").render(links=line["links"]) for line in lines]
        for _, lines in equations
    ]
    verdicts = env.get_template("checkdoc_verdicts.html.j2").render(**context)
    return annotate(source, report.equations, marks, verdicts, markdown=path.suffix.lower() not in (".html", ".htm"))


def _typeset(row: str) -> str:
    """A row of an aligned display, typeset on its own: its alignment marks need an aligned block."""
    return rf"\begin{{aligned}}{row}\end{{aligned}}" if len(columns(row)) > 1 else row


def text_report(report: Report) -> str:
    lines = []
    if report.refuted:
        first = report.refuted[0]
        lines += [f"first refuted: ({first.equation}) line {first.line}: {first.right[:100]}", f"  {first.reason}", ""]
    for link in report.links:
        mark = SYMBOL[link.verdict]
        reason = f" — {link.reason}" if link.reason else ""
        culprit = " (this line is the wrong one: the lines around it agree)" if link.culprit else ""
        lines.append(
            f"{mark} ({link.equation}) line {link.line}: {_short(link.left)} = {_short(link.right)}{reason}{culprit}"
        )
    lines += [f"note: {note}" for note in report.notes]
    counts = ", ".join(f"{report.count(v)} {SYMBOL[v]} {v}" for v in SYMBOL)
    lines.append(f"{len(report.links)} links: {counts}; {_decided(report)} decided")
    return "\n".join(lines)


def _decided(report: Report) -> str:
    """The share of links given a verdict (✓, ◐ or ✗), as a whole percentage."""
    decided = sum(report.count(v) for v in ("proven", "pattern", "refuted"))
    return f"{100 * decided // max(len(report.links), 1)} %"


def json_report(report: Report) -> str:
    return json.dumps(
        {
            "links": [
                {
                    "equation": link.equation,
                    "line": link.line,
                    "left": link.left,
                    "right": link.right,
                    "verdict": link.verdict,
                    "reason": link.reason,
                    "wrong_line": link.culprit,
                }
                for link in report.links
            ],
            "notes": report.notes,
            "counts": {v: report.count(v) for v in SYMBOL},
            "decided": sum(report.count(v) for v in ("proven", "pattern", "refuted")),
        },
        indent=2,
        ensure_ascii=False,
    )


def _short(tex: str, width: int = 60) -> str:
    tex = " ".join(tex.split())
    return tex if len(tex) <= width else tex[: width - 1] + "…"
