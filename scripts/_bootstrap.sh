# Sourced by scripts/test and scripts/demo: make .venv exist and hold the project.
# A stamp file records the pyproject.toml it was installed from, so a second run is instant.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extra="${1:-}"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
fi
stamp=".venv/.tsload-installed${extra:+-$extra}"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".${extra:+[$extra]}"
    echo "$want" > "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
