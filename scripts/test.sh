#!/usr/bin/env bash
# Install everything the tests need, when it is missing, then run the whole test suite.
#
#   Debian: texlive (pdflatex, lualatex, latexmk), lmodern, DejaVu and WenQuanYi fonts, poppler-utils (pdftoppm), chromium, fonts-liberation, jekyll, pandoc, hugo, graphviz (dot)
#   npm:    MathJax 3 and KaTeX, from the committed package-lock.json (npm ci)
#   Python: a virtual environment in .venv with symgrad[test,lint,browser,docs] and torch==2.13.0
#
# Each step is skipped when already done, so a second run goes straight to the tests.
# Extra arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

DEBIAN_PACKAGES=(texlive-latex-base texlive-latex-recommended texlive-luatex texlive-pictures lmodern fonts-dejavu-core fonts-wqy-microhei latexmk poppler-utils chromium fonts-liberation jekyll jekyll-theme-minima pandoc hugo graphviz)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing MathJax and KaTeX (npm ci)"
  npm ci --no-audit --no-fund
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import symgrad, pytest, xdist, hypothesis, playwright, torch, mypy, importlinter, sphinx, myst_parser, material, panflute, nbclient, nbformat, ipykernel" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ] || [ scripts/constraints.txt -nt .venv/.installed ]; then
  say "installing symgrad[test,lint,browser,docs] and torch==2.13.0 into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c scripts/constraints.txt -e ".[test,lint,browser,docs]" "torch==2.13.0"
  touch .venv/.installed
fi

say "lint, formatting, types and layers"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports

say "running the tests"
# The tests start Python hundreds of times (the command line, generated scripts, check-doc): with
# bytecode writing turned off in the environment, each start would compile symgrad again, and each
# worker would rewrite the test modules' asserts again. The compiled files stay in __pycache__.
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/python -m pytest -q -n 2 --dist loadgroup "$@"
