#!/usr/bin/env bash
# Goldens for the profile.proto inputs taken from google/pprof's own test data (testdata/peer/, Apache-2.0, see
# LICENSE.google-pprof): `go tool pprof -top` for several sample indices and granularities.
set -euo pipefail
cd "$(dirname "$0")/../testdata/peer"
GO=${GO:-/opt/gobin/bin/go}
# A profile.proto with drop_frames/keep_frames and symbolized allocator frames: the Go heap demo's legacy text
# (debug=1, with runtime.mallocgc frames in its stacks) converted and symbolized by go tool pprof.
TZ=UTC "$GO" tool pprof -proto ../go/bin/heapdemo ../go/heap-rate1.debug1.txt >heapdemo-debug1.pb.gz 2>/dev/null
: > MANIFEST.tsv
for f in go.nomappings.crash cppbench.cpu_no_samples_type heapdemo-debug1.pb.gz; do
  for flags in "-top" "-top -sample_index=0" "-top -lines" "-top -addresses" "-top -cum -nodecount=5" "-top -nodefraction=0"; do
    name="$f.$(echo "${flags#-top}" | tr -d ' =-' )"
    [ "$name" = "$f." ] && name="$f.default"
    TZ=UTC "$GO" tool pprof $flags "$f" >"$name.txt" 2>/dev/null || true
    printf '%s\t%s\t%s\n' "$name" "$f" "$flags" >>MANIFEST.tsv
  done
done
