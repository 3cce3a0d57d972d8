#!/usr/bin/env bash
# The package as a user gets it: build the sdist and the wheel, install the wheel into a new
# venv outside the tree, and run the commands a new user runs first. Fails when a file of the
# package is missing from the wheel, or when any command fails. Called by `make dist-test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
step() { echo "dist-test: $1"; passed=$((passed + 1)); }

"$root/.venv/bin/python" -m build --sdist --wheel --outdir "$work/dist" "$root" >"$work/build.log" 2>&1 \
  || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/*.whl)
ls "$work"/dist/*.tar.gz >/dev/null
step "built $(basename "$wheel") and the sdist"

# Every file git tracks in the package (catalogue, presets, templates, demo, starter) is in the wheel.
(cd "$root" && git ls-files src/sdbridge) | sed 's|^src/||' >"$work/tracked"
"$python" - "$wheel" "$work/tracked" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
missing = [line.strip() for line in open(sys.argv[2]) if line.strip() and line.strip() not in names]
if missing:
    sys.exit(f"files missing from the wheel: {missing}")
PY
step "the wheel holds every package file"

"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
"$work/venv/bin/python" -m pip install --quiet "$wheel" 2>&1 | grep -v "^WARNING" || true
bin="$work/venv/bin"
test -x "$bin/sdbridge"
step "installed into a fresh venv"

cd "$work"
"$bin/sdbridge" --version | grep -q "sdbridge"
"$bin/python" -m sdbridge --version | grep -q "sdbridge"
step "sdbridge --version and python -m sdbridge --version"
"$bin/sdbridge" demo --out "$work/demo" >/dev/null
test -s "$work/demo/report.json" && test -s "$work/demo/report.html"
step "sdbridge demo"
"$bin/sdbridge" init "$work/starter.yaml" >/dev/null && test -s "$work/starter.yaml"
step "sdbridge init"
"$bin/sdbridge" init --templates "$work/docs" "$work/other.yaml" >/dev/null && ls "$work"/docs/*.md >/dev/null
step "sdbridge init --templates"
"$bin/sdbridge" profile >/dev/null && "$bin/sdbridge" profile --checks >/dev/null
step "sdbridge profile"
mkdir -p "$work/ws"
"$bin/python" - "$work/ws" <<'PY'
import shutil, sys
from importlib import resources
from pathlib import Path
target = Path(sys.argv[1])
demo = resources.files("sdbridge.demo")
with resources.as_file(demo) as folder:
    shutil.copytree(folder / "data", target / "data")
    shutil.copy(folder / "demo.yaml", target / "sdbridge.yaml")
PY
(cd "$work/ws" && "$bin/sdbridge" check --out reports -q && test -s reports/report.json)
step "sdbridge check on a copied config (found as ./sdbridge.yaml)"
# A config made from the exports alone (presets, language tables, header spellings, Babel's
# month names all come from the installed package), then checked as written.
(cd "$work/ws" && "$bin/sdbridge" init --from data/jira-export.csv data/cmdb.xlsx --out fromexports.yaml >/dev/null \
  && "$bin/sdbridge" check -c fromexports.yaml --out from-reports -q && test -s from-reports/report.json)
step "sdbridge init --from the exports, then check"
# A nightly run keeps its history in the store; the portfolio reads it (its page template is
# part of the package); the PostgreSQL extra installs the driver a shared store needs.
(cd "$work/ws" && "$bin/sdbridge" run --out nightly -q && "$bin/sdbridge" portfolio --store .sdbridge/state.db \
  --out portfolio -q && test -s portfolio/portfolio.html && grep -q '"tenant": "default"' portfolio/portfolio.json)
step "sdbridge run, then sdbridge portfolio on its store"
# The README's commands, as it shows them, from the installed wheel.
(cd "$work/ws" && "$bin/sdbridge" history -c sdbridge.yaml >/dev/null \
  && "$bin/sdbridge" history -q --format json | grep -q '"trigger": "manual"' \
  && "$bin/sdbridge" export -c sdbridge.yaml --out audit.zip >/dev/null \
  && "$bin/sdbridge" export --verify audit.zip >/dev/null \
  && ! "$bin/sdbridge" export -c sdbridge.yaml --out audit.zip 2>/dev/null \
  && "$bin/sdbridge" portfolio -c sdbridge.yaml --out portfolio2 -q && test -s portfolio2/portfolio.html)
step "sdbridge history, export, export --verify, portfolio -c (from the README)"
"$bin/sdbridge" docs | grep -q "auditors" && "$bin/sdbridge" docs cli | grep -q "Exit codes"
"$bin/sdbridge" init "$work/zone.yaml" >/dev/null && ! grep -q "config/\|deploy/\|README" "$work/zone.yaml"
step "sdbridge docs, and a starter config that names no file the wheel lacks"
said=$(cd "$work/ws" && "$bin/sdbridge" serve -c sdbridge.yaml 2>&1 || true)  # exit 2, one line
grep -q "the \`serve\` extra" <<<"$said"
"$bin/python" -m pip install --quiet "$wheel[postgresql,serve]" 2>&1 | grep -v "^WARNING" || true
"$bin/python" -c "import psycopg, sqlalchemy; sqlalchemy.create_engine('postgresql+psycopg://u@localhost/db')"
"$bin/sdbridge" store migrate --help >/dev/null
step "the postgresql extra: psycopg for a shared store"
said=$(cd "$work/ws" && "$bin/sdbridge" serve -c sdbridge.yaml 2>&1 || true)
grep -q "serves Jira and GitLab sources" <<<"$said"
"$bin/sdbridge" webhooks register --help >/dev/null && "$bin/sdbridge" docs live | grep -q "Live mode"
step "the serve extra: sdbridge serve and webhooks register"
echo "dist-test: $passed passed, 0 failed"
