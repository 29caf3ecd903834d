#!/bin/bash
# nestor benchmark, memory shared copy-on-write (make bench runs it after
# run.sh): a parent that wrote BENCH_COW_MIB MiB (default 256) of private
# anonymous memory and forked BENCH_COW_N children (default 4), which share
# it, is dumped and restored -d, images on a private tmpfs; BENCH_REPS runs
# (default 3), median and min. Prints the restore's wall time, the image
# size and the memory the restored tree takes (the area's Pss summed over
# its tasks, against one copy), and the same for the parent alone (the
# fill of one copy: what a shared restore should cost), and for the
# sibling shape: the parent rewrites its copy after the forks, so the
# children share the old pages between themselves only (two copies at
# best: the children's and the parent's). Each restore is
# checked: every task runs and reads its memory intact. NESTOR=an older
# nestor gives the figures without the sharing (the tmpfs holds a copy each).
# Env: NESTOR (binary, default build/nestor), BENCH_COW_MIB, BENCH_COW_N, BENCH_REPS.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
nestor=${NESTOR:-$build/nestor}
mib=${BENCH_COW_MIB:-256}
nkids=${BENCH_COW_N:-4}
reps=${BENCH_REPS:-3}

# shellcheck source=tests/lib/common.sh
. "$root/tests/lib/common.sh"
wait_step=0.01
if [ "${NESTOR_SUBREAPED:-}" != "$PPID" ]; then
	make -s -C "$root" -f tests/tests.mk build/tests/subreaper || exit 2
fi
subreap "$build/tests/subreaper" bench "$0" "$@"

die() {
	echo "bench-cow: $*" >&2
	exit 2
}

mkdir -p "$build/bench" || die "cannot create $build/bench"
for prog in timeit cowhog; do
	src=$root/bench/$prog.c bin=$build/bench/$prog
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		cc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$bin" "$src" ||
			die "cannot build $bin"
	fi
done
[ -x "$nestor" ] || die "no nestor binary at $nestor: make all"

top=$(mktemp -d /tmp/nestor-bench-cow.XXXXXX) || die "mktemp failed"
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
mount -t tmpfs -o size=$((mib * (nkids + 2) + 256))m nestor-bench-cow "$img" || die "cannot mount a tmpfs"
mounted=1

fail() {
	echo "bench-cow: FAILED: $1" >&2
	tail -n 5 "$top/nestor.err" 2>/dev/null | sed 's/^/    nestor: /' >&2
	exit 1
}

# Pss of the tree of $pid (its group), kB.
tree_pss() {
	local p sum=0 kb
	for p in $(pgrep -g "$pid"); do
		kb=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		sum=$((sum + ${kb:-0}))
	done
	echo "$sum"
}

checked_in() {
	[ "$(find "$wd" -name 'result.*' ! -name '*.tmp' | wc -l)" -ge "$1" ]
}

# one N [rewrite]: spawn, dump, restore; appends "ns pss_kB image_bytes" to
# $top/r.N (r.sN for the sibling shape).
one() {
	local n=$1 shape=${2:-} ns
	rm -rf "$wd"/* "$img/d"
	pid=$(
		(
			close_fds
			cd "$wd" || exit 1
			exec setsid "$build/bench/cowhog" "$wd" "$mib" "$n" $shape </dev/null >>"$wd/out.log" 2>&1
		) &
		echo $!
	)
	wait_until 60 test -e "$wd/ready" || fail "cowhog not ready"
	mkdir -p "$img/d"
	timeout -k 5 120 "$nestor" dump -t "$pid" -D "$img/d" -o dump.log </dev/null \
		>"$top/nestor.err" 2>&1 || fail "dump exited $?"
	wait_until 30 reaped "$pid" || fail "task $pid still there after the dump"
	timeout -k 5 120 "$build/bench/timeit" "$top/ns" "$nestor" restore -D "$img/d" -d \
		-o restore.log </dev/null >"$top/nestor.err" 2>&1 || fail "restore exited $?"
	ns=$(cat "$top/ns")
	kill -USR1 "$pid"
	wait_until 30 checked_in $((n + 1)) ||
		fail "restored tree: $(ls "$wd"/result.* 2>/dev/null | wc -l) of $((n + 1)) tasks checked in"
	grep -L '^OK' "$wd"/result.* | grep -q . && fail "restored memory: $(cat "$wd"/result.*)"
	echo "$ns $(tree_pss) $(find "$img/d" -type f ! -name '*.log' -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }')" >>"$top/r.${shape:+s}$n"
	kill_tree
}

for ((i = 0; i < reps; i++)); do
	one "$nkids"
	one "$nkids" rewrite
	one 0
done
med() { sort -n -k"$2" "$1" | awk -v k="$2" '{ v[NR] = $k } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1] }'; }
read -r tn tnmin < <(med "$top/r.$nkids" 1)
read -r t0 t0min < <(med "$top/r.0" 1)
read -r pn _ < <(med "$top/r.$nkids" 2)
read -r sz _ < <(med "$top/r.$nkids" 3)
read -r ts tsmin < <(med "$top/r.s$nkids" 1)
read -r ps _ < <(med "$top/r.s$nkids" 2)
read -r szs _ < <(med "$top/r.s$nkids" 3)
awk -v ts="$ts" -v tsmin="$tsmin" -v ps="$ps" -v szs="$szs" -v tn="$tn" -v tnmin="$tnmin" -v t0="$t0" -v t0min="$t0min" -v pn="$pn" -v sz="$sz" \
	-v mib="$mib" -v n="$nkids" -v reps="$reps" 'BEGIN {
	printf "copy-on-write: a parent with %d MiB and %d children sharing it (median of %d)\n", mib, n, reps
	printf "  restore -d, s:             %7.3f (%.3f)   parent alone: %7.3f (%.3f)\n", tn / 1e9, tnmin / 1e9, t0 / 1e9, t0min / 1e9
	printf "  tree memory after restore: %7.1f MiB Pss   one copy: %d MiB, a copy each: %d MiB\n", pn / 1024, mib, mib * (n + 1)
	printf "  image size:                %7.1f MiB\n", sz / 1048576
	printf "siblings: the parent rewrote all of its copy after the forks (median of %d)\n", reps
	printf "  restore -d, s:             %7.3f (%.3f)\n", ts / 1e9, tsmin / 1e9
	printf "  tree memory after restore: %7.1f MiB Pss   two copies: %d MiB, a copy each: %d MiB\n", ps / 1024, 2 * mib, mib * (n + 1)
	printf "  image size:                %7.1f MiB\n", szs / 1048576
}'
exit 0
