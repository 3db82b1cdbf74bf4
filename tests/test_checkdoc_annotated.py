"""check-doc --format html on an HTML post: the annotated copy runs the post's own MathJax, so the
active macros of the post's formulas (a link, a class, a style, an id, a loaded extension) are
dropped from the copy, in every way the backslash can be written."""

from __future__ import annotations

import pytest

from symgrad.checkdoc import check_document, html_report
from symgrad.checkdoc.reader import defuse

DECLARATIONS = "sizes: [{n: 2}]\nindices: {i: n}\ntensors: {X: [n]}\n"


@pytest.mark.parametrize(
    "written, shown",
    [
        (r"\href{javascript:alert(1)}{x_1}", "{x_1}"),
        (r"\href {javascript:{nested}} {x_1}", " {x_1}"),
        (r"\class{a}{b}\style{color:red}{c}\cssId{i}{d}\data{k=v}{e}", "{b}{c}{d}{e}"),
        (r"\require{html} x", " x"),
        ("&#92;href{javascript:x}{y}", "{javascript:x}{y}"),
        ("&#x5C;href{javascript:x}{y}", "{javascript:x}{y}"),
        ("&bsol;class{c}{y}", "{c}{y}"),
        (r"\hrefs \classy \\ \frac{a}{b}", r"\hrefs \classy \\ \frac{a}{b}"),  # other macros stay
        (r"\href", ""),
    ],
)
def test_active_macros_are_dropped_and_nothing_else(written, shown):
    assert defuse(written) == shown


def test_the_annotated_post_keeps_no_javascript_link(tmp_path):
    page = (
        "<html><head><title>post</title></head><body>\n"
        '<div class="equation"><span>\\( x_1 = \\href{javascript:alert(1)}{x_1} \\)</span></div>\n'
        '<div class="equation"><span>\\( x_2 = &#92;href{javascript:alert(2)}{x_2} \\)</span></div>\n'
        "</body></html>\n"
    )
    path = tmp_path / "post.html"
    path.write_text(page, encoding="utf-8")
    (tmp_path / "post.html.symgrad.yaml").write_text(DECLARATIONS, encoding="utf-8")
    report = check_document(path)
    out = html_report(report, path)
    assert "javascript:alert(1)" not in out
    assert "&#92;href" not in out and "\\href{" not in out
    # the verdicts quote the post's text; the post's MathJax is told to leave them alone
    assert '<section class="symgrad-check mathjax_ignore tex2jax_ignore"' in out
    assert "{x_1}" in out  # the shown argument stays


@pytest.mark.tools
def test_the_annotated_post_typesets_with_no_live_link_in_chromium(tmp_path):
    from .checkers import LOCAL_MATHJAX, chromium_browser, typeset
    from .test_tools import playwright_sync

    page = (
        f'<html><head><title>post</title><script src="{LOCAL_MATHJAX.as_uri()}"></script></head><body>\n'
        '<div class="equation"><span>\\( x_1 = \\href{javascript:document.title=1}{x_1} \\)</span></div>\n'
        '<div class="equation"><span>\\( x_2 = &#92;href{javascript:document.title=2}{x_2} \\)</span></div>\n'
        '<div class="equation"><span>\\( x_1 = \\class{symgrad-mark}{x_1} \\)</span></div>\n'
        "</body></html>\n"
    )
    path = tmp_path / "post.html"
    path.write_text(page, encoding="utf-8")
    (tmp_path / "post.html.symgrad.yaml").write_text(DECLARATIONS, encoding="utf-8")
    annotated = tmp_path / "annotated.html"
    annotated.write_text(html_report(check_document(path), path), encoding="utf-8")
    with playwright_sync()() as p:
        browser = chromium_browser(p)
        tab = browser.new_page()
        result = typeset(tab, annotated.as_uri())
        live = tab.evaluate(
            """() => ({
            links: document.querySelectorAll('mjx-container [href], mjx-container a').length,
            javascript: Array.from(document.querySelectorAll('[href]'))
                .filter(e => /^\\s*javascript:/i.test(e.getAttribute('href'))).length,
            classes: document.querySelectorAll('mjx-container .symgrad-mark').length,
        })"""
        )
        browser.close()
    assert result["containers"] >= 3
    assert live == {"links": 0, "javascript": 0, "classes": 0}, live
