#!/usr/bin/env bash
# One command for the examples: build (build.sh), then serve on
# http://127.0.0.1:8080/ (extra arguments go to serve.mjs, e.g. --port 9000).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$("$here/build.sh" | tail -n 1)"
exec node "$here/serve.mjs" --build "$out" "$@"
