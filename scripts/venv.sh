#!/usr/bin/env bash
# Make .venv hold exactly what a requirements file pins, and do nothing when it already does.
#
#   scripts/venv.sh requirements.txt        # runtime (make run)
#   scripts/venv.sh requirements-dev.txt    # runtime + test tools (make test, make lint)
#
# A stamp file in .venv records the hash of the requirements that were installed, so a second `make run` or
# `make test` skips the install entirely when nothing changed. PYTHON picks the interpreter (default python3).
set -euo pipefail

cd "$(dirname "$0")/.."
requirements="${1:?usage: scripts/venv.sh requirements.txt|requirements-dev.txt}"
python="${PYTHON:-python3}"
venv=.venv

sha256() {
    if command -v sha256sum >/dev/null; then sha256sum | cut -d' ' -f1; else shasum -a 256 | cut -d' ' -f1; fi
}

# The dev file includes the runtime one with -r, so its hash covers both files. RECIPE changes when this script
# installs differently, so existing venvs get the new treatment.
RECIPE="recipe 2: compileall"
requirements_hash() {
    {
        echo "$RECIPE"
        case "$1" in
            requirements-dev.txt) cat requirements.txt requirements-dev.txt ;;
            *) cat "$1" ;;
        esac
    } | sha256
}

stamp() { echo "$venv/.installed-$(basename "$1" .txt).sha256"; }

is_current() {
    [[ -f "$(stamp "$1")" && "$(cat "$(stamp "$1")")" == "$(requirements_hash "$1")" ]]
}

# A venv whose interpreter no longer starts (Python upgraded or removed) cannot be repaired; start over.
if [[ -d "$venv" ]] && ! "$venv/bin/python" -c "" 2>/dev/null; then
    echo "==> $venv is broken (its Python no longer runs); recreating it"
    rm -rf "$venv"
fi

# A dev install satisfies the runtime requirements as well.
if is_current "$requirements" || { [[ "$requirements" == requirements.txt ]] && is_current requirements-dev.txt; }; then
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "error: LeadOps needs Python 3.11 or newer; '$python' is $("$python" --version 2>&1 || echo missing)." >&2
        echo "       Install it, or point PYTHON at one: make PYTHON=/usr/bin/python3.11 ..." >&2
        exit 1
    fi
    echo "==> Creating $venv with $("$python" --version)"
    "$python" -m venv "$venv"
fi

echo "==> Installing $requirements into $venv"
# uv installs the pinned set in seconds where pip takes ~20 s; pip stays the fallback if uv cannot be had. uv is
# pinned because its flags change between releases.
uv_version=0.13.9
if [[ "$("$venv/bin/python" -m uv --version 2>/dev/null)" == "uv $uv_version"* ]] \
    || "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$uv_version"; then
    # --system-certs: trust the machine's certificate store (as pip does), e.g. a company proxy's CA.
    if ! "$venv/bin/python" -m uv pip install --quiet --system-certs --python "$venv/bin/python" -r "$requirements"; then
        echo "==> uv failed; retrying with pip"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    fi
else
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
fi

# uv writes no .pyc files, and where PYTHONDONTWRITEBYTECODE is set (as on our machines) Python never caches them
# either: every process, each pytest worker included, would compile Django, Celery and Playwright from source again.
echo "==> Compiling .pyc files"
"$venv/bin/python" -m compileall -q -j 0 "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null \
    || echo "    some files did not compile (an optimisation only; carrying on)"

requirements_hash "$requirements" >"$(stamp "$requirements")"
if [[ "$requirements" == requirements-dev.txt ]]; then
    requirements_hash requirements.txt >"$(stamp requirements.txt)"
fi
