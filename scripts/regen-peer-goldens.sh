#!/usr/bin/env bash
# Goldens for the profile.proto inputs taken from google/pprof's own test data (testdata/peer/, Apache-2.0, see
# LICENSE.google-pprof): `go tool pprof -top` for several sample indices and granularities.
set -euo pipefail
cd "$(dirname "$0")/../testdata/peer"
GO=${GO:-/opt/gobin/bin/go}
: > MANIFEST.tsv
for f in go.nomappings.crash cppbench.cpu_no_samples_type; do
  for flags in "-top" "-top -sample_index=0" "-top -lines" "-top -addresses" "-top -cum -nodecount=5" "-top -nodefraction=0"; do
    name="$f.$(echo "${flags#-top}" | tr -d ' =-' )"
    [ "$name" = "$f." ] && name="$f.default"
    TZ=UTC "$GO" tool pprof $flags "$f" >"$name.txt" 2>/dev/null || true
    printf '%s\t%s\t%s\n' "$name" "$f" "$flags" >>MANIFEST.tsv
  done
done
