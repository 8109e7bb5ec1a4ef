#!/usr/bin/env bash
# Install Grassroots into .venv, build the demo on embedded SQLite in instance/ and serve it
# on http://127.0.0.1:5000 (Ctrl-C stops it). Running it again keeps the existing demo data.
# Extra arguments go to `grassroots demo`, e.g. `bash scripts/demo.sh --port 8000`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh demo
.venv/bin/grassroots init
exec .venv/bin/grassroots demo "$@"
