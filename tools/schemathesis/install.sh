#!/usr/bin/env bash
# npm run setup:schemathesis (npm install runs it too, through tools/prepare.sh): the virtual
# environment test/contract/schemathesis.test.ts runs Schemathesis from, with exactly what
# requirements.txt pins, each file checked against its hash. Named by that file's digest, so
# that a changed pin makes a new one and an unchanged one is not installed again.
set -euo pipefail
cd "$(dirname "$0")/../.."

requirements=tools/schemathesis/requirements.txt
digest=$(sha256sum "$requirements" | cut -c1-12)
venv="${TOOLS_DIR:-.tools}/schemathesis-$digest"

# Written last: a cut-off install never passes for a finished one.
installed="$venv/installed"

if [ -f "$installed" ]; then
  echo "Schemathesis is installed: $venv"
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "Schemathesis not installed: python3 is not installed (the contract test needs Python 3.10 or later with venv)" >&2
  exit 1
fi

# A virtual environment cannot be moved (its scripts name its path), so it is made in place.
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps --only-binary=:all: -r "$requirements"
"$venv/bin/st" --version > "$installed"
echo "Schemathesis installed: $venv ($(cat "$installed"))"
