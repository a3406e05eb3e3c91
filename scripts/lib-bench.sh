# Shared by the bench scripts: paired, alternating timing of shell commands.
#
#   source scripts/lib-bench.sh
#   bench_run RUNS OUTDIR name1 "cmd1" name2 "cmd2" ...
#
# Runs every command once as a warm-up, then RUNS rounds; round i starts with command i mod n and goes on in
# order, so no command always runs first or right after the same neighbour. Each run is timed to the millisecond
# by the clock around it (GNU time's own wall time has a resolution of 10 ms), and its peak RSS taken from GNU
# time (/usr/bin/time). Sets the associative arrays MED_S (median wall seconds) and
# MAX_KB (largest peak RSS over the runs), and prints a table. Output of the commands goes to /dev/null.

declare -A MED_S MAX_KB

bench_median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

bench_run() {
  local runs=$1 out=$2; shift 2
  local names=() cmds=()
  while [ $# -gt 0 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
  local n=${#names[@]} i j k
  declare -A times rss
  for ((k = 0; k < n; k++)); do bash -c "${cmds[$k]}" > /dev/null 2>&1; done
  for ((i = 0; i < runs; i++)); do
    for ((j = 0; j < n; j++)); do
      k=$(( (i + j) % n ))
      local t0 t1
      t0=$(date +%s%N)
      /usr/bin/time -f "%e %M" -o "$out/time.txt" bash -c "${cmds[$k]}" > /dev/null 2>&1 || true
      t1=$(date +%s%N)
      read -r s kb < <(tail -1 "$out/time.txt")
      local ms=$(( (t1 - t0) / 1000000 ))
      s=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
      times[$k]+="$s"$'\n'
      rss[$k]+="$kb"$'\n'
    done
  done
  printf '%-22s %10s %12s\n' command "median s" "peak MiB"
  for ((k = 0; k < n; k++)); do
    MED_S[${names[$k]}]=$(printf '%s' "${times[$k]}" | bench_median)
    MAX_KB[${names[$k]}]=$(printf '%s' "${rss[$k]}" | sort -n | tail -1)
    printf '%-22s %10.3f %12.1f\n' "${names[$k]}" "${MED_S[${names[$k]}]}" "$(awk -v k="${MAX_KB[${names[$k]}]}" 'BEGIN{print k/1024}')"
  done
}

# ratio A B: A / B with two decimals.
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
