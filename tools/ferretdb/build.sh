#!/usr/bin/env bash
# Builds or tests our FerretDB program against FerretDB with our patches applied:
#   build.sh build OUTPUT   the server binary
#   build.sh test           go test, on real SQLite data folders
# Go will not build module-cache files with changes, so FerretDB's modules are vendored into a
# build folder of its own, the patches are applied there, and Go builds with -mod=vendor.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:?usage: build.sh build OUTPUT | build.sh test}

build=$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-build.XXXXXX")
trap 'rm -rf "$build"' EXIT

cp "$here"/go.mod "$here"/go.sum "$here"/*.go "$build"/
cd "$build"
go mod vendor
# A patch named wire-*.patch changes FerretDB's wire module; every other one FerretDB itself.
for patch in "$here"/patches/*.patch; do
  case "$(basename "$patch")" in
    wire-*) module=github.com/FerretDB/wire ;;
    *) module=github.com/FerretDB/FerretDB ;;
  esac
  git apply --directory="vendor/$module" "$patch"
done

case "$mode" in
  build)
    output=${2:?usage: build.sh build OUTPUT}
    case "$output" in /*) ;; *) output="$OLDPWD/$output" ;; esac
    go build -mod=vendor -trimpath -o "$output" .
    ;;
  test)
    go test -mod=vendor -count=1 ./...
    ;;
  *)
    echo "build.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
