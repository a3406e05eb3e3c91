#!/usr/bin/env bash
# Checks, for google/pprof's own legacy conformance files, whether
# `pprof -raw -symbolize=none INPUT` prints exactly the expected
# Profile.String() dump INPUT.string that google/pprof's tests compare against.
#
# Needs: standalone google/pprof (GPPROF, default /work/tools/google-pprof) and
# optionally go tool pprof (GOPPROF, default /work/tools/pprof).
# Makes: a TSV on stdout: input, peer, result (EQUAL / DIFF n-lines), exit.
#
# Usage: scripts/check-peer-raw-strings.sh [DIR]
#   DIR defaults to ../shared/peer-testdata/google-pprof/profile/testdata
#   (relative to the checkout). Results of the last run are in
#   testdata/legacy/README.md ("raw == Profile.String()").
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${1:-$ROOT/../shared/peer-testdata/google-pprof/profile/testdata}
GPPROF=${GPPROF:-/work/tools/google-pprof}
GOPPROF=${GOPPROF:-/work/tools/pprof}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf 'input\tpeer\tresult\texit\n'
for s in "$DIR"/*.string; do
    in=${s%.string}
    for peer in "$GPPROF" "$GOPPROF"; do
        [ -x "$peer" ] || continue
        set +e
        env -i PATH=/usr/bin:/bin HOME="$TMP" TZ=UTC LC_ALL=C PPROF_BINARY_PATH=/nonexistent \
            "$peer" -raw -symbolize=none "$in" > "$TMP/out" 2> "$TMP/err"
        rc=$?
        set -e
        if cmp -s "$TMP/out" "$s"; then
            r=EQUAL
        else
            r="DIFF $( (diff "$s" "$TMP/out" || true) | grep -c '^[<>]') lines"
        fi
        printf '%s\t%s\t%s\t%s\n' "$(basename "$in")" "$(basename "$peer")" "$r" "$rc"
    done
done
