# Shell helpers shared by tests/run.sh, tests/bad_input.sh and bench/run.sh
# (sourced, not run). Builtins where a helper runs in a polling loop or over
# every pid: a forked command would cost time, or be counted as one more task.
# Set wait_step (seconds between polls of wait_until) before use; 0.05 unless.

# stat_of PID: the fields of /proc/PID/stat after the comm into st[] (st[0]
# state, st[1] ppid, st[2] pgid, st[3] session, st[11] utime, st[12] stime);
# fails when the pid is gone.
stat_of() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	line=${line##*) }
	read -r -a st <<<"$line"
}

# state PID: the task's state letter, or nothing when the pid is gone.
state() {
	stat_of "$1" || return 0
	echo "${st[0]}"
}

# alive PID: the pid exists and is not a zombie.
alive() {
	stat_of "$1" && [ "${st[0]}" != Z ] && [ "${st[0]}" != X ]
}

gone() { ! alive "$1"; }

# reaped PID: not even a zombie is left (the pid is free again).
reaped() { [ ! -e "/proc/$1" ]; }

# parent_of PID: its ppid; fails when the pid is gone.
parent_of() {
	stat_of "$1" || return 1
	echo "${st[1]}"
}

# wait_until SECONDS CMD...: polls CMD every $wait_step s, fails after SECONDS.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep "${wait_step:-0.05}"
	done
}

# kill_wait PID [SECONDS]: SIGKILL to PID, then waits (5 s unless SECONDS)
# until it is no longer alive. The caller checks first that PID is its own.
kill_wait() {
	kill -KILL "$1" 2>/dev/null
	wait_until "${2:-5}" gone "$1"
}

# close_fds [KEEP]: closes every descriptor of this shell above 2 but KEEP:
# a workload must not inherit the runner's pipes (one more thing for nestor).
close_fds() {
	local fd
	for fd in "/proc/$BASHPID/fd/"*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && [ "$fd" != "${1:-}" ] && eval "exec $fd>&-"
	done
	return 0
}

# own_devpts SCRIPT ARGS...: re-executes SCRIPT ARGS (same pid) in a mount
# namespace of its own with a devpts instance of its own on /dev/pts and
# /dev/ptmx. A restored pty needs its old index free, and /dev/ptmx gives
# every process of the machine the lowest free one: another run's ptys (the
# suites of other checkouts running at the same time) took it between a
# dump and its restore ("cannot get pty N: Device or resource busy"). nestor
# and the tests then share this namespace. Returns once inside it.
own_devpts() {
	[ "${NESTOR_OWN_DEVPTS:-}" = "$$" ] && return 0
	export NESTOR_OWN_DEVPTS=$$
	exec unshare -m --propagation private "$BASH" -c \
		'mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts &&
		mount --bind /dev/pts/ptmx /dev/ptmx || exit 2
		exec "$0" "$@"' "$BASH" "$@"
}

# subreap SUBREAPER NAME SCRIPT ARGS...: orphans (restored tasks above all)
# must be reaped by us, and pid 1 may not: unless this shell's parent is
# already the subreaper it started, re-executes SCRIPT ARGS under SUBREAPER
# (exec keeps the pid, so NESTOR_SUBREAPED holds the subreaper's pid).
# Returns only when already subreaped; exits 2 if SUBREAPER is missing.
subreap() {
	local reaper=$1 name=$2
	shift 2
	[ "${NESTOR_SUBREAPED:-}" = "$PPID" ] && return 0
	if [ ! -x "$reaper" ]; then
		echo "$name: $reaper is missing: make tests-bin" >&2
		exit 2
	fi
	export NESTOR_SUBREAPED=$$
	exec "$reaper" "$BASH" "$@"
}
