#!/bin/bash
# make check: unit tests, checkpoint/restore tests in every flavour, and the
# bad-input tests; ends with one line for the whole run.
set -u
cd "$(dirname "$0")/.."
# Descriptors we inherit (CI's pipes) would be inherited by the workloads,
# and nestor refuses what it cannot restore yet: keep only stdio.
for fd in $(ls /proc/$$/fd); do
	[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
done

out=$(mktemp /tmp/nestor-check.XXXXXX)
trap 'rm -f "$out"' EXIT

run() {
	echo "== $*"
	"$@" 2>&1 | tee -a "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed'
}

for t in build/tests/unit/*_test; do
	run "$t"
done
run tests/run.sh
job_dir=$(mktemp -d /tmp/nestor-shell-job.XXXXXX)
run build/tests/subreaper build/tests/pty/shell_job "$PWD/build/nestor" "$PWD/build/tests/pty/job" "$job_dir"
rm -rf "$job_dir"
run tests/cli.sh
run tests/memcg.sh
run tests/bad_input.sh

passed=$(grep -c '^PASS' "$out")
failed=$(grep -c '^FAIL' "$out")
skipped=$(grep -c '^SKIP' "$out")
echo
grep '^FAIL' "$out" | sed 's/^/  /'
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
