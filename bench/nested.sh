#!/bin/bash
# nestor benchmark, nested containers (make bench runs it): a tree of 30
# tasks in three levels, each level a user namespace and a pid namespace it
# owns (bench/nested.c ns), dumped and restored -d; beside it, in the same
# rounds, the same 30 tasks without namespaces (nested flat). BENCH_REPS
# rounds (default 5), the two shapes alternating, images on a private
# tmpfs. Prints the medians of dump and restore wall times of each shape
# and the median of the per-round ratios ns/flat, against the target:
# namespaces add at most 2x. Each restore is checked: the pidfile names the
# root, and all 30 tasks run again.
# Env: NESTOR (binary, default build/nestor), BENCH_REPS.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
nestor=${NESTOR:-$build/nestor}
reps=${BENCH_REPS:-5}
ntasks=30

# shellcheck source=tests/lib/common.sh
. "$root/tests/lib/common.sh"
wait_step=0.01
if [ "${NESTOR_SUBREAPED:-}" != "$PPID" ]; then
	make -s -C "$root" -f tests/tests.mk build/tests/subreaper || exit 2
fi
subreap "$build/tests/subreaper" bench "$0" "$@"

die() {
	echo "bench-nested: $*" >&2
	exit 2
}

mkdir -p "$build/bench" || die "cannot create $build/bench"
for prog in timeit nested; do
	src=$root/bench/$prog.c bin=$build/bench/$prog
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		cc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$bin" "$src" ||
			die "cannot build $bin"
	fi
done
[ -x "$nestor" ] || die "no nestor binary at $nestor: make all"

top=$(mktemp -d /tmp/nestor-bench-nested.XXXXXX) || die "mktemp failed"
img=$top/img wd=$top/wd pid= mounted=

kill_tree() {
	[ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null
	[ -n "$pid" ] && wait_until 10 reaped "$pid"
	pid=
}
cleanup() {
	kill_tree
	[ -n "$mounted" ] && { umount "$img" || umount -l "$img"; }
	rm -rf "$top"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$img" "$wd" || die "cannot create $top"
mount -t tmpfs -o size=256m nestor-bench-nested "$img" || die "cannot mount a tmpfs on $img"
mounted=1

fail() {
	echo "bench-nested: FAILED: $1" >&2
	[ -s "$top/nestor.err" ] && tail -n 5 "$top/nestor.err" | sed 's/^/    nestor: /' >&2
	exit 1
}

# The tasks of the session of $pid (all 30 are in it).
count_tree() {
	local n=0 d s
	for d in /proc/[0-9]*; do
		read -r s 2>/dev/null <"$d/stat" || continue
		s=${s##*) }
		set -- $s
		[ "$4" = "$pid" ] && [ "$1" != Z ] && n=$((n + 1))
	done
	echo "$n"
}

# round SHAPE: one dump and one restore of a fresh tree; times into $top/SHAPE.{dump,restore}.
round() {
	local shape=$1
	rm -f "$wd/ready"
	pid=$(
		(
			close_fds
			cd "$wd" || exit 1
			exec setsid "$build/bench/nested" "$shape" </dev/null >>"$wd/out.log" 2>&1
		) &
		echo $!
	)
	wait_until 10 test -e "$wd/ready" || fail "$shape: the tree did not start"
	[ "$(count_tree)" = $ntasks ] || fail "$shape: $(count_tree) tasks, expected $ntasks"
	rm -rf "$img/d" && mkdir "$img/d"
	timeout -k 5 120 "$build/bench/timeit" "$top/ns" "$nestor" dump -t "$pid" -D "$img/d" \
		-o dump.log </dev/null >"$top/nestor.err" 2>&1 || fail "$shape: dump exited $?"
	cat "$top/ns" >>"$top/$shape.dump"
	wait_until 10 reaped "$pid" || fail "$shape: task $pid still there after the dump"
	rm -f "$wd/pidfile"
	timeout -k 5 120 "$build/bench/timeit" "$top/ns" "$nestor" restore -D "$img/d" -d \
		--pidfile "$wd/pidfile" -o restore.log </dev/null >"$top/nestor.err" 2>&1 ||
		fail "$shape: restore exited $?"
	cat "$top/ns" >>"$top/$shape.restore"
	[ "$(cat "$wd/pidfile" 2>/dev/null)" = "$pid" ] || fail "$shape: the pidfile names no root"
	[ "$(count_tree)" = $ntasks ] || fail "$shape: $(count_tree) tasks after restore"
	kill_tree
}

median() {
	sort -g | awk '{ v[NR] = $1 } END {
		printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

for r in $(seq "$reps"); do
	round flat
	round ns
done

echo "nested containers: $ntasks tasks in 3 levels (user + pid namespace each) vs the same" \
	"tree without namespaces, $reps rounds, wall ms (median)"
for what in dump restore; do
	f=$(awk '{ print $1 / 1e6 }' "$top/flat.$what" | median)
	n=$(awk '{ print $1 / 1e6 }' "$top/ns.$what" | median)
	ratio=$(paste "$top/ns.$what" "$top/flat.$what" | awk '{ print $1 / $2 }' | median)
	verdict=$(awk -v x="$ratio" 'BEGIN { print x <= 2 ? "ok" : "ABOVE TARGET" }')
	printf '  %-8s flat %8.1f ms   namespaces %8.1f ms   ratio %5.2fx (target <= 2x: %s)\n' \
		"$what" "$f" "$n" "$ratio" "$verdict"
done
