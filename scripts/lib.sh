# Shared set-up steps for scripts/up and scripts/test (source it, don't run it).
#
# ensure_installed brings a checkout to a working installation, doing only
# what is missing or out of date:
#   1. a Python >= 3.12 (Django 6.1 needs it) and a virtualenv in .venv
#   2. `pip install -e '.[dev]'`      (again only when pyproject.toml changed)
#   3. `npm ci`                        (again only when package-lock.json changed)
#   4. scripts/build-static            (vendor JS/CSS from node_modules, no CDN)
#   5. `chanrong collectstatic`
# Knobs: CHANRONG_PYTHON (interpreter to use), CHANRONG_VENV (default .venv),
# CHANRONG_PYENV_DIRS (where to look for pyenv installs; default ~/.pyenv /root/.pyenv).

CHANRONG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CHANRONG_VENV:-$CHANRONG_ROOT/.venv}"
MIN_PYTHON="3.12"

say() { printf '[chanrong] %s\n' "$*" >&2; }
die() {
  printf '[chanrong] error: %s\n' "$*" >&2
  exit 1
}

# python_ok INTERPRETER: true when it runs, is >= MIN_PYTHON and can make venvs.
python_ok() {
  "$1" - <<'PY' >/dev/null 2>&1
import sys
import ensurepip, venv  # noqa: F401  (Debian splits these into python3-venv)
sys.exit(0 if sys.version_info >= (3, 12) else 1)
PY
}

# find_python: print the first usable interpreter. Order: $CHANRONG_PYTHON,
# python3.13, python3.12, python3 on PATH, then pyenv's installs (newest first).
find_python() {
  local candidate
  local candidates=()
  if [ -n "${CHANRONG_PYTHON:-}" ]; then
    if python_ok "$CHANRONG_PYTHON"; then
      printf '%s\n' "$CHANRONG_PYTHON"
      return 0
    fi
    die "CHANRONG_PYTHON=$CHANRONG_PYTHON is not a working Python >= $MIN_PYTHON with venv"
  fi
  for candidate in python3.13 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then
      candidates+=("$(command -v "$candidate")")
    fi
  done
  local root
  for root in ${CHANRONG_PYENV_DIRS:-${PYENV_ROOT:-$HOME/.pyenv} /root/.pyenv}; do
    for candidate in $(ls -d "$root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
      candidates+=("$candidate")
    done
  done
  for candidate in "${candidates[@]}"; do
    if python_ok "$candidate"; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_venv() {
  if [ -x "$VENV/bin/python" ] && python_ok "$VENV/bin/python"; then
    return 0
  fi
  local python
  python="$(find_python)" || die "no Python >= $MIN_PYTHON found (tried python3.13, python3.12, python3 and ~/.pyenv/versions/3.1[2-9]*). Install one (e.g. 'pyenv install 3.13' or 'apt-get install python3.13 python3.13-venv') or set CHANRONG_PYTHON=/path/to/python3."
  if [ -e "$VENV" ]; then
    say "$VENV is not a usable Python >= $MIN_PYTHON environment; recreating it"
    rm -rf "$VENV"
  fi
  say "creating $VENV with $python ($("$python" -c 'import platform; print(platform.python_version())'))"
  "$python" -m venv "$VENV"
}

# A stamp file records what was installed, so that reruns are quick and a
# changed pyproject.toml or package-lock.json is picked up.
_stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

ensure_python_packages() {
  local stamp_file="$VENV/.chanrong-installed"
  local want
  want="$(_stamp_of "$CHANRONG_ROOT/pyproject.toml")-$("$VENV/bin/python" -c 'import sys; print(sys.version)' | head -1 | tr -d ' ')"
  if [ -x "$VENV/bin/chanrong" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; then
    return 0
  fi
  say "installing Python packages (pip install -e '.[dev]')"
  # pip's output is shown only when it fails: a machine's pip.conf may make
  # it chatty even with --quiet.
  local log="$VENV/.chanrong-pip.log"
  if ! (cd "$CHANRONG_ROOT" && "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]') >"$log" 2>&1; then
    cat "$log" >&2
    die "pip install failed (log above, also in $log)"
  fi
  printf '%s' "$want" >"$stamp_file"
}

ensure_node_packages() {
  command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js 20+ (apt-get install nodejs npm)"
  local stamp_file="$CHANRONG_ROOT/node_modules/.chanrong-installed"
  [ -f "$CHANRONG_ROOT/package-lock.json" ] || die "package-lock.json is missing: run 'npm install' once and commit it"
  local want
  want="$(_stamp_of "$CHANRONG_ROOT/package.json" "$CHANRONG_ROOT/package-lock.json")"
  if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; then
    return 0
  fi
  say "installing front-end packages (npm ci)"
  (cd "$CHANRONG_ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    die "npm ci failed: is package-lock.json in step with package.json? (npm install updates it)"
  printf '%s' "$want" >"$stamp_file"
}

ensure_static() {
  if [ -x "$CHANRONG_ROOT/scripts/build-static" ]; then
    "$CHANRONG_ROOT/scripts/build-static" >/dev/null
  fi
  "$VENV/bin/chanrong" collectstatic --noinput -v0
}

ensure_installed() {
  ensure_venv
  ensure_python_packages
  ensure_node_packages
  ensure_static
}
