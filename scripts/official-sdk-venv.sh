#!/usr/bin/env bash
# A throwaway virtualenv with PhonePe's official Python SDK, for the official-sdk test stage.
#
# The SDK pins old requests/urllib3, so it lives apart from .venv. The venv is cached
# (default .venv-sdk, or $PHONEPE_SDK_VENV) and rebuilt when the pinned version changes.
# Prints the venv's python on stdout. Exit status:
#   0  ready
#   3  PyPI could not be reached: the caller skips the stage and says so
#   1  anything else (a broken install is a failure, not a skip)
set -uo pipefail
cd "$(dirname "$0")/.."
SDK_SPEC="phonepe-pg-sdk-python==3.0.1"
VENV="${PHONEPE_SDK_VENV:-$PWD/.venv-sdk}"
PYTHON_BIN="${PYTHON:-python3}"
stamp="$VENV/.installed"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$SDK_SPEC" ] && [ -x "$VENV/bin/python" ]; then
  echo "$VENV/bin/python"
  exit 0
fi

rm -rf "$VENV"
"$PYTHON_BIN" -m venv "$VENV" >&2 || { echo "official-sdk: could not create $VENV" >&2; exit 1; }
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# The SDK's own pins (requests<=2.31, urllib3<=1.26.12) decide; no project constraints apply.
if ! PIP_CONSTRAINT="" "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    --index-url https://pypi.org/simple "$SDK_SPEC" >"$log" 2>&1; then
  if grep -qiE "connection|network is unreachable|name resolution|timed out|proxy|ssl|max retries|no matching distribution|could not find a version" "$log"; then
    tail -n 3 "$log" >&2
    rm -rf "$VENV"
    exit 3
  fi
  cat "$log" >&2
  rm -rf "$VENV"
  exit 1
fi
echo "$SDK_SPEC" >"$stamp"
echo "$VENV/bin/python"
