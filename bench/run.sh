#!/bin/bash
# nestor benchmark (make bench): prints figures next to references measured
# in the same run on the same machine; asserts nothing about speed.
#  1. big memory: dump and restore -d of a process that touched BENCH_MIB MiB
#     (default 1024) of anonymous memory, images on a private tmpfs, against
#     the floors of DESIGN.md "fresh pages" (writing the data into a fresh
#     tmpfs file; filling fresh anonymous memory), and the image size against
#     the touched memory. Each restore is checked: the task runs and its
#     memory is intact. BENCH_REPS runs (default 3), median and min. Times are
#     what a user sees: the wall time of `nestor dump` from its start until
#     it exits (the task killed included: nestor returns once SIGKILL is
#     queued, the kernel frees the task's memory after; each run line also
#     says how much later the task was reaped, not counted), of `nestor
#     restore -d` until it exits (the task running). Two ways, floors and nestor alike:
#       cold  each timed run comes after BENCH_SETTLE_S (default 3) seconds
#             of sleep, so that every page freed before is the host's again
#             (the balloon's free page reporting, bench/floor.c): fresh pages
#             cost a host fault, as for a user whose machine freed nothing
#             just before. The target ratios are for these figures.
#       warm  each timed run comes right after a warm-up that cycles fresh
#             memory: pages the host still backs, the software compared.
#     The floors of a round are measured just before nestor's runs of it;
#     a ratio is the median of the rounds' ratios (floor time / nestor time).
#  2. a trivial sleeping process: dump and restore -d wall time, median of
#     BENCH_SMALL_REPS runs (default 10).
# Exits 0 when the measurements ran, even if targets are missed; 1 if nestor
# failed (or a restored task is dead or corrupt); 2 if the bench cannot run.
# The bench runs at nice -19 (it is root): test runs beside it on this small
# machine then disturb its figures less, the floors' as much as nestor's.
# Env: NESTOR (binary, default build/nestor), BENCH_MIB, BENCH_REPS,
# BENCH_SMALL_REPS, BENCH_SETTLE_S, BENCH_MODES (default "cold warm").
# shellcheck disable=SC2317 # functions called through wait_until and trap
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
nestor=${NESTOR:-$build/nestor}
mib=${BENCH_MIB:-1024}
reps=${BENCH_REPS:-3}
small_reps=${BENCH_SMALL_REPS:-10}
settle=${BENCH_SETTLE_S:-3}
modes=${BENCH_MODES:-cold warm}
mode=warm
wait_s=30

# shellcheck source=tests/lib/common.sh
. "$root/tests/lib/common.sh"
wait_step=0.01
# Pid 1 here does not reap orphans: dumped and restored tasks need our own reaper.
if [ "${NESTOR_SUBREAPED:-}" != "$PPID" ]; then
	make -s -C "$root" -f tests/tests.mk build/tests/subreaper || exit 2
fi
subreap "$build/tests/subreaper" bench "$0" "$@"
reaper=$PPID
renice -n -19 -p $$ >/dev/null 2>&1 || true

die() {
	echo "bench: $*" >&2
	exit 2
}

# The helpers are built here so that the top Makefile needs no bench rules.
mkdir -p "$build/bench" || die "cannot create $build/bench"
for prog in timeit memhog floor many; do
	src=$root/bench/$prog.c bin=$build/bench/$prog
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		cc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$bin" "$src" ||
			die "cannot build $bin"
	fi
done
[ -x "$nestor" ] || die "no nestor binary at $nestor: make all"
timeit=$build/bench/timeit

top=$(mktemp -d /tmp/nestor-bench.XXXXXX) || die "mktemp failed"
img=$top/img  # a tmpfs of our own: /tmp and /dev/shm may be disk or overlay
wd=$top/wd    # the workloads' files: ready, result, logs
pid=
mounted=
reaped_ms=0

# A task we may kill: alive, and a child of our reaper (spawned or restored).
mine() {
	alive "$1" && [ "$(parent_of "$1")" = "$reaper" ]
}

# Blocked in nanosleep or clock_nanosleep (x86_64 syscalls 35 and 230).
asleep() {
	local nr rest
	read -r nr rest 2>/dev/null <"/proc/$1/syscall" || return 1
	[ "$nr" = 230 ] || [ "$nr" = 35 ]
}

kill_workload() {
	if [ -n "$pid" ] && mine "$pid"; then
		kill -KILL "$pid"
		wait_until 10 reaped "$pid"
	fi
	pid=
}

cleanup() {
	kill_workload
	[ -n "$mounted" ] && { umount "$img" || umount -l "$img"; }
	rm -rf "$top"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$img" "$wd" || die "cannot create $top"
mount -t tmpfs -o size=$((mib * 3 + 512))m nestor-bench "$img" || die "cannot mount a tmpfs on $img"
mounted=1

# fail WHAT [IMGDIR]: nestor or its restored task let us down; nothing to measure.
fail() {
	local f
	echo "bench: FAILED: $1" >&2
	[ -s "$top/nestor.err" ] && tail -n 5 "$top/nestor.err" | sed 's/^/    nestor: /' >&2
	for f in "${2:-/nonexistent}"/*.log; do
		[ -f "$f" ] && tail -n 5 "$f" | sed "s/^/    ${f##*/}: /" >&2
	done
	exit 1
}

# spawn CMD...: starts CMD as a session leader with stdio on files and no
# other descriptor (the shell leaks a pipe), a child of the reaper; sets pid.
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

# nestor_timed NSFILE ARGS...: one nestor run, wall time into NSFILE.
nestor_timed() {
	local ns=$1
	shift
	timeout -k 5 120 "$timeit" "$ns" "$nestor" "$@" </dev/null >"$top/nestor.err" 2>&1
}

# Before a timed big run: pages the host still backs (warm) or none (cold).
prepare() {
	if [ "$mode" = cold ]; then
		sleep "$settle"
	else
		"$build/bench/floor" warm $((mib + mib / 2)) || die "floor warm failed"
	fi
}

# dump_timed DIR big|small: dumps $pid into DIR, waits until the task is reaped.
dump_timed() {
	rm -rf "$1" && mkdir -p "$1"
	[ "$2" = big ] && prepare
	nestor_timed "$top/ns" dump -t "$pid" -D "$1" -o dump.log ||
		fail "nestor dump of $pid exited $?" "$1"
	local t0
	t0=$(date +%s%N)
	wait_until "$wait_s" reaped "$pid" || fail "task $pid still there after dump" "$1"
	reaped_ms=$((($(date +%s%N) - t0) / 1000000))
}

# restore_timed DIR big|small: restores $pid from DIR and checks that it runs.
restore_timed() {
	rm -f "$wd/pidfile"
	[ "$2" = big ] && prepare
	nestor_timed "$top/ns" restore -D "$1" -d --pidfile "$wd/pidfile" -o restore.log ||
		fail "nestor restore -D $1 exited $?" "$1"
	[ "$(cat "$wd/pidfile" 2>/dev/null)" = "$pid" ] ||
		fail "restore: pidfile says '$(cat "$wd/pidfile" 2>/dev/null)', expected $pid" "$1"
	mine "$pid" || fail "restored task $pid is not running" "$1"
}

# Image bytes: every file of the images dir but nestor's logs.
image_bytes() {
	find "$1" -type f ! -name '*.log' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

# ratio_median: lines "FLOOR NESTOR" in, the median of FLOOR/NESTOR out.
ratio_median() {
	awk '{ print $1 / $2 }' | sort -g | awk '{ v[NR] = $1 } END {
		printf "%.4f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# stats FILE: "median min" of the numbers in FILE (median of an even count:
# the mean of the middle two). %.0f, not %d: the awk here (mawk) clamps %d
# to 2^31-1, so every time above 2.147 s in nanoseconds came out 2147483647.
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f %.0f\n", m, v[1] }'
}

: >"$top/sdump" && : >"$top/srestore"

echo "nestor bench: $(uname -r), $(nproc) cpus, THP $(sed 's/.*\[\(.*\)\].*/\1/' \
	/sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null), images on a private tmpfs"
echo

# run_line N: round N's figures, each one the summary is made of (its ratios
# are the medians of these rounds' ratios, its sizes the median of these).
run_line() {
	local d fd r fr sz
	d=$(tail -n 1 "$top/dump_$mode") fd=$(tail -n 1 "$top/fdump_$mode")
	r=$(tail -n 1 "$top/restore_$mode") fr=$(tail -n 1 "$top/frestore_$mode")
	sz=$(tail -n 1 "$top/size_$mode")
	awk -v i="$1" -v d="$d" -v fd="$fd" -v r="$r" -v fr="$fr" -v sz="$sz" \
		-v reaped="$reaped_ms" -v v="${verdict%% *}" 'BEGIN {
		printf "   run %d: dump %6.3f s (floor %6.3f s, ratio %.2f, reaped %d ms after)", \
			i, d / 1e9, fd / 1e9, fd / d, reaped
		printf "   restore %6.3f s (floor %6.3f s, ratio %.2f)   image %.2f MiB   memory %s\n", \
			r / 1e9, fr / 1e9, fr / r, sz / 1048576, v }'
}

# big MODE: the big-memory rounds one way; figures into $top/*_MODE.
big() {
	local i s=
	mode=$1
	[ "$mode" = cold ] && s=$settle
	for f in dump restore fdump frestore size; do : >"$top/${f}_$mode"; done
	echo "1. big memory, $mode: $mib MiB touched, $reps runs (each restore verified)"
	# Floors and nestor alternate, so that a noisy neighbour hits both alike.
	for ((i = 1; i <= reps; i++)); do
		"$build/bench/floor" dump "$img" "$mib" 1 $s >>"$top/fdump_$mode" ||
			die "floor dump failed"
		"$build/bench/floor" restore "$mib" 1 $s >>"$top/frestore_$mode" ||
			die "floor restore failed"

		spawn "$build/bench/memhog" "$wd" "$mib"
		wait_until "$wait_s" test -e "$wd/ready" || fail "memhog $pid not ready after ${wait_s}s"
		dump_timed "$img/d" big
		cat "$top/ns" >>"$top/dump_$mode"
		image_bytes "$img/d" >>"$top/size_$mode"
		restore_timed "$img/d" big
		cat "$top/ns" >>"$top/restore_$mode"
		kill -USR1 "$pid"
		wait_until "$wait_s" test -e "$wd/result" || fail "restored memhog $pid gives no result"
		read -r verdict <"$wd/result"
		[ "${verdict%% *}" = OK ] || fail "restored memhog $pid: $verdict"
		kill_workload
		rm -rf "$img/d"
		run_line "$i"
	done
}
for m in $modes; do
	big "$m"
done

echo "2. trivial process (sleep 1000): $small_reps runs"
for ((i = 1; i <= small_reps; i++)); do
	spawn sleep 1000
	# Asleep in sleep itself, not still in the shell, setsid or ld.so; then
	# settled: a task seized within ~10 ms of falling asleep costs nestor's
	# dump ~10 ms more (seen on this VM), not what "a sleeping process" means.
	wait_until "$wait_s" asleep "$pid" || fail "sleep $pid did not start"
	sleep 0.05
	dump_timed "$img/s" small
	cat "$top/ns" >>"$top/sdump"
	restore_timed "$img/s" small
	cat "$top/ns" >>"$top/srestore"
	kill_workload
done
for f in sdump srestore; do
	printf '   %-8s ms:' "${f#s}"
	awk '{ printf " %.2f", $1 / 1e6 }' "$top/$f"
	echo
done
echo

# many KIND: a parent with 100 children, or a process with 100 threads,
# all asleep; dump and restore -d, each restore checked (all came back).
many() {
	local kind=$1 i
	: >"$top/${kind}_dump" && : >"$top/${kind}_restore"
	for ((i = 1; i <= 3; i++)); do
		spawn "$build/bench/many" "$kind" 100 "$wd"
		wait_until "$wait_s" test -e "$wd/ready" || fail "many $kind $pid not ready"
		dump_timed "$img/m" small
		cat "$top/ns" >>"$top/${kind}_dump"
		[ "$kind" = children ] && pkill -KILL -s "$pid" 2>/dev/null
		wait_until "$wait_s" bash -c "! pgrep -s $pid >/dev/null" ||
			fail "children of $pid still there after dump"
		restore_timed "$img/m" small
		cat "$top/ns" >>"$top/${kind}_restore"
		kill -USR1 "$pid"
		wait_until "$wait_s" test -e "$wd/result" || fail "restored $pid gives no result"
		read -r verdict <"$wd/result"
		[ "${verdict%% *}" = OK ] || fail "restored many $kind $pid: $verdict"
		local sid=$pid
		pkill -KILL -s "$sid" 2>/dev/null
		kill_workload
		wait_until "$wait_s" bash -c "! pgrep -s $sid >/dev/null"
	done
}
echo "3. a parent with 100 sleeping children, and a process with 100 threads: 3 runs each"
many children
many threads
for f in children_dump children_restore threads_dump threads_restore; do
	printf '   %-16s ms:' "$f"
	awk '{ printf " %.2f", $1 / 1e6 }' "$top/$f"
	echo
done
echo

read -r sd_med sd_min < <(stats "$top/sdump")
read -r sr_med sr_min < <(stats "$top/srestore")
read -r cd_med cd_min < <(stats "$top/children_dump")
read -r cr_med cr_min < <(stats "$top/children_restore")
read -r td_med td_min < <(stats "$top/threads_dump")
read -r tr_med tr_min < <(stats "$top/threads_restore")

line=$(printf '%101s' '' | tr ' ' -)
printf "%-30s %16s %10s %16s %10s %6s %7s\n" "measure (median of $reps)" "time (min)" \
	"GiB/s" "floor (min)" "GiB/s" "ratio" "target"
echo "$line"
# The big rows of one mode; targets are the cold ones (the user's view).
for m in $modes; do
	read -r dump_med dump_min < <(stats "$top/dump_$m")
	read -r rst_med rst_min < <(stats "$top/restore_$m")
	read -r fd_med fd_min < <(stats "$top/fdump_$m")
	read -r fr_med fr_min < <(stats "$top/frestore_$m")
	read -r size_med _ < <(stats "$top/size_$m")
	# Ratios: the median of each round's (floor and nestor side by side).
	rd=$(paste "$top/fdump_$m" "$top/dump_$m" | ratio_median)
	rr=$(paste "$top/frestore_$m" "$top/restore_$m" | ratio_median)
	awk -v mib="$mib" -v m="$m" -v rd="$rd" -v rr="$rr" \
		-v dm="$dump_med" -v dn="$dump_min" -v rm="$rst_med" -v rn="$rst_min" \
		-v fdm="$fd_med" -v fdn="$fd_min" -v frm="$fr_med" -v frn="$fr_min" -v sz="$size_med" '
	function gibs(ns) { return (mib / 1024) / (ns / 1e9) }
	function verdict(ok) { return m != "cold" ? "" : ok ? "ok" : "MISSED" }
	BEGIN {
		r = rd
		printf "%-30s %7.3f (%6.3f) %10.2f %7.3f (%6.3f) %10.2f %6.2f %7s  %s\n", \
			"dump " mib " MiB, " m ", s", dm / 1e9, dn / 1e9, gibs(dm), fdm / 1e9, \
			fdn / 1e9, gibs(fdm), r, m == "cold" ? ">=0.85" : "", verdict(r >= 0.85)
		r = rr
		printf "%-30s %7.3f (%6.3f) %10.2f %7.3f (%6.3f) %10.2f %6.2f %7s  %s\n", \
			"restore -d " mib " MiB, " m ", s", rm / 1e9, rn / 1e9, gibs(rm), frm / 1e9, \
			frn / 1e9, gibs(frm), r, m == "cold" ? ">=0.9" : "", verdict(r >= 0.9)
		touched = mib * 1048576
		over = (sz - touched) / touched * 100
		printf "%-30s %16s %10s %16s %10s %+5.2f%% %7s  %s\n", "image size, MiB", \
			sprintf("%.2f", sz / 1048576), "", sprintf("%.2f touched", touched / 1048576), \
			"", over, "<=+1%", over <= 1 ? "ok" : "MISSED"
	}'
done

awk -v sreps="$small_reps" -v settle="$settle" -v sdm="$sd_med" -v sdn="$sd_min" -v srm="$sr_med" -v srn="$sr_min" \
	-v cdm="$cd_med" -v cdn="$cd_min" -v crm="$cr_med" -v crn="$cr_min" \
	-v tdm="$td_med" -v tdn="$td_min" -v trm="$tr_med" -v trn="$tr_min" '
function verdict(ok) { return ok ? "ok" : "MISSED" }
BEGIN {
	line = sprintf("%101s", ""); gsub(/ /, "-", line)
	print line
	printf "%-30s %16s %10s %16s %10s %6s %7s\n", "trivial process (median of " sreps ")", \
		"time (min)", "", "", "", "", "target"
	printf "%-30s %7.2f (%6.2f) %10s %16s %10s %6s %7s  %s\n", "dump, ms", sdm / 1e6, \
		sdn / 1e6, "", "", "", "", "<=10", verdict(sdm <= 10e6)
	printf "%-30s %7.2f (%6.2f) %10s %16s %10s %6s %7s  %s\n", "restore -d, ms", srm / 1e6, \
		srn / 1e6, "", "", "", "", "<=10", verdict(srm <= 10e6)
	print line
	printf "%-30s %16s %10s %16s %10s %6s %7s\n", "100 children (median of 3)", \
		"time (min)", "", "", "", "", "target"
	printf "%-30s %7.2f (%6.2f) %10s %16s %10s %6s %7s  %s\n", "dump, ms", cdm / 1e6, \
		cdn / 1e6, "", "", "", "", "<=50", verdict(cdm <= 50e6)
	printf "%-30s %7.2f (%6.2f) %10s %16s %10s %6s %7s  %s\n", "restore -d, ms", crm / 1e6, \
		crn / 1e6, "", "", "", "", "<=50", verdict(crm <= 50e6)
	printf "%-30s %16s\n", "100 threads (median of 3)", "time (min)"
	printf "%-30s %7.2f (%6.2f)\n", "dump, ms", tdm / 1e6, tdn / 1e6
	printf "%-30s %7.2f (%6.2f)\n", "restore -d, ms", trm / 1e6, trn / 1e6
	print line
	print "times: the wall time of nestor from start to exit (a dump: the task killed)."
	print "floors: dump = write() from a buffer filled beforehand into a fresh tmpfs file;"
	print "restore = mmap fresh anonymous memory and fill it. ratio = floor time / nestor time,"
	print "the median of the ratios of the rounds (each round: floors, then nestor)."
	print "cold: every run after " settle " s of sleep (free pages back to the host); warm:"
	print "every run right after a warm-up. Targets: the cold ratios."
}'
exit 0
