#!/bin/bash
# The harness's own test: tests/check.sh, run in a fake tree of suites that
# each behave well except one, must give FAIL (exit non-zero, a FAIL line)
# for a unit binary that crashes or exits non-zero without a FAIL line, a
# missing unit binary, a tests/run.sh that exits 2 or runs fewer tests than
# it plans, a suite that stops before its summary; and pass the all-good
# tree, counting the none flavour (a control) apart from checkpoint/restore.
# Prints PASS/FAIL lines and a summary.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/nestor-harness.XXXXXX)
trap '[ -n "${HARNESS_KEEP:-}" ] || rm -rf "$tmp"' EXIT
passed=0 failed=0

# A crashing unit binary, a real one: a NULL write after a PASS line.
cc -x c -o "$tmp/crash" - <<'EOF' || { echo "FAIL harness: cannot build the crasher"; exit 1; }
#include <stdio.h>
int main(void)
{
	printf("PASS crash.c: before the crash\n");
	fflush(stdout);
	*(volatile int *)0 = 1;
	return 0;
}
EOF

# script PATH BODY: an executable bash script.
script() {
	mkdir -p "$(dirname "$1")"
	printf '#!/bin/bash\n%s\n' "$2" >"$1"
	chmod +x "$1"
}

# fake DIR: a tree where every suite passes.
fake() {
	local d=$1
	mkdir -p "$d/tests/unit" "$d/build/tests/unit" "$d/build/tests/pty"
	cp "$root/tests/check.sh" "$d/tests/"
	[ -d "$root/tests/lib" ] && cp -r "$root/tests/lib" "$d/tests/"
	: >"$d/tests/unit/a_test.c"
	: >"$d/tests/unit/b_test.c"
	script "$d/build/tests/unit/a_test" 'echo "PASS a.c: one"; echo "1 passed, 0 failed"'
	script "$d/build/tests/unit/b_test" 'echo "PASS b.c: one"'
	script "$d/build/tests/subreaper" 'exec "$@"'
	script "$d/build/tests/pty/shell_job" 'echo "PASS shell_job (restore)"'
	script "$d/build/nestor" 'exit 0'
	script "$d/tests/run.sh" 'echo "PASS t (none)"; echo "PASS t (restore)"; echo "SKIP u (none): x"
echo "PASS u (restore)"
echo "3 passed, 0 failed, 1 skipped"
echo "SUMMARY planned=4 ran=4 passed=3 failed=0 skipped=1"'
	script "$d/tests/cli.sh" 'echo "PASS cli: x"; echo "1 passed, 0 failed"'
	script "$d/tests/bad_input.sh" 'echo "PASS bad: x"; echo "1 passed, 0 failed"'
	script "$d/tests/memcg.sh" 'echo "PASS memcg: x"; echo "1 passed, 0 failed"'
	script "$d/tests/fault.sh" 'echo "PASS fault: x"; echo "1 passed, 0 failed"'
	script "$d/build/fuzz/restore-fuzz" 'echo "PASS restore-fuzz: x"'
	script "$d/tests/harness_test.sh" 'echo "PASS harness: x"; echo "1 passed, 0 failed"'
}

# expect NAME pass|fail [ERE]: check.sh in $tmp/NAME passes, printing a line
# matching ERE, or fails, printing a FAIL line matching ERE.
expect() {
	local name=$1 want=$2 re=${3:-.} d=$tmp/$1 rc o
	o=$("$d/tests/check.sh" 2>&1)
	rc=$?
	if [ "$want" = pass ] && [ $rc -eq 0 ] && grep -qE "$re" <<<"$o"; then
		ok "$name"
	elif [ "$want" = fail ] && [ $rc -ne 0 ] && grep -E '^ *FAIL' <<<"$o" | grep -qE "$re"; then
		ok "$name"
	else
		echo "FAIL harness: $name: check.sh exited $rc, wanted $want (/$re/):"
		sed 's/^/  | /' <<<"$o" | tail -n 12
		failed=$((failed + 1))
	fi
}
ok() {
	echo "PASS harness: $1"
	passed=$((passed + 1))
}

# case NAME: a fresh fake tree $tmp/NAME, in $d, for one change.
case_dir() {
	d=$tmp/$1
	fake "$d"
}

case_dir all-good
expect all-good pass

# The none flavour is a control: counted apart, out of the totals.
expect all-good pass '^control \(none\): 1 passed, 0 failed, 1 skipped$'
expect all-good pass '^checkpoint/restore: 2 passed, 0 failed$'
expect all-good pass '^all but the control: 11 passed, 0 failed$'

case_dir control-fails
script "$d/tests/run.sh" 'echo "FAIL t (none): x"; echo "PASS t (restore)"
echo "SUMMARY planned=2 ran=2 passed=1 failed=1 skipped=0"; exit 0'
expect control-fails fail 'FAIL t \(none\): x'

case_dir unit-crash
cp "$tmp/crash" "$d/build/tests/unit/b_test"
expect unit-crash fail 'unit: killed by signal 11'

case_dir unit-exit
script "$d/build/tests/unit/b_test" 'echo "PASS b.c: one"; exit 3'
expect unit-exit fail 'unit: exited with status 3'

case_dir unit-missing
rm "$d/build/tests/unit/b_test"
expect unit-missing fail 'unit: missing build/tests/unit/b_test'

case_dir unit-silent
script "$d/build/tests/unit/b_test" 'exit 0'
expect unit-silent fail 'unit: printed no PASS'

case_dir run-exit-2
script "$d/tests/run.sh" 'echo "PASS t (none)"; echo "run.sh: no nestor binary" >&2; exit 2'
expect run-exit-2 fail 'zdtm: exited with status 2'

case_dir run-short
script "$d/tests/run.sh" 'echo "PASS t (none)"; echo "1 passed, 0 failed"
echo "SUMMARY planned=4 ran=1 passed=1 failed=0 skipped=0"'
expect run-short fail 'zdtm: ran 1 of 4'

case_dir run-no-summary
script "$d/tests/run.sh" 'echo "PASS t (none)"; echo "1 passed, 0 failed"'
expect run-no-summary fail 'zdtm: no SUMMARY'

case_dir run-lines-short
script "$d/tests/run.sh" 'echo "PASS t (none)"; echo "2 passed, 0 failed"
echo "SUMMARY planned=2 ran=2 passed=2 failed=0 skipped=0"'
expect run-lines-short fail 'zdtm: summary .* disagrees'

case_dir run-missing
rm "$d/tests/run.sh"
expect run-missing fail 'zdtm: missing tests/run.sh'

case_dir bad-stops
script "$d/tests/bad_input.sh" 'echo "PASS bad: x"'
expect bad-stops fail 'bad_input: stopped before its summary'

case_dir shell-job-missing
rm "$d/build/tests/pty/shell_job"
expect shell-job-missing fail 'shell_job: missing'

case_dir cli-fails
script "$d/tests/cli.sh" 'echo "PASS cli: x"; echo "FAIL cli: y"; echo "1 passed, 1 failed"; exit 1'
expect cli-fails fail 'FAIL cli: y'

# ---- the whole-state snapshot (tests/snapshot.c, tests/lib/snapshot.sh) ----
snapshot_bin=$root/build/tests/snapshot
# shellcheck source=tests/lib/snapshot.sh
. "$root/tests/lib/snapshot.sh"
snap_x=() snap_allow=()
# shellcheck source=tests/lib/common.sh
. "$root/tests/lib/common.sh"
sleeper() { # sleeper REDIRECTIONS: a sleep with these descriptors only, in $sp
	(
		close_fds
		eval "exec $1"
		exec sleep 30
	) </dev/null >/dev/null 2>&1 &
	sp=$!
	sps+=("$sp")
	sleep 0.2
}
sps=()
# The sleeps and their process substitutions' sleeps, children first.
kill_sleepers() {
	local p c
	for p in "${sps[@]}"; do
		for c in $(cat "/proc/$p/task/$p/children" 2>/dev/null); do
			kill "$c" 2>/dev/null
		done
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap 'kill_sleepers; [ -n "${HARNESS_KEEP:-}" ] || rm -rf "$tmp"' EXIT
links() { grep -E "^$(head -n 1 "$1" | cut -d' ' -f1) fd\.[34]\.link " "$1" | cut -d' ' -f2-; }
if [ ! -x "$snapshot_bin" ]; then
	echo "FAIL harness: no $snapshot_bin (make tests-bin)"
	failed=$((failed + 1))
else
	# A change of state between two snapshots is reported by key.
	sleeper ""
	snap_take "$sp" "$tmp/s1"
	prlimit --pid "$sp" --nofile=100:200
	snap_take "$sp" "$tmp/s2"
	if ! snap_compare "$tmp/s1" "$tmp/s2" none restore "$tmp/d" &&
		grep -q "^$sp limits.Max_open_files: before '.*', after '100 .*200 .*'" "$tmp/d"; then
		ok "snapshot: a changed limit is reported"
	else
		echo "FAIL harness: snapshot: the changed limit went unseen: $(head -n 3 "$tmp/d")"
		failed=$((failed + 1))
	fi
	# ... and the same snapshot twice is no difference.
	snap_take "$sp" "$tmp/s3"
	if snap_compare "$tmp/s2" "$tmp/s3" none restore "$tmp/d"; then
		ok "snapshot: an unchanged task compares equal"
	else
		echo "FAIL harness: snapshot: an unchanged task differs: $(head -n 3 "$tmp/d")"
		failed=$((failed + 1))
	fi
	# Pipe inodes are mapped, not compared: two pipes are #1 and #2 whatever
	# their numbers, one pipe twice is #1 twice.
	sleeper "3< <(exec sleep 30) 4< <(exec sleep 30)"
	snap_take "$sp" "$tmp/two"
	sleeper "3< <(exec sleep 30) 4< <(exec sleep 30)"
	snap_take "$sp" "$tmp/two-again"
	sleeper "3< <(exec sleep 30) 4<&3"
	snap_take "$sp" "$tmp/one"
	if [ "$(links "$tmp/two" | tr '\n' ' ')" = "fd.3.link pipe:[#1] fd.4.link pipe:[#2] " ] &&
		[ "$(links "$tmp/two")" = "$(links "$tmp/two-again")" ] &&
		[ "$(links "$tmp/one" | tr '\n' ' ')" = "fd.3.link pipe:[#1] fd.4.link pipe:[#1] " ]; then
		ok "snapshot: pipe inodes compared as a bijection"
	else
		echo "FAIL harness: snapshot: pipe labels: $(links "$tmp/two" | tr '\n' ' ') / $(links "$tmp/one" | tr '\n' ' ')"
		failed=$((failed + 1))
	fi
	# A known difference is excused for its test only.
	printf '%s\n' "$sp fd.3.link pipe:[#1]" >"$tmp/k1"
	printf '%s\n' "$sp fd.3.link pipe:[#2]" >"$tmp/k2"
	if ! snap_compare "$tmp/k1" "$tmp/k2" some_test restore "$tmp/d" && [ -s "$tmp/d" ]; then
		ok "snapshot: a relabelled pipe is a difference"
	else
		echo "FAIL harness: snapshot: a relabelled pipe went unseen"
		failed=$((failed + 1))
	fi
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
