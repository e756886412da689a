#!/usr/bin/env bash
# npm install and npm ci run this (package.json's prepare): what npm start serves is built at
# install time, so that a start only checks that nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# A production install (npm ci --omit=dev) has no TypeScript or esbuild to build with. It must
# not fail for that: it builds nothing, and dist/ comes from a build made where they are.
if [ ! -d node_modules/typescript ]; then
  echo "prepare: development dependencies are not installed, nothing built (npm run build makes dist/)"
  exit 0
fi

npm run build
# Go fetches FerretDB's modules: offline with an empty module cache it cannot build, which is no
# reason to fail the install; npm start tries again, and says why if it fails.
if ! npm run build:ferretdb; then
  echo "prepare: FerretDB could not be built (see above); npm start will try again" >&2
fi
# Schemathesis, which npm test runs against the API (test/contract), in a virtual environment of
# .tools/ with exactly the pinned files. Without Python or PyPI it cannot install, which is no
# reason to fail the install: that test then fails saying what is missing.
if ! npm run setup:schemathesis; then
  echo "prepare: Schemathesis could not be installed (see above); npm test needs it: npm run setup:schemathesis" >&2
fi
