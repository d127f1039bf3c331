# Shared by scripts/demo and scripts/test: set up what the project needs, once, idempotently.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
VAR="${AVSPORTAL_VAR_DIR:-$ROOT/var}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_venv() {
  if [ ! -x "$PY" ]; then
    say "Creating the virtual environment in .venv"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$(sha1sum "$ROOT/pyproject.toml" | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    say "Installing Python packages (first run takes a minute)"
    "$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT[test]"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
}

# The govmomi vCenter simulator, built from Debian's golang-go and golang-github-vmware-govmomi-dev.
VCSIM_BIN="$VAR/bin/vcsim"
build_vcsim() {
  if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/github.com/vmware/govmomi ]; then
    say "vCenter simulator not built: install golang-go and golang-github-vmware-govmomi-dev (apt-get) to get it"
    return 1
  fi
  if [ -x "$VCSIM_BIN" ] && [ "$VCSIM_BIN" -nt "$ROOT/tools/vcsim/main.go" ]; then
    return 0
  fi
  say "Building the vCenter simulator"
  mkdir -p "$VAR/bin" "$VAR/gocache"
  (cd "$ROOT/tools/vcsim" && GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$VAR/gocache" \
     go build -o "$VCSIM_BIN" . ) || { say "vCenter simulator build failed"; return 1; }
}
