#!/usr/bin/env bash
# Build (build.sh), then serve the image pipeline page on http://127.0.0.1:8080/
# (extra arguments go to examples/harness/serve.mjs, e.g. --port 9000).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$("$here/build.sh" | tail -n 1)"
exec "${MULTIMEM_NODE24:-node}" "$here/../harness/serve.mjs" --root "/=$here/www" --root "/build/=$out" \
  --root "/js-glue/=$here/../../js-glue/src" "$@"
