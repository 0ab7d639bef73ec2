#!/usr/bin/env bash
# fuzz-one.sh DIR TARGET FUZZTIME: fuzzes one target, as `make fuzz` does for each.
#
# Go's fuzzer sometimes ends a short run with "context deadline exceeded" when -fuzztime
# runs out while a worker is still busy: that is not a finding, and it saves no input. Such
# a run is tried once more. A real finding always saves its input under
# DIR/testdata/fuzz/TARGET and fails at once.
set -uo pipefail
dir=$1 target=$2 fuzztime=$3
corpus="$dir/testdata/fuzz/$target"
count() { find "$corpus" -type f 2>/dev/null | wc -l; }
for attempt in 1 2; do
	before=$(count)
	out=$(mktemp)
	"${GO:-go}" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$dir" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	flake=0
	if [ "$rc" -ne 0 ] && [ "$(count)" -eq "$before" ] && grep -q 'context deadline exceeded' "$out"; then
		flake=1
	fi
	rm -f "$out"
	[ "$rc" -eq 0 ] && exit 0
	if [ "$flake" -eq 1 ] && [ "$attempt" -eq 1 ]; then
		echo "fuzz $target: the fuzzer's deadline ran out mid-run (no input saved); trying once more"
		continue
	fi
	exit "$rc"
done
