#!/bin/bash
# A dump must not charge its image to the target's memory cgroup (issue 7,
# "Harm" 3). The workload (tests/zdtm/memcg_fill: 64 MiB of its own memory)
# runs in a memory cgroup made for it under this script's own, whose limit
# (80 MiB) that memory fills to ~80%; nestor runs outside it, the images go
# to a private tmpfs. Whether the task is killed by the dump and restored,
# or left running (-R), the dump must succeed, the cgroup's usage and peak
# must not rise by more than SLACK_MIB (nestor's parasite, the task's page
# tables), its limit must never be hit nor its OOM killer run, and the
# restored task must find its memory and its cgroup as they were. Both ways
# nestor's drainers write the image are tried: one splices while the others
# UFFDIO_COPY into a mapping of it (tmpfs, the default), or all splice
# (NESTOR_FAULT=splice:pages); the dump's log must show the way it took.
# Prints PASS/FAIL/SKIP lines and a summary; exits 1 if any test failed.
# cgroup v1 (memory.usage_in_bytes, max_usage_in_bytes, failcnt, oom_kill)
# or v2 (memory.current, memory.events max and oom).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
N=${NESTOR:-$top/build/nestor}
prog=$top/build/tests/zdtm/memcg_fill
if [ -z "${NESTOR_SUBREAPED:-}" ]; then
	exec env NESTOR_SUBREAPED=1 "$top/build/tests/subreaper" "$BASH" "$0" "$@"
fi
reaper=$PPID
LIMIT_MIB=80
FILL_MIB=60 # at least: 63 of its 64 MiB are written
SLACK_MIB=4
timeout_s=${ZDTM_TIMEOUT:-10}

dir=$(mktemp -d /tmp/nestor-memcg.XXXXXX) || exit 2
pid='' cg='' mounted='' passed=0 failed=0

alive() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	line=${line##*) }
	[ "${line%% *}" != Z ]
}

# Ours to kill: alive, and running our program with our work dir, or a
# child of our reaper (a restore gone wrong).
mine() {
	local line f
	alive "$1" || return 1
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF " $dir/" && return 0
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	read -r -a f <<<"${line##*) }"
	[ "${f[1]}" = "$reaper" ]
}

gone() { [ ! -e "/proc/$1" ]; }

wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}

kill_task() {
	if [ -n "$pid" ] && mine "$pid"; then
		kill -KILL "$pid"
		wait_until "$timeout_s" gone "$pid"
	fi
	pid=
}

# The cgroup goes once its tasks are gone (v1 and v2 both refuse it before).
remove_cg() {
	[ -n "$cg" ] || return 0
	wait_until "$timeout_s" rmdir "$cg" 2>/dev/null || echo "memcg: cannot remove $cg" >&2
	cg=
}

cleanup() {
	kill_task
	remove_cg
	[ -n "$mounted" ] && { umount "$dir/img" 2>/dev/null || umount -l "$dir/img"; }
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

result() { # PASS|FAIL|SKIP TEXT
	echo "$1 memcg: $2"
	case $1 in
	PASS) passed=$((passed + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	esac
}

# Sets ver (1 or 2) and base: this script's own memory cgroup directory.
find_memcg() {
	local line mnt root path
	for mnt in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		if grep -qw memory "$mnt/cgroup.controllers" 2>/dev/null; then
			path=$(sed -n 's/^0:://p' /proc/self/cgroup)
			ver=2 base=$mnt$path
			grep -qw memory "$base/cgroup.subtree_control" 2>/dev/null ||
				echo +memory >"$base/cgroup.subtree_control" 2>/dev/null
			return 0
		fi
	done
	path=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}:\(.*\)/\3/p' /proc/self/cgroup)
	[ -n "$path" ] || return 1
	# The v1 memory hierarchy's mount: its root must be "/" for the path to add up.
	while read -r line; do
		read -r _ _ _ root mnt _ <<<"$line"
		[ "${line#* - cgroup }" != "$line" ] || continue
		case ",${line##* }," in *,memory,*) ;; *) continue ;; esac
		[ "$root" = / ] || continue
		ver=1 base=$mnt$path
		return 0
	done </proc/self/mountinfo
	return 1
}

usage() { # bytes now
	if [ "$ver" = 1 ]; then cat "$cg/memory.usage_in_bytes"; else cat "$cg/memory.current"; fi
}

# What says the cgroup hit its limit: v1 failcnt and oom_kill, v2 events.
limit_hits() {
	if [ "$ver" = 1 ]; then
		echo "failcnt $(cat "$cg/memory.failcnt") $(grep oom_kill "$cg/memory.oom_control")"
	else
		grep -E '^(max|oom|oom_kill) ' "$cg/memory.events" | tr '\n' ' '
	fi
}

reset_peak() { [ "$ver" = 1 ] && echo 0 >"$cg/memory.max_usage_in_bytes"; }

# The peak since reset_peak, v1 only; v2 has usage now (limit_hits covers the rest).
peak() {
	if [ "$ver" = 1 ]; then cat "$cg/memory.max_usage_in_bytes"; else usage; fi
}

in_cg() { grep -qF "${cg#"$base"}" "/proc/$1/cgroup" 2>/dev/null; }

# start WD: the workload, in the cgroup, a session leader with stdio only.
start() {
	local wd=$1
	mkdir -p "$wd"
	pid=$(
		(
			for fd in "/proc/$BASHPID/fd/"*; do
				fd=${fd##*/}
				[ "$fd" -gt 2 ] && eval "exec $fd>&-"
			done
			echo "$BASHPID" >"$cg/cgroup.procs" || exit 1
			cd "$wd" || exit 1
			exec setsid "$prog" "$wd" </dev/null >>"$wd/out.log" 2>&1
		) &
		echo $!
	)
	wait_until "$timeout_s" test -e "$wd/ready"
}

mib() { echo $(($1 >> 20)); }

# one MODE (restore|leave-running) WAY (mapped|splice): sets why on failure.
one() {
	local mode=$1 way=$2 wd=$dir/$1-$2 img=$dir/img/$1-$2 u0 u1 p1 hits0 hits1 rc opt= fault=
	[ "$mode" = leave-running ] && opt=-R
	[ "$way" = splice ] && fault=splice:pages
	why=
	cg=$base/nestor-test-$$-$mode-$way
	mkdir "$cg" || { why="cannot create cgroup $cg"; cg=; return 1; }
	if [ "$ver" = 1 ]; then
		echo $((LIMIT_MIB << 20)) >"$cg/memory.limit_in_bytes"
	else
		echo $((LIMIT_MIB << 20)) >"$cg/memory.max"
	fi || { why="cannot set the limit of $cg"; return 1; }
	start "$wd" || { why="memcg_fill did not get ready (see $wd/out.log)"; return 1; }
	in_cg "$pid" || { why="task $pid is not in $cg"; return 1; }
	u0=$(usage)
	[ "$u0" -ge $((FILL_MIB << 20)) ] ||
		{ why="the cgroup holds $(mib "$u0") MiB, less than the task's $FILL_MIB"; return 1; }
	reset_peak
	hits0=$(limit_hits)
	mkdir -p "$img"
	env ${fault:+NESTOR_FAULT=$fault} timeout -k 5 60 "$N" dump -t "$pid" -D "$img" $opt -v4 \
		-o dump.log </dev/null 2>"$img.err"
	rc=$?
	p1=$(peak) u1=$(usage) hits1=$(limit_hits)
	[ $rc -eq 0 ] || { why="dump exited $rc: $(head -n 1 "$img.err")"; return 1; }
	if [ "$way" = splice ]; then
		grep -q "threads drain them (splice)" "$img/dump.log" &&
			grep -q " 0 KiB through the mapping" "$img/dump.log"
	else
		grep -q "threads drain them (splice and UFFDIO_COPY)" "$img/dump.log" &&
			grep -q " [1-9][0-9]* KiB through the mapping" "$img/dump.log"
	fi || { why="the dump's log does not say its pages went the $way way"; return 1; }
	[ "$hits1" = "$hits0" ] ||
		{ why="the dump hit the cgroup's limit: $hits0 -> $hits1"; return 1; }
	[ "$p1" -le $((u0 + (SLACK_MIB << 20))) ] ||
		{ why="the dump raised the cgroup's peak from $(mib "$u0") to $(mib "$p1") MiB"; return 1; }
	if [ "$mode" = leave-running ]; then
		[ "$u1" -le $((u0 + (SLACK_MIB << 20))) ] ||
			{ why="after the dump the cgroup holds $(mib "$u1") MiB, was $(mib "$u0")"; return 1; }
		alive "$pid" || { why="task $pid died in a -R dump"; return 1; }
	else
		wait_until "$timeout_s" gone "$pid" || { why="task $pid still there after dump"; return 1; }
		rm -f "$wd/pid"
		timeout -k 5 60 "$N" restore -D "$img" -d --pidfile "$wd/pid" -v4 -o restore.log \
			</dev/null 2>"$img.rst.err" ||
			{ why="restore failed: $(head -n 1 "$img.rst.err")"; return 1; }
		[ "$(cat "$wd/pid" 2>/dev/null)" = "$pid" ] || { why="pidfile says $(cat "$wd/pid")"; return 1; }
		in_cg "$pid" || { why="restored task $pid is not in $cg"; return 1; }
	fi
	kill -TERM "$pid"
	wait_until "$timeout_s" test -s "$wd/result" || { why="no result from task $pid"; return 1; }
	[ "$(head -n 1 "$wd/result")" = PASS ] || { why="task $pid: $(head -n 1 "$wd/result")"; return 1; }
	wait_until "$timeout_s" gone "$pid"
	echo "   $mode, $way: cgroup $(mib "$u0") MiB before the dump, peak $(mib "$p1") MiB during it"
}

if [ ! -x "$prog" ] || [ ! -x "$N" ]; then
	echo "memcg.sh: $prog or $N is missing: make all tests-bin" >&2
	exit 2
fi
if ! find_memcg || [ ! -w "$base" ]; then
	result SKIP "no memory cgroup of ours to make a child in"
	echo "$passed passed, $failed failed"
	exit 0
fi
if ! mkdir -p "$dir/img" || ! mount -t tmpfs -o size=512m nestor-memcg "$dir/img"; then
	echo "memcg.sh: cannot mount a tmpfs on $dir/img" >&2
	exit 2
fi
mounted=1

for way in mapped splice; do
	for mode in restore leave-running; do
		name="dump of a task whose cgroup v$ver is 80% full, $mode, $way: no charge to its cgroup"
		if one "$mode" "$way"; then
			result PASS "$name"
		else
			result FAIL "$name: $why"
		fi
		kill_task
		remove_cg
	done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
