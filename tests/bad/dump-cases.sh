# Cases of tests/bad_input.sh: dumps nestor must refuse, or must not let harm
# the target. Sourced by it; uses its helpers (run, bad, refused, start_task...).

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
	# The child says ready itself: the holder may not have written aux yet.
	wait_until 5 test -e "$twd/aux" || bad "the holder of $1 never said its child" || return
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


# The images' file system fills up while the pages are spliced into the
# image by nestor's threads: one line naming the task and the cause, no
# inventory, and the task goes on as it was (its memory unchanged).
t_dump_fs_full() {
	local mnt
	start_task bigmem || return
	mnt=$twd/small
	mkdir -p "$mnt" && mount -t tmpfs -o size=16m nestor-bad-full "$mnt" ||
		bad "cannot mount a tmpfs on $mnt" || return
	nestor_run dump -t "$tpid" -D "$mnt/img"
	refused "\\b$tpid\\b" "No space left on device" && no_inventory "$mnt/img" &&
		task_intact && task_passes
	umount "$mnt" || umount -l "$mnt"
	return 0
}

# A task in a pid namespace whose init (its parent here) is not dumped: the
# namespace cannot be made again without it.
t_pidns_member() {
	local holder
	twd=$(mktemp -d "$tmp/t.XXXXXX")
	chmod 0777 "$twd"
	holder=$(launch "$twd" setsid unshare --pid --fork sh -c "setsid $helper plain $twd; :" &
		echo $!)
	procs+=("$holder")
	wait_until 5 test -e "$twd/ready" || bad "the task in the pid namespace is not ready" ||
		return
	tpid=$(pgrep -x -f "$helper plain $twd") || bad "cannot find the task" || return
	procs+=("$tpid")
	stat_of "$tpid" || bad "task $tpid vanished" || return
	nestor_run dump -t "$tpid" -D "$twd/img"
	refused "\\b$tpid\\b" "pid namespace whose init is outside the dump" &&
		no_inventory "$twd/img" && task_intact && task_passes
}
