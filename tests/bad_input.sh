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
mounts=()    # small tmpfs mounts a case made, unmounted before removal
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
	for d in "${mounts[@]}"; do
		umount "$d" 2>/dev/null
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

# The cases: their functions, then the list that runs them.
. "$root/tests/bad/dump-cases.sh"
. "$root/tests/bad/restore-cases.sh"


run "dump: no such pid" t_no_such_pid
run "dump: pid 1" t_foreign 1 "init|\\b1\\b"
run "dump: a kernel thread (kthreadd)" t_kthread
run "dump: nestor itself" t_itself
run "dump: a zombie" t_zombie
run "dump: a thread id, not a process" t_thread_id
run "dump: two tasks sharing a memory neither got from the other" t_vm_orphans
run "dump: a child in the session of an init its user namespace owns" dump_refused ns-user-pid -- \
	"task AUX\\b" "session of its parent, the init"
run "dump: a task sharing fs info in another user namespace" dump_refused ns-user-fs -- \
	"task AUX\\b" "CLONE_FS" "user namespace"
run "dump: a network namespace with more than loopback" dump_refused ns-net -- "\\bPID\\b" \
	"network namespace with address 127\\.0\\.0\\.2"
run "dump: a mount namespace with a mount of its own" dump_refused ns-mnt -- "\\bPID\\b" \
	"mount namespace [0-9]+ of task PID: /.*/mnt \\(tmpfs\\) is not in nestor's"
run "dump: a proc of a pid namespace whose init is outside the tree" dump_refused ns-mnt-proc -- \
	"\\bPID\\b" "mount namespace [0-9]+ of task PID: proc at /.*/proc is of pid namespace [0-9]+, which is not one of the tree's"
run "dump: a task outside the root of its cgroup namespace" dump_refused ns-cgroup -- \
	"task PID\\b" "outside the root of its cgroup namespace"
run "dump: a task whose children go to another time namespace" dump_refused ns-time -- \
	"\\bPID\\b" "time namespace for its children other than its own"
run "dump: a thread in a network namespace with more than loopback" dump_refused thread_net -- \
	"task PID \\(thread AUX\\)" "network namespace with address 127\\.0\\.0\\.2"
run "dump: a task in a pid namespace whose init is not dumped" t_pidns_member
run "dump: a unix socket of a network namespace no task is in, with more than loopback" \
	dump_refused netns_unix -- "\\bPID\\b" "fd [56]\\b" "network namespace with address 127\\.0\\.0\\.2"
run "dump: a descriptor of a namespace" dump_refused nsfd -- "\\bPID\\b" "fd 5\\b" "uts:\\["
run "dump: a task whose next child starts a pid namespace" dump_refused ns-pid_for_children -- \
	"\\bPID\\b" "pid namespace for its children without an init"
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
run "dump: a pipe owned (F_SETOWN_EX) by a thread other than the main one" \
	dump_refused fown_thread -- "\\bPID\\b" "fd 7\\b" "thread AUX\\b" "F_SETOWN"
run "dump: a task holding an io_uring instance" dump_refused io_uring -- "\\bPID\\b" "fd 5\\b" "io_uring"
run "dump: a POSIX queue with an mq_notify registration" dump_refused mq_notify -- "\\bPID\\b" \
	"/n\\b" "mq_notify"
run "dump: a descriptor of a POSIX queue of nestor's IPC namespace" dump_refused mq_host -- \
	"\\bPID\\b" "fd AUX\\b" "POSIX message queue"
run "dump: System V attachments and a thread in another IPC namespace" dump_refused \
	sysv_thread -- "\\bPID\\b" "thread AUX\\b" "System V"
run "dump: an unattached segment with shm_rmid_forced" dump_refused shm_forced -- \
	"segment AUX\\b" "shm_rmid_forced"
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
run "restore: ipcshm-N.img a byte short" t_restore_ipc_damaged shm
run "restore: ipc-N.img cut in an entry" t_restore_ipc_damaged ipc
run "restore: ipcmq-N.img with a flipped byte" t_restore_ipc_damaged mq
run "restore: mm rewritten: an attachment of no segment of its IPC namespace" t_ipc_rewritten \
	mm vmas.kind=7.shmid=424242 "System V segment 424242, which its IPC namespace has not"
run "restore: mm rewritten: an attachment past its segment's end" t_ipc_rewritten \
	mm vmas.kind=7.pgoff=1048576 "reaches past the end of System V segment"
run "restore: ipc-N.img rewritten: a POSIX queue's count not its messages'" t_ipc_rewritten \
	ipc mqs.0.curmsgs=5 "ipcmq-[0-9]+\\.img is corrupted: POSIX queue 0 holds 1 messages, 5 said"
run "restore: files.img rewritten: a POSIX queue descriptor of no IPC namespace" \
	t_ipc_rewritten files:MQUEUE ipc_ns=1 "POSIX queue /objs \\(file [0-9]+\\) is in no restored"
run "restore: files.img rewritten: a socket of a namespace not a network one" \
	t_ipc_rewritten files:SOCKET sock.netns=1 "bad socket [0-9]+ \\(network namespace\\)"
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
for w in end-synced:on end-held:on end-decided:dead end-killing:dead; do
	run "dump: a tree, nestor killed at ${w%:*} of a dump's end" t_family_dump_dies "${w%:*}" \
		"${w#*:}"
done
run "restore: a tree, intact (control)" t_family_intact
run "restore: a tree, --pidfile in a missing dir" t_family_pidfile missing
run "restore: a tree, --pidfile in a read-only dir" t_family_pidfile readonly
run "restore: a tree, --pidfile is a directory" t_family_pidfile isdir
for f in tree-made finish-last pidfile-written detach-half; do
	run "restore: a tree, failure injected at $f" t_family_fault "$f"
done
run "restore: a tree, failure injected once the root is forked" t_family_fault forked
for w in 0 1 2; do
	run "restore: a tree, the pages of task $w cut short after the validation" \
		t_family_pages_lost "$w"
done
run "restore: a tree, nestor killed once the root is forked" t_family_nestor_dies forked gone
run "restore: a tree, nestor killed once the pidfile is written" t_family_nestor_dies \
	pidfile-written gone
run "restore: a tree, nestor killed past the point of no return" t_family_nestor_dies kept back
run "restore: a tree, nestor killed half way through the release" t_family_nestor_dies \
	detach-half back
run "restore: ns.img rewritten: a namespace its own parent" t_family_rewritten \
	ns.img:0:host=0,ns.img:0:parent=1 "corrupted"
run "restore: ns.img rewritten: an owner that is not a user namespace" t_family_rewritten \
	ns.img:2:host=0,ns.img:2:owner=1 "corrupted"
run "restore: userns image rewritten: a uid map that overlaps" t_userns_rewritten uid_map=dup \
	"corrupted" "id map"
run "restore: userns image rewritten: a gid map that overlaps" t_userns_rewritten gid_map=dup \
	"corrupted" "id map"
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
run "restore: mm-PID.img rewritten: pages from the parent listed twice" t_family_rewritten \
	mm-PID1.img:0:parent_runs=dup "bad pages from parent PID0 at [0-9a-f]+"
run "restore: mm-PID.img rewritten: a page from the parent also from its stage" \
	t_family_rewritten mm-PID1.img:0:stage_runs=dup:parent_runs \
	"bad pages from parent PID0's stage at [0-9a-f]+"
run "restore: a tree, nestor killed at many moments" t_family_killed
run "restore: a tree, images changed by the fuzzer, restored for real" t_family_fuzz_real
run "restore: pid taken (original still running after dump -R)" t_restore_pid_taken
run "dump: refused late, the connections waiting in a backlog are kept" t_backlog_kept
run "dump: out of room at the end, the connections waiting in a backlog are kept" \
	t_backlog_no_room
run "restore: backlog.img missing" t_backlog_image rm "connection not yet accepted"
run "restore: backlog.img rewritten: another listener" t_backlog_image backlog.img:0:ino=1 \
	"backlog\\.img" "listener"
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
run "dump: the images' file system fills up during the pages" t_dump_fs_full
run "restore: the task's cgroup does not exist" t_restore_no_cgroup
run "restore: from another cgroup than the dump's, into the task's own" t_restore_other_cgroup
run "restore: -d, the root has a parent-death signal" t_restore_root_pdeath
run "restore: a login uid nestor cannot set (no CAP_AUDIT_CONTROL)" t_restore_loginuid_nocap
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
