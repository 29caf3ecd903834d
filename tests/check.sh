#!/bin/bash
# make check: unit tests, checkpoint/restore tests in every flavour, the
# shell-job, command-line and bad-input tests, and the harness's own test;
# ends with one line per suite and one for the whole run.
# The verdict comes from every suite's exit status as well as from its
# PASS/FAIL lines: a suite that exits non-zero, crashes, is missing, prints
# no verdict, stops before its summary, or (tests/run.sh) runs fewer tests
# than it plans fails the run. Exit status 0 only when nothing failed.
set -u
cd "$(dirname "$0")/.." || exit 2
# Descriptors we inherit (CI's pipes) would be inherited by the workloads,
# and nestor refuses what it cannot restore yet: keep only stdio.
for fd in $(ls /proc/$$/fd); do
	[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
done

out=$(mktemp /tmp/nestor-check.XXXXXX)
log=$(mktemp /tmp/nestor-check-suite.XXXXXX)
job_dir=
trap 'rm -rf "$out" "$log" ${job_dir:+"$job_dir"}' EXIT

# fail_run NAME REASON: a verdict line of the harness itself.
fail_run() {
	echo "FAIL $1: $2"
	printf '%s\tFAIL %s: %s\n' "$1" "$1" "$2" >>"$out"
}

# exit_reason RC: how a suite that exited with RC ended.
exit_reason() {
	if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
		echo "killed by signal $(($1 - 128)) ($(kill -l "$(($1 - 128))" 2>/dev/null))"
	else
		echo "exited with status $1"
	fi
}

# A suite's own summary lines, shown once at the end instead.
summary_lines='^[0-9]+ passed, [0-9]+ failed|^SUMMARY |^control \(none\): |^checkpoint/restore: '
# tests/run.sh's lines of the none flavour: a control, counted apart.
control='^(PASS|FAIL|SKIP) [^ ]+ \(none\)'

# suite NAME CMD...: runs CMD, shows its lines (summary lines aside) and keeps
# them, tagged with NAME, in $out; the lines of this run alone are in $log.
# Returns CMD's exit status; a non-zero one, a missing CMD and no verdict
# line at all each add a FAIL line.
suite() {
	local name=$1 rc
	shift
	echo "== $name: ${1#build/tests/}"
	: >"$log"
	if [ ! -x "$1" ]; then
		fail_run "$name" "missing $1 (make check builds it)"
		return 127
	fi
	"$@" 2>&1 | tee "$log" | grep -v -E "$summary_lines"
	rc=${PIPESTATUS[0]}
	sed "s/^/$name	/" "$log" >>"$out"
	if [ "$rc" -ne 0 ]; then
		fail_run "$name" "$(exit_reason "$rc")"
	elif ! grep -qE '^(PASS|SKIP)' "$log"; then
		fail_run "$name" "printed no PASS or SKIP line"
		rc=1
	fi
	return "$rc"
}

# ended NAME: the suite's last line is its summary "N passed, M failed...",
# so it ran to its end (a script stopped half-way prints none).
ended() {
	tail -n 1 "$log" | grep -qE '^[0-9]+ passed, [0-9]+ failed' ||
		fail_run "$1" "stopped before its summary line"
}

# summary_ok NAME: tests/run.sh's "SUMMARY planned=N ran=M passed=P failed=F
# skipped=S" agrees with itself and with the verdict lines it printed.
summary_ok() {
	local line planned ran passed failed skipped lines
	line=$(grep '^SUMMARY ' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		fail_run "$1" "no SUMMARY line"
		return
	fi
	planned=$(sed -n 's/.* planned=\([0-9]*\).*/\1/p' <<<"$line")
	ran=$(sed -n 's/.* ran=\([0-9]*\).*/\1/p' <<<"$line")
	passed=$(sed -n 's/.* passed=\([0-9]*\).*/\1/p' <<<"$line")
	failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")
	skipped=$(sed -n 's/.* skipped=\([0-9]*\).*/\1/p' <<<"$line")
	lines=$(grep -cE '^(PASS|FAIL|SKIP) ' "$log")
	if [ -z "$planned" ] || [ -z "$ran" ] || [ -z "$passed" ] || [ -z "$failed" ] ||
		[ -z "$skipped" ]; then
		fail_run "$1" "malformed summary: $line"
	elif [ "$ran" -ne "$planned" ]; then
		fail_run "$1" "ran $ran of $planned planned tests"
	elif [ $((passed + failed + skipped)) -ne "$ran" ] || [ "$lines" -ne "$ran" ]; then
		fail_run "$1" "summary ($line) disagrees with its $lines verdict lines"
	elif [ "$failed" -gt 0 ] && [ "$(grep -c '^FAIL ' "$log")" -eq 0 ]; then
		fail_run "$1" "summary counts $failed failures but no FAIL line"
	fi
}

# count NAME [GREP-OPTION ERE]: "P passed, F failed[, S skipped]" of the
# lines of suite NAME (those GREP selects, when given); the harness's own
# FAIL lines count.
count() {
	local sel p f s
	sel=$(grep "^$1	" "$out" | cut -f2-)
	[ $# -gt 1 ] && sel=$(grep -E "$2" "$3" <<<"$sel")
	p=$(grep -c '^PASS' <<<"$sel")
	f=$(grep -c '^FAIL' <<<"$sel")
	s=$(grep -c '^SKIP' <<<"$sel")
	if [ "$s" -gt 0 ]; then
		echo "$p passed, $f failed, $s skipped"
	else
		echo "$p passed, $f failed"
	fi
}

nunit=0
for src in tests/unit/*.c; do
	t=build/tests/unit/$(basename "$src" .c)
	suite unit "$t"
	nunit=$((nunit + 1))
done
[ "$nunit" -gt 0 ] || fail_run unit "no unit test sources in tests/unit"
suite zdtm tests/run.sh && summary_ok zdtm
job_dir=$(mktemp -d /tmp/nestor-shell-job.XXXXXX)
if [ -x build/tests/pty/shell_job ]; then
	suite shell_job build/tests/subreaper build/tests/pty/shell_job "$PWD/build/nestor" \
		"$PWD/build/tests/pty/job" "$job_dir"
else
	fail_run shell_job "missing build/tests/pty/shell_job (make check builds it)"
fi
rm -rf "$job_dir"
job_dir=
suite cli tests/cli.sh && ended cli
suite memcg tests/memcg.sh && ended memcg
suite bad_input tests/bad_input.sh && ended bad_input
suite harness tests/harness_test.sh && ended harness
suite fault tests/fault.sh && ended fault
# The structure-aware fuzzer of the restore's validation, for a bounded time
# (FUZZ_SECONDS), seed fixed: a crash, a hang or an accepted inconsistent set is a FAIL.
suite fuzz build/fuzz/restore-fuzz -s 1 -t "${FUZZ_SECONDS:-20}" fuzz/corpus/dumps/*

echo
cut -f2- "$out" | grep '^FAIL' | sed 's/^/  /'
echo "unit: $(count unit)"
echo "control (none): $(count zdtm -e "$control")"
echo "checkpoint/restore: $(count zdtm -v "$control")"
for s in shell_job cli memcg bad_input harness fault fuzz; do
	echo "$s: $(count "$s")"
done
# The totals leave the control out; its failures fail the run all the same.
passed=$(cut -f2- "$out" | grep -vE "$control" | grep -c '^PASS')
failed=$(cut -f2- "$out" | grep -vE "$control" | grep -c '^FAIL')
skipped=$(cut -f2- "$out" | grep -vE "$control" | grep -c '^SKIP')
cfailed=$(cut -f2- "$out" | grep -E "$control" | grep -c '^FAIL')
if [ "$skipped" -gt 0 ]; then
	echo "all but the control: $passed passed, $failed failed, $skipped skipped"
else
	echo "all but the control: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$cfailed" -eq 0 ] && [ "$passed" -gt 0 ]
