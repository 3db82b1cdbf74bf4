// Parse every formula with MathJax 3 (TeX -> MathML) and KaTeX, the typesetters readers use.
// Input on stdin: a JSON list of {"id": ..., "tex": ..., "display": bool}.
// Output on stdout: a JSON list of {"id", "mathjax": null | error, "katex": null | error}.
// MathJax runs without its noundefined and noerrors packages and with a formatError that
// throws, so an undefined macro or a TeX error is reported instead of rendered in red.
"use strict";
const fs = require("fs");
const katex = require("katex");
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
const { AllPackages } = require("mathjax-full/js/input/tex/AllPackages.js");
const { STATE } = require("mathjax-full/js/core/MathItem.js");

RegisterHTMLHandler(liteAdaptor());
const tex = new TeX({
  // bussproofs needs an output jax to measure boxes; nothing symgrad writes uses it
  packages: AllPackages.filter((p) => !["noundefined", "noerrors", "bussproofs"].includes(p)),
  formatError: (jax, err) => { throw err; },
});
const page = mathjax.document("", { InputJax: tex });

function mathjaxError(source, display) {
  try {
    page.convert(source, { display, end: STATE.COMPILED });
    return null;
  } catch (err) {
    return String(err.message || err);
  }
}

function katexError(source, display) {
  try {
    katex.renderToString(source, { displayMode: display, throwOnError: true });
    return null;
  } catch (err) {
    return String(err.message || err);
  }
}

const formulas = JSON.parse(fs.readFileSync(0, "utf8"));
const results = formulas.map((f) => ({
  id: f.id,
  mathjax: mathjaxError(f.tex, !!f.display),
  katex: katexError(f.tex, !!f.display),
}));
process.stdout.write(JSON.stringify(results));
