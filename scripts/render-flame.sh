#!/usr/bin/env bash
# Renders an SVG (a flame graph written by `pprofsym flame`) to a PNG with headless Chromium, at the SVG's own
# width and height, so it can be looked at without a browser (and put in the README).
#
#   scripts/render-flame.sh IN.svg OUT.png
#
# CHROMIUM=... picks the browser (default: chromium, else chromium-browser, else google-chrome).
# The README's pictures come from:
#   pprofsym flame testdata/compare/heap-rate1.t2.pb.gz -o target/flame.svg
#   pprofsym flame --diff-base testdata/compare/heap-rate1.t0.pb.gz testdata/compare/heap-rate1.t2.pb.gz \
#       -o target/flame-diff.svg
#   scripts/render-flame.sh target/flame.svg docs/flame.png; scripts/render-flame.sh target/flame-diff.svg docs/flame-diff.png
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 IN.svg OUT.png" >&2
  exit 2
fi
IN=$(realpath "$1")
OUT=$(realpath -m "$2")
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
[ -n "$CHROMIUM" ] || { echo "no chromium found (set CHROMIUM=...)" >&2; exit 1; }
# The outer <svg> element's size.
head=$(head -c 4096 "$IN" | tr '\n' ' ' | grep -o '<svg [^>]*>' | head -1)
W=$(sed -n 's/.* width="\([0-9]*\)".*/\1/p' <<< "$head")
H=$(sed -n 's/.* height="\([0-9]*\)".*/\1/p' <<< "$head")
[ -n "$W" ] && [ -n "$H" ] || { echo "$1: no width/height on the <svg> element" >&2; exit 1; }
PROFILE_DIR=$(mktemp -d)
trap 'rm -rf "$PROFILE_DIR"' EXIT
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars \
  --user-data-dir="$PROFILE_DIR" --window-size="$W,$H" --screenshot="$OUT" "file://$IN" > /dev/null 2>&1
[ -s "$OUT" ] || { echo "chromium wrote nothing to $OUT" >&2; exit 1; }
echo "$OUT: ${W}x${H}"
