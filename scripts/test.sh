#!/usr/bin/env bash
# The whole suite, as `make test` runs it on a fresh machine:
#   0. ruff and mypy (strict for src/);
#   1. core, sandbox, doctor and contract-corpus tests (no Django);
#   2. the Django app and the docs-drift checks (tests/docs) on SQLite, then the app on a
#      throwaway PostgreSQL cluster;
#   3. the Smart Parking example and the browser end-to-end tests;
#   4. PhonePe's official Python SDK (its own throwaway venv, from PyPI) against the sandbox;
#   5. the version matrix (noxfile.py): stage 1 and Django on SQLite on every other supported
#      Python x Django cell (3.11-3.13 x Django 5.2 LTS / 6.x), each in its own .nox/ virtualenv.
#      A Python that is not installed skips its cells with a line saying so.

#   1. core, sandbox and doctor tests (no Django);
#   2. the Django app on SQLite, then on a throwaway PostgreSQL cluster;
#   3. the Smart Parking example and the browser end-to-end tests;
#   4. a 60 s run of the fault campaign (benchmarks/chaos.py), failing on any violation.
# Exits non-zero if any stage fails; prints one closing tally.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
out="${TEST_OUTPUT_DIR:-$PWD/test-output}"
mkdir -p "$out"
export TEST_OUTPUT_DIR="$out"

eval "$(scripts/pg-throwaway.sh start)" || { echo "could not start PostgreSQL" >&2; exit 1; }
trap 'scripts/pg-throwaway.sh stop "$PHONEPE_PG_DIR"' EXIT

status=0
stage() {
  local name="$1"; shift
  echo
  echo "=== $name"
  "$PY" -m pytest --junitxml="$out/junit-$name.xml" "$@"
  local rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then status=1; echo "=== $name FAILED (exit $rc)"; fi
}

echo "=== lint"
.venv/bin/ruff check src tests benchmarks examples || { status=1; echo "=== lint FAILED (ruff)"; }
.venv/bin/mypy || { status=1; echo "=== lint FAILED (mypy)"; }

stage core tests/core tests/sandbox tests/doctor tests/contract -p no:django
stage django-sqlite tests/django tests/docs --ds=tests.django.settings
PHONEPE_TEST_DB=postgres stage django-postgres tests/django --ds=tests.django.settings
if [ -d examples/parking/tests ]; then
  stage parking examples/parking/tests tests/e2e --ds=parking.settings --rootdir=. -p no:randomly
fi

# PhonePe's official SDK pins old requests/urllib3: it gets its own cached venv (.venv-sdk).
# Skipped (with this line) only when PyPI cannot be reached to install it.
sdk_python="$(scripts/official-sdk-venv.sh)"
case $? in
  0) PHONEPE_SDK_PYTHON="$sdk_python" PHONEPE_SDK_REQUIRED=1 stage official-sdk tests/official_sdk -p no:django ;;
  3) echo; echo "=== official-sdk SKIPPED: PyPI is unreachable, so phonepe-pg-sdk-python could not be installed" ;;
  *) status=1; echo; echo "=== official-sdk FAILED (could not install phonepe-pg-sdk-python)" ;;
esac

# The cell .venv is in already ran in full above.
cell=$("$PY" -c 'import sys, django; d = django.VERSION; print(f"py{sys.version_info[0]}.{sys.version_info[1]}-django{d[0]}.{d[1]}" if d[0] < 6 else f"py{sys.version_info[0]}.{sys.version_info[1]}-django{d[0]}")')
echo
echo "=== matrix (all but $cell)"
rm -f "$out"/junit-matrix-*.xml  # a cell skipped this time must not count last run's tests
if [ -x .venv/bin/nox ]; then
  PHONEPE_MATRIX_SKIP="$cell" .venv/bin/nox -s matrix || { status=1; echo "=== matrix FAILED"; }
else
  status=1; echo "=== matrix FAILED: .venv/bin/nox is missing (make install installs it)"
fi

# The fault campaign, short: two services on a crashing PostgreSQL, killed workers, a
# faulty sandbox; any broken invariant fails the run (docs/RELIABILITY.md).
echo
echo "=== chaos"
"$PY" benchmarks/chaos.py --duration 60 --json "$out/chaos.json" \
  || { status=1; echo "=== chaos FAILED (see the VIOLATION lines above)"; }

"$PY" scripts/tally.py "$out"/junit-*.xml
exit $status
