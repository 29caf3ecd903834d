#!/bin/bash
# Bad-input tests: nestor must refuse what it cannot dump or restore with exit
# status 1 and one stderr line "nestor: ..." naming the cause, within a time
# limit, leaving a refused target running as it was and no task half-restored.
# Usage: tests/bad_input.sh [WORD]   (only the cases whose name holds WORD)
# Env: NESTOR (binary, default build/nestor), ZDTM_BUILD (default build),
# BAD_TIMEOUT (seconds per nestor run, default 20), BAD_KEEP=1 keeps the temp dir,
# BAD_VERBOSE=1 shows nestor's stderr line under each case.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZDTM_BUILD:-$root/build}
nestor=${NESTOR:-$root/build/nestor}
subreaper=$build/tests/subreaper
helper=$build/tests/bad/badtask
limit=${BAD_TIMEOUT:-20}

# shellcheck source=tests/lib/common.sh
. "$root/tests/lib/common.sh"
wait_step=0.02
# Orphans (refused targets, tasks a failed restore left behind) must be
# reaped by us. Our parent is then the subreaper, and the stray check looks
# at its children: so it must be our own subreaper, not one of a runner
# above us, which subreap makes sure of.
subreap "$subreaper" bad_input.sh "$0" "$@"
if [ ! -x "$nestor" ]; then
	echo "bad_input.sh: no nestor binary at $nestor (make, or set NESTOR)" >&2
	exit 2
fi
if [ ! -x "$helper" ] || [ "$root/tests/bad/badtask.c" -nt "$helper" ]; then
	mkdir -p "${helper%/*}"
	if ! ${CC:-cc} -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
		-o "$helper" "$root/tests/bad/badtask.c"; then
		echo "bad_input.sh: cannot build $helper" >&2
		exit 2
	fi
fi
filter=${1:-}

tmp=$(mktemp -d /tmp/nestor-bad.XXXXXX)
chmod 0755 "$tmp"
procs=()     # tasks of the current case, killed when it ends
immutable=() # dirs made immutable, released before removal
cg_home=     # the pids cgroup this script came from, while it is elsewhere
cgdirs=()    # cgroups a case made
ncase=0

cleanup() {
	local d
	kill_procs
	cg_cleanup
	for d in "${immutable[@]}"; do
		chattr -i "$d" 2>/dev/null
	done
	if [ -n "${BAD_KEEP:-}" ]; then
		echo "temp dir kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- processes ----

# stat_of, alive and gone come from tests/lib/common.sh; alive leaves the
# task's stat fields in st[].

# A task of ours: its command line names our temp dir.
mine() {
	local cmd
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
	[[ $cmd == *"$tmp/"* ]]
}

tracer_of() {
	local k v
	while read -r k v; do
		[ "$k" = TracerPid: ] && echo "$v" && return 0
	done <"/proc/$1/status"
	return 1
}

cputime() { stat_of "$1" && echo $((st[11] + st[12])); }

kill_procs() {
	local p
	for p in "${procs[@]}"; do
		alive "$p" && mine "$p" && kill -KILL "$p" 2>/dev/null
	done
	for p in "${procs[@]}"; do
		wait_until 5 gone "$p"
	done
	procs=()
}

# Strays are the subreaper's children, so ours even when they do not name
# our temp dir; the check is repeated to not hit a reused pid.
kill_procs_any() {
	local p
	for p in "${procs[@]}"; do
		stat_of "$p" && [ "${st[1]}" = "$PPID" ] && kill -KILL "$p" 2>/dev/null
	done
	for p in "${procs[@]}"; do
		wait_until 5 gone "$p"
	done
	procs=()
}

# Children of the subreaper or of this shell that no case accounts for, in
# $stray and stray_pids. Builtins only: a forked helper would count itself.
find_strays() {
	local f p ok q
	stray=
	stray_pids=()
	for f in /proc/[0-9]*/stat; do
		p=${f#/proc/}
		p=${p%/stat}
		[ "$p" = $$ ] && continue
		stat_of "$p" || continue
		[ "${st[1]}" = "$PPID" ] || [ "${st[1]}" = $$ ] || continue
		[ "${st[0]}" = Z ] && continue # being reaped
		ok=
		for q in "${procs[@]}"; do
			[ "$q" = "$p" ] && ok=1
		done
		[ -n "$ok" ] && continue
		stray_pids+=("$p")
		stray+=" $p($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null))"
	done
	[ -n "$stray" ]
}

# Runs in a subshell: the task gets only fds 0-2 (a leaked pipe would be one
# more thing for nestor to refuse). launch WORKDIR setsid|nosid CMD...
launch() {
	local wd=$1 how=$2
	shift 2
	cd "$wd" || exit 1
	close_fds "${keep_fd:-}"
	if [ "$how" = pipein ]; then
		# stdin from a pipe that a process outside the tree holds too
		exec setsid "$@" <&"$keep_fd" >"$wd/out.log" 2>&1 {keep_fd}<&-
	fi
	if [ "$how" = setsid ]; then
		exec setsid "$@" </dev/null >"$wd/out.log" 2>&1
	fi
	exec "$@" </dev/null >"$wd/out.log" 2>&1
}

# ---- verdicts ----

# bad MSG: records why the case failed; always fails.
bad() {
	[ -z "$why" ] && why=$*
	return 1
}

ready_or_exited() { [ -e "$twd/ready" ] || gone "$tpid"; }

# start_task MODE [nosid]: a badtask in $tpid, its work dir in $twd.
start_task() {
	local res
	twd=$(mktemp -d "$tmp/t.XXXXXX")
	chmod 0777 "$twd"
	tpid=$(launch "$twd" "${2:-setsid}" "$helper" "$1" "$twd" & echo $!)
	procs+=("$tpid")
	wait_until 5 ready_or_exited || bad "task $1 not ready after 5s" || return
	if [ ! -e "$twd/ready" ]; then
		res=$(head -n 1 "$twd/result" 2>/dev/null)
		[[ $res == SKIP* ]] && skip=${res#SKIP: } && return 1
		bad "task $1 exited before ready: ${res:-no result, $(tail -n 1 "$twd/out.log")}"
		return
	fi
	stat_of "$tpid" || bad "task $1 vanished" || return
	if [ "${2:-setsid}" != nosid ] && [ "${st[3]}" != "$tpid" ]; then
		bad "task $tpid is not a session leader (sid ${st[3]})"
	fi
}

# nestor_run ARGS...: runs nestor with a time limit; sets rc and err.
nestor_run() {
	# The braces take bash's own "Segmentation fault" report: rc says it.
	{ timeout -k 5 "$limit" "$nestor" "$@" </dev/null >"$tmp/stdout" 2>"$tmp/stderr"; } 2>/dev/null
	rc=$?
}

# refused ERE...: the last run exited 1 with one "nestor: " line matching all.
refused() {
	local n re
	err=$(head -c 600 "$tmp/stderr" | tr '\n' '|')
	case $rc in
	1) ;;
	0) bad "exit 0: nestor did not refuse (stderr: $err)"; return ;;
	124 | 137) bad "hang: no exit within ${limit}s (stderr: $err)"; return ;;
	*)
		if [ "$rc" -gt 128 ]; then
			bad "nestor killed by signal $((rc - 128)) (stderr: $err)"
		else
			bad "exit $rc, expected 1 (stderr: $err)"
		fi
		return ;;
	esac
	n=$(wc -l <"$tmp/stderr")
	if [ "$n" != 1 ] || [ -n "$(tail -c 1 "$tmp/stderr")" ]; then
		bad "$n lines on stderr, expected one: $err"
		return
	fi
	err=${err%|}
	[[ $err == "nestor: "* ]] || bad "stderr does not start with 'nestor: ': $err" || return
	for re in "$@"; do
		grep -qE -e "$re" <<<"$err" || bad "stderr does not name the cause (/$re/): $err" ||
			return
	done
}

# task_intact [stopped] [TRACER]: the target is alive, in the state it was,
# traced by whom it was, and (unless stopped) still running.
task_intact() {
	local want=${1:-run} tracer=${2:-0} t0 tr
	alive "$tpid" || bad "task $tpid died (state '${st[0]:-gone}')" || return
	if [ "$want" = stopped ]; then
		[ "${st[0]}" = T ] || bad "stopped task $tpid is now in state ${st[0]}" || return
	else
		case ${st[0]} in
		T | t) bad "task $tpid left stopped (state ${st[0]})"; return ;;
		esac
	fi
	tr=$(tracer_of "$tpid")
	[ "$tr" = "$tracer" ] || bad "task $tpid traced by '$tr', expected $tracer" || return
	[ "$want" = stopped ] && return 0
	t0=$(cputime "$tpid")
	wait_until 3 cpu_grew "$tpid" "$t0" || bad "task $tpid stopped counting (state ${st[0]})"
}
cpu_grew() { [ "$(cputime "$1")" -gt "$(($2 + 1))" ]; }

finished() { [ -s "$twd/result" ] && gone "$tpid"; }

# The target checks its own state on SIGTERM: counters, fds, mask, helpers.
task_passes() {
	local res
	kill -TERM "$tpid"
	wait_until 5 finished ||
		bad "task $tpid: no result 5s after SIGTERM (state '$(stat_of "$tpid" && echo "${st[0]}")')" ||
		return
	res=$(head -n 1 "$twd/result")
	[ "$res" = PASS ] || bad "task $tpid says: $res"
}

no_inventory() {
	[ ! -e "$1/inventory.img" ] || bad "the refused dump left $1/inventory.img behind"
}

# run NAME FUNC [ARGS...]: one case, one verdict line.
passed=0 failed=0 skipped=0
run() {
	local name=$1
	shift
	[ -n "$filter" ] && [[ $name != *"$filter"* ]] && return 0
	ncase=$((ncase + 1))
	why='' skip='' tpid='' twd='' err=''
	"$@"
	kill_procs
	cg_cleanup
	# Strays are killed whatever the verdict, so none is blamed on the next case.
	if find_strays; then
		bad "stray processes left:$stray"
		procs=("${stray_pids[@]}")
		kill_procs_any
	fi
	if [ -n "$skip" ] && [ -z "$why" ]; then
		echo "SKIP $name: $skip"
		skipped=$((skipped + 1))
	elif [ -n "$why" ]; then
		echo "FAIL $name: $why"
		failed=$((failed + 1))
	else
		echo "PASS $name"
		passed=$((passed + 1))
	fi
	[ -n "${BAD_VERBOSE:-}" ] && [ -n "$err" ] && echo "  $err"
	return 0
}

# A hard limit above nestor's own cannot be set again without CAP_SYS_RESOURCE,
# which root lacks here: nestor, run with a lower hard limit, must refuse.
t_rlimit_above() {
	start_task plain || return
	{ timeout -k 5 "$limit" prlimit --nofile=512:512 -- "$nestor" dump -t "$tpid" \
		-D "$twd/img" </dev/null >"$tmp/stdout" 2>"$tmp/stderr"; } 2>/dev/null
	rc=$?
	refused "\\b$tpid\\b" "RLIMIT_NOFILE" && no_inventory "$twd/img" && task_intact &&
		task_passes
}

t_restore_rlimit_above() {
	start_task plain || return
	nestor_run dump -t "$tpid" -D "$twd/img"
	[ "$rc" = 0 ] || bad "dump failed: $(head -c 300 "$tmp/stderr")" || return
	wait_until 10 gone "$tpid" || bad "task $tpid still there after the dump" || return
	{ timeout -k 5 "$limit" prlimit --nofile=512:512 -- "$nestor" restore -d \
		-D "$twd/img" </dev/null >"$tmp/stdout" 2>"$tmp/stderr"; } 2>/dev/null
	rc=$?
	refused "\\b$tpid\\b" "RLIMIT_NOFILE" && gone "$tpid" ||
		bad "a task with pid $tpid exists after the refused restore"
}

# A pipe is restored whole; one whose other end is held outside the tree is
# refused, naming the outside holder.
t_pipe_outside() {
	local pfd holder
	exec {pfd}< <(exec sleep 600)
	holder=$!
	procs+=("$holder")
	keep_fd=$pfd start_task plain pipein || { exec {pfd}<&-; return; }
	exec {pfd}<&-
	nestor_run dump -t "$tpid" -D "$twd/img"
	refused "\\b$holder\\b" "outside" "pipe" && no_inventory "$twd/img" && task_intact &&
		task_passes
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	return 0
}

# start_holder MODE: a badtask MODE outside the tree ($holder) whose child,
# the task to dump ($tpid), has a unix socket connected to it as stdin.
start_holder() {
	twd=$(mktemp -d "$tmp/t.XXXXXX")
	chmod 0777 "$twd"
	holder=$(launch "$twd" nosid "$helper" "$1" "$twd" & echo $!)
	procs+=("$holder")
	wait_until 5 test -e "$twd/ready" || bad "the task of $1 is not ready" || return
	tpid=$(cat "$twd/aux")
	procs+=("$tpid")
}

# A unix socket whose peer is held outside the tree is refused, naming the
# holder, and saying whether --ext-unix-sk would allow it: a stream
# connection cannot be made again even with it; a datagram one can.
# t_unix_outside MODE [DUMP-OPTION] -- ERE...
t_unix_outside() {
	local mode=$1 opt=()
	shift
	[ "$1" != -- ] && opt=("$1") && shift
	shift
	start_holder "$mode" || return
	nestor_run dump -t "$tpid" -D "$twd/img" "${opt[@]}"
	refused "\\b$tpid\\b" "\\b$holder\\b" "outside" "unix socket" "$@" &&
		no_inventory "$twd/img" && task_intact && task_passes
	kill "$holder" 2>/dev/null
	return 0
}

# --ext-unix-sk: a datagram socket connected outside is dumped with its peer's
# name; a restore when nothing is bound to that name any more fails, naming
# the socket's peer name, and leaves no task behind.
t_unix_ext_gone() {
	start_holder dgramholder || return
	nestor_run dump -t "$tpid" -D "$twd/img" --ext-unix-sk
	[ "$rc" = 0 ] || bad "dump failed: $(head -c 300 "$tmp/stderr")" || return
	wait_until 10 gone "$tpid" || bad "task $tpid still there after the dump" || return
	kill "$holder" 2>/dev/null
	wait_until 5 gone "$holder" || bad "the holder $holder did not exit" || return
	nestor_run restore -D "$twd/img" -d --ext-unix-sk
	refused "ext\\.sock" "outside the tree" "cannot be reached" && { gone "$tpid" ||
		bad "a task with pid $tpid exists after the refused restore"; }
}

# A datagram queued on a socket of the tree came from a named socket outside
# it, which holds that name still but lives only in flight (SCM_RIGHTS): no
# copy of it can send the datagram again, and no other socket can take the
# name. The dump (no option needed) succeeds; the restore fails, naming the
# socket and the name, and leaves no task behind.
t_unix_sender_inflight() {
	start_holder inflightholder || return
	nestor_run dump -t "$tpid" -D "$twd/img"
	[ "$rc" = 0 ] || bad "dump failed: $(head -c 300 "$tmp/stderr")" || return
	wait_until 10 gone "$tpid" || bad "task $tpid still there after the dump" || return
	nestor_run restore -D "$twd/img" -d
	refused "socket [0-9]+" "client\\.sock" "outside the tree" "no process" && { gone "$tpid" ||
		bad "a task with pid $tpid exists after the refused restore"; }
	kill "$holder" 2>/dev/null
	return 0
}

# ---- dump: tasks nestor must refuse, and must leave as they were ----

# dump_refused MODE [nosid] -- ERE...: the task of MODE is refused, unharmed.
# PID in an ERE stands for the task's pid, AUX for what it wrote to aux.
dump_refused() {
	local mode=$1 how=setsid re=() r
	shift
	[ "$1" = nosid ] && how=nosid && shift
	[ "$1" = -- ] && shift
	start_task "$mode" "$how" || return
	nestor_run dump -t "$tpid" -D "$twd/img"
	for r in "$@"; do
		r=${r//PID/$tpid}
		[[ $r == *AUX* ]] && r=${r//AUX/$(cat "$twd/aux")}
		re+=("$r")
	done
	refused "${re[@]}" && no_inventory "$twd/img" && task_intact && task_passes
}

t_no_such_pid() {
	local p
	read -r p </proc/sys/kernel/pid_max
	p=$((p - 1))
	while [ -e "/proc/$p" ]; do p=$((p - 1)); done
	nestor_run dump -t "$p" -D "$tmp/img.$ncase"
	refused "\\b$p\\b" && no_inventory "$tmp/img.$ncase"
}

# A task we must not touch at all: pid 1, a kernel thread.
t_foreign() {
	local p=$1 word=$2
	nestor_run dump -t "$p" -D "$tmp/img.$ncase"
	refused "\\b$p\\b" "$word" || return
	tpid=$p
	alive "$p" || bad "task $p is gone" || return
	case ${st[0]} in T | t) bad "task $p left stopped" ;; esac
	[ "$(tracer_of "$p")" = 0 ] || bad "task $p left traced"
}

t_kthread() {
	local p=2 comm
	read -r comm </proc/2/comm
	[ "$comm" = kthreadd ] || { skip="pid 2 is $comm, not kthreadd"; return; }
	t_foreign "$p" "kernel"
}

# bash -c execs nestor in place: $$ there is nestor's own pid.
# shellcheck disable=SC2016
t_itself() {
	{ timeout -k 5 "$limit" bash -c 'exec "$0" dump -t $$ -D "$1"' "$nestor" \
		"$tmp/img.$ncase" </dev/null >"$tmp/stdout" 2>"$tmp/stderr"; } 2>/dev/null
	rc=$?
	refused "nestor|itself|self|own"
}

t_zombie() {
	local z
	start_task zombie || return
	z=$(cat "$twd/aux")
	stat_of "$z" && [ "${st[0]}" = Z ] || bad "child $z is not a zombie" || return
	nestor_run dump -t "$z" -D "$twd/img"
	refused "\\b$z\\b" "zombie|dead|exit" && task_intact && task_passes
}

t_thread_id() {
	local t
	start_task threads || return
	for t in /proc/"$tpid"/task/*; do
		t=${t##*/}
		[ "$t" != "$tpid" ] && break
	done
	nestor_run dump -t "$t" -D "$twd/img"
	refused "\\b$t\\b" "thread" && no_inventory "$twd/img" && task_intact && task_passes
}

t_vm_orphans() {
	local b c
	start_task vm_orphans || return
	read -r b c < "$twd/aux"
	procs+=("$b" "$c")
	nestor_run dump -t "$tpid" -D "$twd/img"
	refused "\\b$b\\b" "\\b$c\\b" "CLONE_VM" && no_inventory "$twd/img" && task_intact &&
		task_passes
}

t_stopped() {
	start_task plain || return
	kill -STOP "$tpid"
	wait_until 5 is_stopped "$tpid" || bad "task $tpid did not stop" || return
	nestor_run dump -t "$tpid" -D "$twd/img"
	refused "\\b$tpid\\b" "stop" && no_inventory "$twd/img" && task_intact stopped || return
	kill -CONT "$tpid"
	task_intact && task_passes
}
is_stopped() { stat_of "$1" && [ "${st[0]}" = T ]; }

t_traced() {
	local target tracer twd0
	start_task plain || return
	target=$tpid twd0=$twd
	mkdir "$twd/tracer"
	tracer=$(launch "$twd/tracer" nosid "$helper" tracer "$twd/tracer" "$target" & echo $!)
	procs+=("$tracer")
	wait_until 5 test -e "$twd/tracer/ready" -o -e "$twd/tracer/result" ||
		bad "tracer not ready" || return
	[ -e "$twd/tracer/ready" ] || bad "tracer: $(cat "$twd/tracer/result")" || return
	nestor_run dump -t "$target" -D "$twd/img"
	refused "\\b$target\\b" "trac" && no_inventory "$twd/img" && task_intact run "$tracer" ||
		return
	# Its tracer gone, the task must run on and pass.
	kill -TERM "$tracer"
	wait_until 5 gone "$tracer" || bad "tracer $tracer does not exit" || return
	tpid=$target twd=$twd0
	task_intact && task_passes
}

t_not_leader() {
	dump_refused plain nosid -- "\\bPID\\b" "session|shell-job"
}

t_no_pid_opt() {
	nestor_run dump -D "$tmp/img.$ncase"
	refused "-t|PID|pid"
}

t_no_dir_opt() {
	start_task plain || return
	nestor_run dump -t "$tpid"
	refused "-D|DIR|dir" && task_intact && task_passes
}

t_dir_is_file() {
	start_task plain || return
	echo data >"$twd/afile"
	nestor_run dump -t "$tpid" -D "$twd/afile"
	refused "afile" && task_intact && task_passes || return
	[ "$(cat "$twd/afile")" = data ] || bad "nestor changed $twd/afile"
}

# An immutable dir: even root can write nothing into it.
make_immutable() {
	mkdir -p "$1"
	chattr +i "$1" 2>/dev/null || { skip="chattr +i not supported under $tmp"; return 1; }
	immutable+=("$1")
}

t_dir_unwritable() {
	start_task plain || return
	make_immutable "$twd/ro" || return
	nestor_run dump -t "$tpid" -D "$twd/ro"
	# The failure comes after the seize: the task must be let go unharmed.
	refused "ro|\\.img" && task_intact && task_passes
}

t_dir_uncreatable() {
	start_task plain || return
	make_immutable "$twd/ro" || return
	nestor_run dump -t "$tpid" -D "$twd/ro/img"
	refused "ro/img" && task_intact && task_passes
}

t_dump_log_unwritable() {
	start_task plain || return
	nestor_run dump -t "$tpid" -D "$twd/img" -o "$twd/no/such/dir/dump.log"
	refused "dump\\.log|no/such" && no_inventory "$twd/img" && task_intact && task_passes
}

t_bad_pid_word() {
	nestor_run dump -t 12abc -D "$tmp/img.$ncase"
	refused "12abc"
}

# ---- restore: broken image dirs ----

bpid='' bwd='' base_err=''

# The dump all corrupted copies come from: a task that maps a file in its
# work dir (for the changed-file case). It is killed by the dump.
need_base() {
	if [ -n "$base_err" ]; then
		bad "$base_err"
		return
	fi
	[ -n "$bpid" ] && return 0
	local why0=$why
	why=
	start_task map || true
	if [ -z "$why" ]; then
		nestor_run dump -t "$tpid" -D "$tmp/base"
		[ $rc = 0 ] || why="exit $rc: $(tr '\n' '|' <"$tmp/stderr")"
	fi
	if [ -z "$why" ] && ! wait_until 5 test ! -e "/proc/$tpid"; then
		why="task $tpid still there after the dump"
	fi
	if [ -n "$why" ]; then
		base_err="cannot make the dump to corrupt: $why"
		why=$why0
		bad "$base_err"
		return
	fi
	bpid=$tpid bwd=$twd
	why=$why0 tpid='' twd=''
	procs=()
}

# copy_base: a fresh copy of the base dump in $img.
copy_base() {
	need_base || return
	img=$tmp/r.$ncase
	cp -a "$tmp/base" "$img"
}

# Nothing of a failed restore is left: no task with the dumped pid, no pidfile.
nothing_restored() {
	[ ! -e "$img.pid" ] || bad "the failed restore wrote its pidfile ($(cat "$img.pid"))" ||
		return
	# A task killed on the way out may take a moment to be reaped.
	if ! wait_until 3 base_pid_free; then
		procs+=("$bpid")
		bad "task $bpid half-restored (state ${st[0]})"
	fi
}
base_pid_free() { ! { alive "$bpid" && mine "$bpid"; }; }

# restore_refused ERE...: restore from $img fails naming the cause.
restore_refused() {
	local re=() r
	nestor_run restore -D "$img" -d --pidfile "$img.pid"
	for r in "$@"; do
		re+=("${r//PID/$bpid}")
	done
	refused "${re[@]}"
	nothing_restored
}

# Offsets where entries start in an image file (after its 8-byte header).
entry_starts() {
	local f=$1 off=8 size len
	size=$(stat -c %s "$f")
	while [ "$off" -lt "$size" ]; do
		echo "$off"
		len=$(od -An -tu4 -j "$off" -N4 "$f" | tr -d ' ')
		[ -z "$len" ] && break
		off=$((off + 8 + len))
	done
}

# Cuts an image in the middle of an entry (a cut between two entries would
# leave a shorter but well-formed image).
cut_middle() {
	local f=$1 cut
	cut=$(($(stat -c %s "$f") / 2))
	while entry_starts "$f" | grep -qx "$cut"; do
		cut=$((cut + 1))
	done
	truncate -s "$cut" "$f"
}

put_u32() { # FILE OFFSET VALUE, little endian
	local v=$3
	printf '%b' "$(printf '\\0%03o\\0%03o\\0%03o\\0%03o' $((v & 255)) $((v >> 8 & 255)) \
		$((v >> 16 & 255)) $((v >> 24 & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

flip_middle() {
	local f=$1 off b
	off=$(($(stat -c %s "$f") / 2))
	b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
	printf '%b' "$(printf '\\0%03o' $((b ^ 0xff)))" |
		dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

img_name() { echo "${1/PID/$bpid}"; }

t_restore_no_dir() {
	img=$tmp/r.$ncase
	need_base || return
	restore_refused "r\\.$ncase"
}

t_restore_empty_dir() {
	img=$tmp/r.$ncase
	need_base || return
	mkdir "$img"
	restore_refused "inventory|r\\.$ncase"
}

t_restore_dir_is_file() {
	img=$tmp/r.$ncase
	need_base || return
	echo data >"$img"
	restore_refused "r\\.$ncase"
}

t_restore_missing() {
	copy_base || return
	rm "$img/$(img_name "$1")"
	restore_refused "${1//./\\.}|no complete dump"
}

t_restore_truncated() {
	copy_base || return
	cut_middle "$img/$(img_name "$1")"
	restore_refused "${1//./\\.}"
}

t_restore_pages_short() {
	copy_base || return
	truncate -s -4096 "$img/$(img_name pages-PID.img)"
	restore_refused "pages-PID\\.img"
}

t_restore_flipped() {
	copy_base || return
	flip_middle "$img/$(img_name "$1")"
	restore_refused "${1//./\\.}"
}

t_restore_magic() {
	copy_base || return
	put_u32 "$img/$(img_name "$1")" 0 $((0xdeadbeef))
	restore_refused "${1//./\\.}"
}

t_restore_version() {
	copy_base || return
	put_u32 "$img/$(img_name "$1")" 4 2
	restore_refused "${1//./\\.}"
}

t_restore_empty_file() {
	copy_base || return
	: >"$img/$(img_name "$1")"
	restore_refused "${1//./\\.}"
}

t_restore_header_only() {
	copy_base || return
	truncate -s 8 "$img/$(img_name "$1")"
	restore_refused "${1//./\\.}"
}

t_restore_trailing_byte() {
	copy_base || return
	printf 'z' >>"$img/$(img_name "$1")"
	restore_refused "${1//./\\.}"
}

# Not a regular file where an image should be: a FIFO has no writer, so
# opening it without care waits forever.
t_restore_not_regular() {
	local f
	copy_base || return
	f=$img/$(img_name "$1")
	rm "$f"
	case $2 in
	fifo) mkfifo "$f" ;;
	dir) mkdir "$f" ;;
	esac
	restore_refused "${1//./\\.}"
}

t_restore_foreign() {
	copy_base || return
	cp /bin/true "$img/inventory.img"
	restore_refused "inventory\\.img"
}

t_restore_log_unwritable() {
	copy_base || return
	nestor_run restore -D "$img" -d --pidfile "$img.pid" -o "$img/no/such/dir/restore.log"
	refused "restore\\.log|no/such"
	nothing_restored
}

# The pidfile is written once the task runs: it must not be left running.
t_restore_pidfile_unwritable() {
	copy_base || return
	nestor_run restore -D "$img" -d --pidfile "$img/no/such/dir/pid"
	refused "no/such/dir/pid"
	nothing_restored
}

# ---- restore: a failed restore of a tree leaves none of its tasks ----

fpid='' fwd='' fam_err='' fam_pids=()

# The dump of a family: a root, its child in a group of its own, and a
# grandchild with a second thread, none with a death signal.
need_family() {
	if [ -n "$fam_err" ]; then
		bad "$fam_err"
		return
	fi
	[ -n "$fpid" ] && return 0
	local why0=$why p
	why=
	start_task family || true
	if [ -z "$why" ]; then
		read -r -a fam_pids <"$twd/aux"
		fam_pids=("$tpid" "${fam_pids[@]}")
		nestor_run dump -t "$tpid" -D "$tmp/fam"
		[ $rc = 0 ] || why="exit $rc: $(tr '\n' '|' <"$tmp/stderr")"
	fi
	for p in "${fam_pids[@]}"; do
		[ -z "$why" ] && ! wait_until 5 gone "$p" && why="task $p still there after the dump"
	done
	if [ -n "$why" ]; then
		fam_err="cannot make the family dump: $why"
		why=$why0
		bad "$fam_err"
		return
	fi
	fpid=$tpid fwd=$twd
	why=$why0 tpid='' twd=''
	procs=()
}

copy_family() {
	need_family || return
	img=$tmp/f.$ncase
	cp -a "$tmp/fam" "$img"
	if ! family_free; then
		skip="a pid of the family was reused by another process"
		return 1
	fi
}

# No task of the family, by its dumped pids and by its command line.
family_free() {
	local p f
	for p in "${fam_pids[@]}"; do
		alive "$p" && mine "$p" && return 1
	done
	local args
	for f in /proc/[0-9]*/cmdline; do
		mapfile -d '' -t args 2>/dev/null <"$f" || continue
		[ "${args[0]:-}" = "$helper" ] && [ "${args[1]:-}" = family ] &&
			[ "${args[2]:-}" = "$fwd" ] && return 1
	done
	return 0
}

family_gone() {
	local p
	if ! wait_until 3 family_free; then
		for p in "${fam_pids[@]}"; do
			alive "$p" && mine "$p" && procs+=("$p")
		done
		bad "tasks of the family left after the failed restore:$(for p in "${fam_pids[@]}"; do
			alive "$p" && echo -n " $p(${st[0]})"; done)"
		return
	fi
	[ ! -e "$img.pid" ] || bad "the failed restore wrote its pidfile" || return
	[ -z "$(find "$img" "${img%/*}" -maxdepth 2 -name '*.nestor-*' 2>/dev/null)" ] ||
		bad "a temporary pidfile was left: $(find "$img" "${img%/*}" -maxdepth 2 -name '*.nestor-*')"
}

# t_family_pidfile WHERE: the pidfile cannot be written: refused before the
# tree is made, or the tree killed when only the end tells.
t_family_pidfile() {
	local pf
	copy_family || return
	case $1 in
	missing) pf=$img/no/such/dir/pid ;;
	readonly) make_immutable "$img/ro" || return; pf=$img/ro/pid ;;
	isdir) mkdir "$img/piddir"; pf=$img/piddir ;;
	esac
	nestor_run restore -D "$img" -d --pidfile "$pf"
	refused "${pf//./\\.}"
	family_gone
}

# t_family_fault WHERE: a failure injected at a late step of the restore.
t_family_fault() {
	copy_family || return
	NESTOR_FAULT=$1 nestor_run restore -D "$img" -d --pidfile "$img.pid"
	refused "injected" "$1"
	family_gone
}

# t_family_nestor_dies WHERE gone|back: nestor is killed at that step; before
# the point of no return nothing of the family is left, after it the whole
# family runs and passes.
t_family_nestor_dies() {
	copy_family || return
	NESTOR_FAULT=kill:$1 nestor_run restore -D "$img" -d --pidfile "$img.pid"
	[ "$rc" = 137 ] || bad "nestor was not killed at $1 (exit $rc: $(head -c 300 "$tmp/stderr"))" ||
		return
	if [ "$2" = gone ]; then
		rm -f "$img.pid"
		family_gone
		return
	fi
	alive "$fpid" && mine "$fpid" || bad "the family is gone after nestor died at $1" || return
	tpid=$fpid twd=$fwd
	procs+=("${fam_pids[@]}")
	rm -f "$twd/result"
	task_intact && task_passes
}

# t_family_rewritten EDIT[,EDIT...] ERE...: images of the family rewritten
# with valid checksums (EDIT is FILE:ENTRY:FIELD=VALUE for
# build/fuzz/restore-fuzz -e), well formed but wrong: refused in one line
# naming the first EDIT's file, nothing of the family made. PID0 in an EDIT
# or ERE stands for the root's pid, PID1 its child's, PID2 the grandchild's.
t_family_rewritten() {
	local edits=$1 e i file
	shift
	copy_family || return
	[ -x "$build/fuzz/restore-fuzz" ] || bad "no $build/fuzz/restore-fuzz: make check builds it" ||
		return
	for i in 0 1 2; do
		edits=${edits//PID$i/${fam_pids[$i]}}
		set -- "${@//PID$i/${fam_pids[$i]}}"
	done
	file=${edits%%:*}
	IFS=, read -r -a edits <<<"$edits"
	for e in "${edits[@]}"; do
		"$build/fuzz/restore-fuzz" -e "$e" "$img" || bad "cannot rewrite: $e" || return
	done
	nestor_run restore -D "$img" -d --pidfile "$img.pid"
	refused "${file//./\\.}" "$@"
	family_gone
}

# Real restores of changed images: the family's images (the tree, the
# inventory and the descriptor tables only: changed memory or files could
# touch this machine's files) changed as restore-fuzz iterations 0..N-1 do.
# Each restore either succeeds (the tree is killed again) or is refused in
# one line, within the time limit, leaving no task of it behind.
t_family_fuzz_real() {
	local n=${BAD_FUZZ_REAL:-24} i ok=0 refused_n=0 what
	need_family || return
	[ -x "$build/fuzz/restore-fuzz" ] || bad "no $build/fuzz/restore-fuzz: make check builds it" ||
		return
	for ((i = 0; i < n; i++)); do
		img=$tmp/fz.$ncase.$i
		cp -a "$tmp/fam" "$img"
		family_free || { skip="a pid of the family was reused by another process"; return; }
		what=$("$build/fuzz/restore-fuzz" -s 1 -o pstree,inventory,fdinfo -m "$i" "$img") ||
			bad "iteration $i: cannot change the images" || return
		nestor_run restore -D "$img" -d --pidfile "$img.pid"
		if [ "$rc" = 0 ]; then
			ok=$((ok + 1))
		else
			refused || { why="iteration $i ($what): $why"; return; }
			refused_n=$((refused_n + 1))
			wait_until 3 family_free || bad "iteration $i ($what): refused, but tasks are left" ||
				return
			if find_strays; then
				bad "iteration $i ($what): refused, but left:$stray"
				procs=("${stray_pids[@]}")
				kill_procs_any
				return
			fi
		fi
		# What a successful restore made, whatever pids it got: the subreaper's
		# children, and theirs once they are orphaned.
		procs=("${fam_pids[@]}")
		kill_procs
		for _ in 1 2 3 4 5; do
			find_strays || break
			procs=("${stray_pids[@]}")
			kill_procs_any
		done
		rm -rf "$img" "$img.pid"
	done
	[ -n "${BAD_VERBOSE:-}" ] && echo "  $n changed image sets: $ok restored, $refused_n refused"
	return 0
}

# nestor is killed at many moments of the restore: either the whole family
# is back and passes, or none of it is left.
t_family_killed() {
	local d np n=0 back=0
	copy_family || return
	for d in 0 0.0005 0.001 0.0015 0.002 0.0025 0.003 0.0035 0.004 0.005 0.006 0.008 0.012 0.02; do
		{ "$nestor" restore -D "$img" -d --pidfile "$img.pid" </dev/null >"$tmp/stdout" \
			2>"$tmp/stderr" & np=$!; } 2>/dev/null
		sleep "$d"
		kill -KILL "$np" 2>/dev/null
		wait "$np" 2>/dev/null
		# A tree nestor took with it dies a moment after nestor: let it.
		sleep 0.3
		n=$((n + 1))
		if alive "$fpid" && mine "$fpid"; then
			back=$((back + 1))
			tpid=$fpid twd=$fwd
			procs+=("$tpid")
			rm -f "$twd/result"
			task_intact && task_passes || { why="after a kill at ${d}s: $why"; return; }
			procs=()
			wait_until 3 family_free || bad "after a kill at ${d}s, the restored family did not end" ||
				return
		else
			wait_until 3 family_free ||
				bad "nestor killed at ${d}s left part of the family:$(for p in "${fam_pids[@]}"; do
					alive "$p" && echo -n " $p(${st[0]})"; done)" || return
		fi
		rm -f "$img.pid"
	done
	[ -n "${BAD_VERBOSE:-}" ] && echo "  $n kills, $back restores completed"
	return 0
}

t_family_intact() {
	copy_family || return
	nestor_run restore -D "$img" -d --pidfile "$img.pid"
	[ $rc = 0 ] || bad "restore failed: exit $rc: $(tr '\n' '|' <"$tmp/stderr")" || return
	tpid=$fpid twd=$fwd
	procs+=("${fam_pids[@]}")
	[ "$(cat "$img.pid" 2>/dev/null)" = "$fpid" ] || bad "pidfile says '$(cat "$img.pid")'" ||
		return
	rm -f "$twd/result"
	task_intact && task_passes
}

# A refused dump must not spoil a complete dump already in its -D.
t_dump_keeps_old() {
	local p
	copy_base || return
	read -r p </proc/sys/kernel/pid_max
	p=$((p - 1))
	while [ -e "/proc/$p" ]; do p=$((p - 1)); done
	nestor_run dump -t "$p" -D "$img"
	refused "\\b$p\\b" || return
	diff -r "$tmp/base" "$img" >/dev/null ||
		bad "the earlier dump in -D changed: $(diff -rq "$tmp/base" "$img" | head -n 1)"
}

t_restore_pid_taken() {
	start_task plain || return
	img=$twd/img
	nestor_run dump -t "$tpid" -D "$img" -R
	[ $rc = 0 ] || bad "dump -R failed: exit $rc: $(tr '\n' '|' <"$tmp/stderr")" || return
	task_intact || return
	nestor_run restore -D "$img" -d --pidfile "$img.pid"
	refused "\\b$tpid\\b" || return
	[ ! -e "$img.pid" ] || bad "the failed restore wrote its pidfile" || return
	task_intact && task_passes
}

t_restore_file_changed() {
	local f
	copy_base || return
	f=$bwd/mapped
	cp -p "$f" "$f.orig"
	echo more >>"$f"
	restore_refused "${f//./\\.}"
	# Put it back as it was (the same file: cases after this one check its
	# identity) for any case after this one.
	cat "$f.orig" >"$f"
	touch -r "$f.orig" "$f"
	rm -f "$f.orig"
}

# A dump refused late (here: files.img cannot be made, refused once every
# task is collected and its images written) leaves the connections waiting
# in a listener's backlog there: the task accepts each, with its data, and
# its client hears it. Before, they had been accepted by nestor and lost.
t_backlog_kept() {
	start_task backlog || return
	mkdir -p "$twd/img/files.img"
	nestor_run dump -t "$tpid" -D "$twd/img"
	refused "files\\.img" && no_inventory "$twd/img" && task_intact && task_passes
}

# A file or directory reopened by its path must be the one of the dump:
# t_files_changed [CMD ERE...]: a task with an open file (fd 6, $twd/data)
# and a cwd ($twd/cwd) is dumped, CMD runs in $twd, and the restore is
# refused naming the task, what holds the file and the file (ERE...), leaving
# nothing behind. Without CMD, the control: the restore succeeds.
t_files_changed() {
	local cmd=${1:-} r re=()
	start_task files || return
	nestor_run dump -t "$tpid" -D "$twd/img"
	[ $rc = 0 ] || bad "dump failed: exit $rc: $(tr '\n' '|' <"$tmp/stderr")" || return
	wait_until 5 test ! -e "/proc/$tpid" || bad "task $tpid still there after the dump" ||
		return
	(cd "$twd" && eval "$cmd") || bad "cannot run: $cmd" || return
	nestor_run restore -D "$twd/img" -d --pidfile "$twd/pid"
	if [ -z "$cmd" ]; then
		[ $rc = 0 ] || bad "restore failed: exit $rc: $(tr '\n' '|' <"$tmp/stderr")" ||
			return
		rm -f "$twd/result"
		task_intact && task_passes
		return
	fi
	shift
	for r in "$@"; do
		re+=("${r//PID/$tpid}")
	done
	refused "\\b$tpid\\b" "${re[@]}" || return
	[ ! -e "$twd/pid" ] || bad "the failed restore wrote its pidfile" || return
	wait_until 3 gone "$tpid" || bad "task $tpid half-restored"
}

# The control: the same dump, untouched, restores and the task passes. Were
# it broken, the refusals above would prove nothing.
# SIGTERM (or Ctrl-C) while the tree is held: the dump stops, writes no
# inventory, and the task goes on as it was.
t_dump_interrupted() {
	local np
	start_task bigmem || return
	{ timeout -k 5 "$limit" "$nestor" dump -t "$tpid" -D "$twd/img" </dev/null \
		>"$tmp/stdout" 2>"$tmp/stderr" & np=$!; } 2>/dev/null
	sleep 0.05
	kill -TERM "$np" 2>/dev/null
	wait "$np"
	rc=$?
	refused "\\binterrupted\\b" && no_inventory "$twd/img" && task_intact && task_passes
}

# The task's cgroup is gone at restore: refused before anything is made.
t_restore_no_cgroup() {
	local cg
	start_task cgroup || return
	cg=$(cat "$twd/aux")
	nestor_run dump -t "$tpid" -D "$twd/img"
	[ "$rc" = 0 ] || { rmdir "$cg"; bad "dump failed: $(head -c 300 "$tmp/stderr")"; return; }
	wait_until 10 gone "$tpid" || bad "task $tpid still there after the dump" || return
	rmdir "$cg" || bad "cannot remove $cg" || return
	nestor_run restore -D "$twd/img" -d
	refused "\\b$tpid\\b" "cgroup" "does not exist" && { gone "$tpid" ||
		bad "a task with pid $tpid exists after the refused restore"; }
}

# The root's parent is outside the tree: with -d nestor, its parent at
# restore, exits at once and would fire the signal. Refused by name.
t_restore_root_pdeath() {
	start_task pdeath || return
	nestor_run dump -t "$tpid" -D "$twd/img"
	[ "$rc" = 0 ] || bad "dump failed: $(head -c 300 "$tmp/stderr")" || return
	wait_until 10 test ! -e "/proc/$tpid" || bad "task $tpid still there after the dump" ||
		return
	nestor_run restore -D "$twd/img" -d
	refused "\\b$tpid\\b" "parent-death" "-d" && { gone "$tpid" ||
		bad "a task with pid $tpid exists after the refused restore"; }
}

# Back to the pids cgroup we came from; the cases' cgroups removed.
cg_cleanup() {
	local d
	[ -n "$cg_home" ] && echo $$ >"$cg_home/cgroup.procs"
	cg_home=
	for d in "${cgdirs[@]}"; do
		wait_until 5 rmdir "$d" 2>/dev/null
	done
	cgdirs=()
}

# Dumped by a nestor in the task's own cgroup, restored by one in another:
# the task goes back to its cgroup (the image keeps every hierarchy's path,
# not only those that differ from the dumping nestor's).
t_restore_other_cgroup() {
	local root=/sys/fs/cgroup/pids a b path
	[ -d "$root" ] || { skip="no cgroup v1 pids hierarchy"; return; }
	path=$(sed -n 's/^[0-9]*:pids://p' /proc/$$/cgroup)
	a=$root${path%/}/nestor-bad-a-$$ b=$root${path%/}/nestor-bad-b-$$
	mkdir "$a" "$b" || bad "cannot make $a and $b" || return
	cgdirs+=("$a" "$b")
	cg_home=$root${path%/}
	echo $$ >"$a/cgroup.procs" || bad "cannot enter $a" || return
	start_task plain || return
	nestor_run dump -t "$tpid" -D "$twd/img"
	[ "$rc" = 0 ] || bad "dump failed: $(head -c 300 "$tmp/stderr")" || return
	wait_until 10 test ! -e "/proc/$tpid" || bad "task $tpid still there after the dump" ||
		return
	echo $$ >"$b/cgroup.procs" || bad "cannot enter $b" || return
	nestor_run restore -D "$twd/img" -d
	echo $$ >"$cg_home/cgroup.procs"
	[ "$rc" = 0 ] || bad "restore failed: $(head -c 300 "$tmp/stderr")" || return
	procs+=("$tpid")
	path=$(sed -n 's/^[0-9]*:pids://p' "/proc/$tpid/cgroup")
	[ "$root$path" = "$a" ] || bad "restored task $tpid is in pids cgroup $path, not in ${a#$root}" ||
		return
	task_intact && task_passes
	kill_procs
	cg_cleanup
}

t_restore_intact() {
	copy_base || return
	if alive "$bpid" && ! mine "$bpid"; then
		skip="pid $bpid was reused by another process"
		return
	fi
	nestor_run restore -D "$img" -d --pidfile "$img.pid"
	if [ $rc != 0 ]; then
		bad "restore failed: exit $rc: $(tr '\n' '|' <"$tmp/stderr")"
		nothing_restored
		return 1
	fi
	tpid=$bpid twd=$bwd
	procs+=("$tpid")
	[ "$(cat "$img.pid" 2>/dev/null)" = "$bpid" ] || bad "pidfile says '$(cat "$img.pid")'" ||
		return
	rm -f "$twd/result"
	task_intact && task_passes
}

# ---- show ----

t_show_file() {
	copy_base || return
	flip_middle "$img/$(img_name core-PID.img)"
	nestor_run show "$img/$(img_name core-PID.img)"
	refused "core-$bpid\\.img"
}

t_show_dir() {
	copy_base || return
	flip_middle "$img/$(img_name mm-PID.img)"
	nestor_run show "$img"
	refused "mm-$bpid\\.img"
}

t_show_foreign() {
	copy_base || return
	cp /bin/true "$img/inventory.img"
	nestor_run show "$img/inventory.img"
	refused "inventory\\.img"
}

run "dump: no such pid" t_no_such_pid
run "dump: pid 1" t_foreign 1 "init|\\b1\\b"
run "dump: a kernel thread (kthreadd)" t_kthread
run "dump: nestor itself" t_itself
run "dump: a zombie" t_zombie
run "dump: a thread id, not a process" t_thread_id
run "dump: two tasks sharing a memory neither got from the other" t_vm_orphans
run "dump: a task in another user namespace" dump_refused ns-user -- "\\bPID\\b" "user"
run "dump: a task in another net namespace" dump_refused ns-net -- "\\bPID\\b" "net"
run "dump: a task in another mount namespace" dump_refused ns-mnt -- "\\bPID\\b" "mnt|mount"
run "dump: a thread in a UTS namespace of its own" dump_refused thread_uts -- \
	"thread AUX\\b" "task PID\\b" "uts namespace"
run "dump: a task whose next child starts a pid namespace" dump_refused ns-pid_for_children -- \
	"\\bPID\\b" "pid_for_children"
run "dump: a task waiting for its vfork() child" dump_refused vfork -- "\\bPID\\b" "vfork"
run "dump: more pending signals than a dump takes" dump_refused pending -- "\\bPID\\b" "pending signals"
run "dump: a stopped task" t_stopped
run "dump: a traced task" t_traced
run "dump: a hard rlimit above nestor's own" t_rlimit_above
run "restore: a hard rlimit above nestor's own" t_restore_rlimit_above
run "dump: a pipe that a process outside the tree holds too" t_pipe_outside
run "dump: a unix socket connected outside the tree" t_unix_outside sockholder -- \
	"not even with --ext-unix-sk"
run "dump: a unix stream socket connected outside, --ext-unix-sk" t_unix_outside sockholder \
	--ext-unix-sk -- "stream" "not even with --ext-unix-sk"
run "dump: a unix datagram socket connected outside, no --ext-unix-sk" t_unix_outside \
	dgramholder -- "ext\\.sock" "--ext-unix-sk allows it"
run "dump: a unix datagram socket connected to an unnamed one outside, --ext-unix-sk" \
	t_unix_outside dgrampairholder --ext-unix-sk -- "datagram" "has no name"
run "restore: --ext-unix-sk, the outside datagram peer's name is gone" t_unix_ext_gone
run "restore: a queued datagram's named sender outside the tree is only in flight" \
	t_unix_sender_inflight
run "dump: a task holding an inet socket" dump_refused socket -- "\\bPID\\b" "fd 9\\b" "inet socket"
run "dump: a task holding a pidfd" dump_refused pidfd -- "\\bPID\\b" "fd 5\\b" "pidfd"
run "dump: an epoll whose fired one-shot watch's file reports no event" dump_refused \
	epoll_fired -- "\\bPID\\b" "fd 5\\b" "one-shot watch of fd 6"
run "dump: a task holding a /proc file of a process outside the tree" dump_refused procfd -- \
	"\\bPID\\b" "fd 5\\b" "/proc/1/stat" "not a task of the tree"
run "dump: a task holding an io_uring instance" dump_refused io_uring -- "\\bPID\\b" "fd 5\\b" "io_uring"
run "dump: a task attached to a System V shm segment" dump_refused sysv_shm -- "\\bPID\\b" \
	"mapping AUX\\b" "System V shared memory in the host's IPC namespace \\(not supported\\)"
run "dump: not a session leader, no -j" t_not_leader
run "dump: no -t" t_no_pid_opt
run "dump: no -D" t_no_dir_opt
run "dump: -t not a number" t_bad_pid_word
run "dump: -o log file in a missing dir" t_dump_log_unwritable
run "dump: refused, into a dir holding an earlier dump" t_dump_keeps_old
run "dump: -D is a file" t_dir_is_file
run "dump: -D is an unwritable dir" t_dir_unwritable
run "dump: -D cannot be created" t_dir_uncreatable

run "restore: images dir missing" t_restore_no_dir
run "restore: images dir empty" t_restore_empty_dir
run "restore: -D is a file" t_restore_dir_is_file
for f in inventory.img core-PID.img mm-PID.img fdinfo-PID.img files.img pages-PID.img; do
	run "restore: no $f" t_restore_missing "$f"
done
for f in inventory.img core-PID.img mm-PID.img fdinfo-PID.img files.img; do
	run "restore: $f cut in the middle" t_restore_truncated "$f"
done
run "restore: pages-PID.img one page short" t_restore_pages_short
for f in inventory.img core-PID.img mm-PID.img fdinfo-PID.img files.img; do
	run "restore: $f with a byte flipped" t_restore_flipped "$f"
done
for f in inventory.img core-PID.img mm-PID.img fdinfo-PID.img files.img; do
	run "restore: $f with a bad magic" t_restore_magic "$f"
done
for f in inventory.img core-PID.img mm-PID.img fdinfo-PID.img files.img; do
	run "restore: $f of format version 2" t_restore_version "$f"
done
run "restore: core-PID.img empty" t_restore_empty_file core-PID.img
run "restore: mm-PID.img only a header" t_restore_header_only mm-PID.img
run "restore: core-PID.img with a trailing byte" t_restore_trailing_byte core-PID.img
run "restore: a foreign file as inventory.img" t_restore_foreign
run "restore: core-PID.img is a directory" t_restore_not_regular core-PID.img dir
run "restore: core-PID.img is a FIFO" t_restore_not_regular core-PID.img fifo
run "restore: -o log file in a missing dir" t_restore_log_unwritable
run "restore: --pidfile in a missing dir" t_restore_pidfile_unwritable
run "restore: a tree, intact (control)" t_family_intact
run "restore: a tree, --pidfile in a missing dir" t_family_pidfile missing
run "restore: a tree, --pidfile in a read-only dir" t_family_pidfile readonly
run "restore: a tree, --pidfile is a directory" t_family_pidfile isdir
for f in tree-made finish-last pidfile-written detach-half; do
	run "restore: a tree, failure injected at $f" t_family_fault "$f"
done
run "restore: a tree, failure injected once the root is forked" t_family_fault forked
run "restore: a tree, nestor killed once the root is forked" t_family_nestor_dies forked gone
run "restore: a tree, nestor killed once the pidfile is written" t_family_nestor_dies \
	pidfile-written gone
run "restore: a tree, nestor killed past the point of no return" t_family_nestor_dies kept back
run "restore: a tree, nestor killed half way through the release" t_family_nestor_dies \
	detach-half back
run "restore: pstree.img rewritten: a child in session 1" t_family_rewritten pstree.img:1:sid=1 \
	"session 1\\b"
run "restore: pstree.img rewritten: a grandchild in a group no task leads" \
	t_family_rewritten pstree.img:2:pgid=1 "group 1\\b"
run "restore: pstree.img rewritten: a child leads a session its child is not in" \
	t_family_rewritten pstree.img:1:sid=PID1 "session PID0"
run "restore: pstree.img rewritten: the root shares nestor's fd table" t_family_rewritten \
	pstree.img:0:clone_files=1 "bad entry 0"
run "restore: pstree.img rewritten: the root in another session, no --shell-job" \
	t_family_rewritten pstree.img:0:sid=PID1 "session"
run "restore: pstree.img rewritten: a pid twice" t_family_rewritten pstree.img:2:pid=PID1 \
	"bad entry 2|twice"
run "restore: core-PID.img rewritten: cwd not a directory of files.img" t_family_rewritten \
	core-PID0.img:0:cwd_id=99999 "cwd"
run "restore: inventory.img rewritten: another root" t_family_rewritten \
	inventory.img:0:root_pid=PID1 "disagree"
run "restore: images rewritten: a child shares its parent's fs but has its own umask" \
	t_family_rewritten core-PID1.img:0:umask=63,pstree.img:1:clone_fs=1 "core-PID0\\.img" "umask"
run "restore: core-PID.img rewritten: two actions for one signal" t_family_rewritten \
	core-PID0.img:0:sigactions=dup "signal"
run "restore: a tree, nestor killed at many moments" t_family_killed
run "restore: a tree, images changed by the fuzzer, restored for real" t_family_fuzz_real
run "restore: pid taken (original still running after dump -R)" t_restore_pid_taken
run "dump: refused late, the connections waiting in a backlog are kept" t_backlog_kept
run "restore: mapped file changed since the dump" t_restore_file_changed
run "restore: open file replaced by a copy (same size and mtime)" t_files_changed \
	'cp -p data data.new && mv data.new data' "fd 6" "/data\\b" "replaced"
run "restore: open file truncated" t_files_changed 'truncate -s 10 data' "fd 6" "/data\\b" \
	"size 10, was"
run "restore: open file touched" t_files_changed 'touch data' "fd 6" "/data\\b" "mtime"
run "restore: cwd replaced by another directory" t_files_changed 'rmdir cwd && mkdir cwd' \
	"cwd" "/cwd\\b" "replaced by another directory"
run "restore: open file and cwd untouched (control)" t_files_changed
run "dump: interrupted by SIGTERM" t_dump_interrupted
run "restore: the task's cgroup does not exist" t_restore_no_cgroup
run "restore: from another cgroup than the dump's, into the task's own" t_restore_other_cgroup
run "restore: -d, the root has a parent-death signal" t_restore_root_pdeath
run "restore: intact images (control)" t_restore_intact

run "show: core-PID.img with a byte flipped" t_show_file
run "show: images dir with a corrupted mm-PID.img" t_show_dir
run "show: a foreign file as inventory.img" t_show_foreign

if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
