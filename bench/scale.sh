#!/bin/bash
# nestor scale benchmark (make bench): the per-task cost of big flat trees.
# A root with N small sleeping children (bench/many.c), N = 1,000 then
# 10,000 (BENCH_SCALE_SIZES), images on a private tmpfs: dump, then restore -d
# (detached, under our subreaper), each restore checked (the root counts its
# children again), the restored tree killed after. Prints the wall time and
# the per-task cost of each, and the ratio per-task(largest)/per-task(smallest):
# linear is 1. Targets: ratio <= 1.2, 1,000 tasks dump <= 0.5 s and restore
# <= 0.5 s. Figures only: nothing here asserts a time.
# Limits: the pids cgroup of this shell (where one applies), kernel.pid_max and
# kernel.threads-max are raised only if the biggest tree would not fit, and
# put back at the end. nestor needs no more descriptors than the
# RLIMIT_NOFILE it can raise itself (the hard limit; no CAP_SYS_RESOURCE).
# Exits 0 when the measurements ran, 1 if nestor failed (or a restored tree
# is incomplete), 2 if the bench cannot run.
# Env: NESTOR (binary, default build/nestor), BENCH_SCALE_SIZES (default
# "1000 10000"), BENCH_SCALE_REPS (runs per size, default 1; median).
# shellcheck disable=SC2317 # functions called through wait_until and trap
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
nestor=${NESTOR:-$build/nestor}
sizes=${BENCH_SCALE_SIZES:-1000 10000}
reps=${BENCH_SCALE_REPS:-1}

# shellcheck source=tests/lib/common.sh
. "$root/tests/lib/common.sh"
wait_step=0.05
if [ "${NESTOR_SUBREAPED:-}" != "$PPID" ]; then
	make -s -C "$root" -f tests/tests.mk build/tests/subreaper || exit 2
fi
subreap "$build/tests/subreaper" scale "$0" "$@"
reaper=$PPID
renice -n -19 -p $$ >/dev/null 2>&1 || true

die() {
	echo "scale: $*" >&2
	exit 2
}

mkdir -p "$build/bench" || die "cannot create $build/bench"
for prog in timeit many; do
	src=$root/bench/$prog.c bin=$build/bench/$prog
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		cc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$bin" "$src" -lpthread ||
			die "cannot build $bin"
	fi
done
[ -x "$nestor" ] || die "no nestor binary at $nestor: make all"
timeit=$build/bench/timeit

top=$(mktemp -d /tmp/nestor-scale.XXXXXX) || die "mktemp failed"
img=$top/img
wd=$top/wd
pid=
mounted=
restores=() # "FILE VALUE" pairs: limits to put back

# The session of our workload: the root and its children (restored or not).
session_gone() { ! pgrep -s "$1" >/dev/null; }

kill_session() {
	[ -n "$1" ] || return 0
	pkill -KILL -s "$1" 2>/dev/null
	wait_until 120 session_gone "$1"
}

cleanup() {
	local i
	kill_session "$pid"
	pid=
	[ -n "$mounted" ] && { umount "$img" || umount -l "$img"; }
	rm -rf "$top"
	for ((i = ${#restores[@]} - 1; i >= 0; i--)); do
		echo "${restores[i]#* }" >"${restores[i]%% *}" 2>/dev/null ||
			echo "scale: cannot put back ${restores[i]%% *}" >&2
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# raise FILE MIN: the limit in FILE at least MIN ("max" counts as enough), noted to put back.
raise() {
	local cur
	read -r cur <"$1" 2>/dev/null || return 0
	[ "$cur" = max ] && return 0
	[ "$cur" -ge "$2" ] && return 0
	restores+=("$1 $cur")
	echo "$2" >"$1" || die "cannot raise $1 from $cur to $2"
	echo "   raised $1 from $cur to $2 (put back at the end)"
}

# The pids cgroup of this shell, v1 or v2: its pids.max file, if it has one.
pids_max_file() {
	local line path
	while IFS= read -r line; do
		case $line in
		*:pids:*) path=/sys/fs/cgroup/pids${line#*:pids:} ;;
		0::*) [ -z "${path:-}" ] && for d in /sys/fs/cgroup/unified /sys/fs/cgroup; do
			[ -e "$d${line#0::}/pids.max" ] && path=$d${line#0::} && break
		done ;;
		esac
	done </proc/self/cgroup
	[ -n "${path:-}" ] && [ -e "$path/pids.max" ] && echo "$path/pids.max"
}

fail() {
	echo "scale: FAILED: $1" >&2
	[ -s "$top/nestor.err" ] && tail -n 5 "$top/nestor.err" | sed 's/^/    nestor: /' >&2
	for f in "$img"/*.log; do
		[ -f "$f" ] && grep -E 'error|took' "$f" | tail -n 3 | sed "s/^/    ${f##*/}: /" >&2
	done
	exit 1
}

spawn() {
	rm -f "$wd/ready" "$wd/result"
	pid=$(
		(
			close_fds
			cd "$wd" || exit 1
			exec setsid "$@" </dev/null >>"$wd/out.log" 2>&1
		) &
		echo $!
	)
}

nestor_timed() {
	local ns=$1
	shift
	timeout -k 5 300 "$timeit" "$ns" "$nestor" "$@" </dev/null >"$top/nestor.err" 2>&1
}

stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		printf "%.0f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# one N: a tree of N children dumped and restored; times into $top/{dump,restore}_N.
one() {
	local n=$1 verdict t
	t=$((n / 100 + 30))
	spawn "$build/bench/many" children "$n" "$wd"
	wait_until "$t" test -e "$wd/ready" || fail "many children $n ($pid) not ready after ${t}s"
	rm -rf "$img/d" && mkdir -p "$img/d"
	nestor_timed "$top/ns" dump -t "$pid" -D "$img/d" -o dump.log ||
		fail "nestor dump of $n children exited $?"
	cat "$top/ns" >>"$top/dump_$n"
	wait_until "$t" session_gone "$pid" || fail "the tree of $pid is still there after its dump"
	rm -f "$wd/pidfile"
	nestor_timed "$top/ns" restore -D "$img/d" -d --pidfile "$wd/pidfile" -o restore.log ||
		fail "nestor restore of $n children exited $?"
	cat "$top/ns" >>"$top/restore_$n"
	[ "$(cat "$wd/pidfile" 2>/dev/null)" = "$pid" ] || fail "restore: pidfile is not $pid"
	kill -USR1 "$pid"
	wait_until "$t" test -e "$wd/result" || fail "restored root $pid gives no result"
	read -r verdict <"$wd/result"
	[ "$verdict" = "OK $n" ] || fail "restored tree of $n children: $verdict"
	kill_session "$pid" || fail "the restored tree of $pid does not die"
	pid=
	printf '   %6d tasks: dump %7.3f s   restore -d %7.3f s   (%s)\n' $((n + 1)) \
		"$(tail -n 1 "$top/dump_$n")e-9" "$(tail -n 1 "$top/restore_$n")e-9" "$verdict"
}

mkdir -p "$img" "$wd" || die "cannot create $top"
mount -t tmpfs -o size=4g nestor-scale "$img" || die "cannot mount a tmpfs on $img"
mounted=1

biggest=0 smallest=
for n in $sizes; do
	[ "$n" -gt "$biggest" ] && biggest=$n
	[ -z "$smallest" ] || [ "$n" -lt "$smallest" ] && smallest=$n
done
echo "nestor scale bench: $(uname -r), $(nproc) cpus, flat trees of $sizes children" \
	"(+ the root), $reps run(s) each, images on a private tmpfs"
# Room for the dumped tree and the restored one, with the machine's own tasks beside.
need=$((biggest * 2 + 2000))
f=$(pids_max_file) && raise "$f" "$need"
raise /proc/sys/kernel/threads-max "$need"
# pid_max: the tree, and room for the rest of the machine (other tests beside us).
raise /proc/sys/kernel/pid_max $((biggest + 8192))

for n in $sizes; do
	: >"$top/dump_$n" && : >"$top/restore_$n"
	for ((i = 1; i <= reps; i++)); do
		one "$n"
	done
done
echo

line=$(printf '%86s' '' | tr ' ' -)
printf '%-24s %12s %14s %12s %14s\n' "tasks (median of $reps)" "dump, s" "per task, us" \
	"restore, s" "per task, us"
echo "$line"
for n in $sizes; do
	d=$(stats "$top/dump_$n") r=$(stats "$top/restore_$n")
	echo "$n $d $r" >>"$top/table"
	awk -v n="$n" -v d="$d" -v r="$r" 'BEGIN {
		t = n + 1
		printf "%-24d %12.3f %14.1f %12.3f %14.1f\n", t, d / 1e9, d / 1e3 / t, r / 1e9, r / 1e3 / t }'
done
echo "$line"
awk -v s="$smallest" -v b="$biggest" '
{ d[$1] = $2 / ($1 + 1); r[$1] = $3 / ($1 + 1); dt[$1] = $2; rt[$1] = $3 }
function verdict(ok) { return ok ? "ok" : "MISSED" }
END {
	if (s != b) {
		rd = d[b] / d[s]; rr = r[b] / r[s]
		printf "%-44s %8.2f  target <=1.2  %s\n", "per task " b " / per task " s ", dump", rd, verdict(rd <= 1.2)
		printf "%-44s %8.2f  target <=1.2  %s\n", "per task " b " / per task " s ", restore", rr, verdict(rr <= 1.2)
	}
	if (1000 in dt) {
		printf "%-44s %8.3f  target <=0.5  %s\n", "1000 children, dump, s", dt[1000] / 1e9, verdict(dt[1000] <= 0.5e9)
		printf "%-44s %8.3f  target <=0.5  %s\n", "1000 children, restore -d, s", rt[1000] / 1e9, verdict(rt[1000] <= 0.5e9)
	}
}' "$top/table"
echo "$line"
echo "times: the wall time of nestor from start to exit (a dump: the tree killed; a"
echo "restore -d: the tree running again). per task: time / (children + 1)."
exit 0
