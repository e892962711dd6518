#!/bin/sh
# Builds the chart renderer (main.go) into $1, offline, from Debian's packages: golang-go,
# golang-github-masterminds-sprig-dev, golang-github-ghodss-yaml-dev and
# golang-github-xeipuuv-gojsonschema-dev (their sources land in /usr/share/gocode).
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
gocode=${GOCODE:-/usr/share/gocode}
overlay=$(mktemp -d)
trap 'rm -rf "$overlay"' EXIT
# Debian puts sprig and semver at their GOPATH paths without the /v3 that their import paths
# carry (sprig imports github.com/Masterminds/semver/v3): links give them those paths too.
for module in Masterminds/sprig Masterminds/semver; do
  mkdir -p "$overlay/src/github.com/$module"
  ln -s "$gocode/src/github.com/$module" "$overlay/src/github.com/$module/v3"
done
cd "$here"
GO111MODULE=off GOPATH="$overlay:$gocode" GOFLAGS='' GOPROXY=off go build -o "$out" .
