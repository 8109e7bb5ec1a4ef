#!/usr/bin/env bash
# Install what Grassroots needs, skipping whatever is already there.
#   bash scripts/install.sh demo   the virtualenv .venv with the package (enough for the demo)
#   bash scripts/install.sh test   also the test extras, axe-core (npm ci from the committed
#                                  lock), and the Debian packages the tests drive: chromium,
#                                  fonts-noto-cjk (CJK glyphs in screenshots) and postgresql
# Safe to run again: each step checks first, so a second run takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-demo}"
case "$what" in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2 ;; esac
say() { echo "install: $*" >&2; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

apt_install() {
    local missing=()
    for pkg in "$@"; do installed "$pkg" || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { say "need root to install: ${missing[*]}"; exit 1; }
        sudo=(sudo)
    fi
    say "apt-get install ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
}

# Debian's python3 has no venv/ensurepip until python3-venv is installed.
python3 -c "import ensurepip, venv" 2>/dev/null || apt_install python3-venv
if [ "$what" = test ]; then
    apt_install chromium fonts-noto-cjk postgresql
fi

if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    python3 -m venv .venv
fi

# Reinstall only when the dependency declarations changed (or the extras did).
extras=$([ "$what" = test ] && echo "[test]" || echo "")
stamp=".venv/.grassroots-$what"
want="$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)"
current() { [ "$(cat "$1" 2>/dev/null)" = "$want" ]; }
# the test install includes everything the demo needs
if ! current "$stamp" && ! { [ "$what" = demo ] && current .venv/.grassroots-test; }; then
    say "pip install -e .$extras"
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
    echo "$want" > "$stamp"
fi

if [ "$what" = test ]; then
    lock="$(sha256sum package-lock.json | cut -d' ' -f1)"
    if [ ! -f node_modules/axe-core/axe.min.js ] \
            || [ "$(cat node_modules/.grassroots-lock 2>/dev/null)" != "$lock" ]; then
        say "npm ci (axe-core)"
        npm ci --no-audit --no-fund --loglevel=error
        echo "$lock" > node_modules/.grassroots-lock
    fi
fi
say "$what: ready"
