"""The version matrix: the Pythons and Django releases host projects run.

Supported: Python 3.11, 3.12 and 3.13; Django 5.2 LTS and 6.x (Django 6 needs Python 3.12+,
so there is no 3.11 x 6 cell). Each cell gets its own virtualenv under ``.nox/`` and runs
the core stage (client, sandbox, doctor) and the Django-on-SQLite stage.

``make test`` runs everything (PostgreSQL, browser, lint) once in ``.venv``; ``scripts/test.sh``
then runs the other cells here, naming the cell ``.venv`` already is in ``PHONEPE_MATRIX_SKIP``
(comma-separated cell ids such as ``py3.11-django5.2``).
By hand: ``.venv/bin/nox -s matrix`` runs all cells, ``.venv/bin/nox -l`` lists them.

Interpreters are never downloaded: the ones pyenv installed (``$PYENV_ROOT/versions``) are put
on PATH, then anything else on PATH is used. A missing interpreter skips its cells with a line
saying which, and the run still passes (also on CI, where nox would otherwise fail it).
JUnit reports go to ``$TEST_OUTPUT_DIR`` so the closing tally of ``scripts/test.sh`` counts them.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

PYTHONS = ("3.11", "3.12", "3.13")
#: Django series -> the requirement a cell installs (the newest release of that series).
DJANGOS = {"5.2": "Django>=5.2,<5.3", "6": "Django>=6.0,<7"}
#: Django 6.0 dropped Python 3.10 and 3.11.
CELLS = [
    (python, django)
    for python in PYTHONS
    for django in DJANGOS
    if not (django == "6" and python == "3.11")
]

_SKIP = {cell for cell in os.environ.get("PHONEPE_MATRIX_SKIP", "").split(",") if cell}
for _python, _django in list(CELLS):
    if f"py{_python}-django{_django}" in _SKIP:
        CELLS.remove((_python, _django))
        print(f"nox: cell py{_python}-django{_django} left out: it already ran in full")

nox.options.sessions = ["matrix"]
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
# nox fails a run on CI when an interpreter is missing; we skip the cell and say so instead.
nox.options.error_on_missing_interpreters = False


def _pyenv_on_path() -> None:
    """Put each pyenv-installed 3.x interpreter's bin/ on PATH, and pyenv's shims off it.

    A shim answers to every name (``python3.12``) but fails when that version is not the
    selected one, so nox would try it and error instead of skipping the cell.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    root = pyenv_root / "versions"
    found = []
    for python in PYTHONS:
        # Newest patch release of each series, e.g. versions/3.12.1/bin/python3.12.
        candidates = sorted(
            root.glob(f"{python}.*/bin/python{python}"),
            key=lambda p: [int(x) for x in p.parent.parent.name.split(".") if x.isdigit()],
        )
        if candidates:
            found.append(str(candidates[-1].parent))
    shims = str(pyenv_root / "shims")
    rest = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and d != shims]
    os.environ["PATH"] = os.pathsep.join([*found, *rest])


_pyenv_on_path()


@nox.session
@nox.parametrize(
    ("python", "django"),
    CELLS,
    ids=[f"py{python}-django{django}" for python, django in CELLS],
)
def matrix(session: nox.Session, django: str) -> None:
    """Core stage and Django-on-SQLite stage on one Python x Django cell."""
    out = Path(os.environ.get("TEST_OUTPUT_DIR", "test-output")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cell = f"py{session.python}-django{django}"
    session.install("-e", ".[dev]", DJANGOS[django])
    session.run(
        "python",
        "-c",
        "import django, sys; print('cell', sys.version.split()[0], 'Django', django.__version__)",
    )
    session.run(
        "python",
        "-m",
        "pytest",
        "-q",
        "tests/core",
        "tests/sandbox",
        "tests/doctor",
        "tests/contract",
        "-p",
        "no:django",
        f"--junitxml={out}/junit-matrix-{cell}-core.xml",
    )
    session.run(
        "python",
        "-m",
        "pytest",
        "-q",
        "tests/django",
        "tests/docs",
        "--ds=tests.django.settings",
        f"--junitxml={out}/junit-matrix-{cell}-django-sqlite.xml",
    )
