#!/bin/bash
# Checkpoint/restore test runner: starts each test program of tests/zdtm,
# checkpoints and restores it with nestor as the flavour says, then lets it
# verify its own state. Usage:
#   tests/run.sh [--flavour all|restore|twice|leave-running|ns|uns|none] [TEST...]
# ns: the test runs under a small init (build/tests/nsinit) in fresh pid, UTS,
# IPC, mount and network namespaces, a container; the init's tree is dumped
# and restored. uns: the same inside a new user namespace (0 -> 100000).
# Env: NESTOR (binary, default build/nestor), ZDTM_BUILD (default build),
# ZDTM_TIMEOUT (seconds per wait, default 10), ZDTM_NESTOR_TIMEOUT (per nestor
# run, default 60), ZDTM_KEEP=1 keeps the work dirs of failed tests.
# Per-test options: a line "nestor-dump-opts: OPTS" or "nestor-restore-opts: OPTS"
# (in a comment) in tests/zdtm/NAME.c adds OPTS to every dump or restore of it;
# "nestor-restore-env: VAR=VALUE..." sets environment variables for its restores.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZDTM_BUILD:-$root/build}
nestor=${NESTOR:-$root/build/nestor}
subreaper=$build/tests/subreaper
snapshot_bin=$build/tests/snapshot
timeout_s=${ZDTM_TIMEOUT:-10}
nestor_timeout=${ZDTM_NESTOR_TIMEOUT:-60}

# shellcheck source=tests/lib/common.sh
. "$root/tests/lib/common.sh"
wait_step=0.05
subreap "$subreaper" run.sh "$0" "$@"
own_devpts "$0" "$@"
reaper=$PPID
# shellcheck source=tests/lib/snapshot.sh
. "$root/tests/lib/snapshot.sh"

flavour=all
tests=()
while [ $# -gt 0 ]; do
	case $1 in
	--flavour) flavour=${2:-}; shift 2 || break ;;
	--flavour=*) flavour=${1#*=}; shift ;;
	-h|--help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) tests+=("$1"); shift ;;
	esac
done
case $flavour in
all) flavours=(none restore twice leave-running ns uns) ;;
restore|twice|leave-running|ns|uns|none) flavours=("$flavour") ;;
*) echo "run.sh: unknown flavour '$flavour'" >&2; exit 2 ;;
esac
if [ ${#tests[@]} -eq 0 ]; then
	mapfile -t tests < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$root/tests/zdtm.list")
fi
if [ ! -x "$snapshot_bin" ]; then
	echo "run.sh: $snapshot_bin is missing: make tests-bin" >&2
	exit 2
fi
if [ "$flavour" != none ] && [ ! -x "$nestor" ]; then
	echo "run.sh: no nestor binary at $nestor (set NESTOR, or use --flavour none)" >&2
	exit 2
fi

workdirs=()
pid=
tpid=
wd=
nsinit_bin=$build/tests/nsinit

cleanup() {
	kill_test
	[ ${#workdirs[@]} -gt 0 ] && rm -rf "${workdirs[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

parent_is() { [ "$(parent_of "$1")" = "$2" ]; }

# The pid still runs our test program (its argv names our work dir).
ours() {
	alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF " $wd"
}

# Ours, or at least a child of our subreaper (a restore gone wrong).
mine() {
	ours "$1" && return 0
	[ "$(parent_of "$1")" = "$PPID" ]
}

ready_or_exited() { [ -e "$wd/ready" ] || gone "$pid"; }
finished() { [ -s "$wd/result" ] && gone "$pid"; }

kill_test() {
	if [ -n "$pid" ] && alive "$pid" && mine "$pid"; then
		kill_wait "$pid" 5
	fi
	return 0
}

# dump IMGDIR [ARGS...]
dump() {
	local img=$1 rc
	shift
	mkdir -p "$img"
	timeout -k 5 "$nestor_timeout" "$nestor" dump -t "$pid" -D "$img" -v4 -o dump.log "$@" \
		"${dump_opts[@]}" \
		</dev/null 2>"$img.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		reason="dump into ${img##*/} failed (exit $rc): $(head -n 1 "$img.err")"
		return 1
	fi
	case " $* " in *" -R "*) return 0 ;; esac
	if ! wait_until "$timeout_s" gone "$pid"; then
		reason="task $pid still alive after dump"
		return 1
	fi
	# The subreaper reaps it; restore needs the pid free, not a zombie.
	if ! wait_until "$timeout_s" reaped "$pid"; then
		reason="task $pid still a zombie after dump"
		return 1
	fi
}

restore() {
	local img=$1 got rc
	rm -f "$wd/pid"
	env "${restore_env[@]}" timeout -k 5 "$nestor_timeout" "$nestor" restore -D "$img" -d \
		--pidfile "$wd/pid" -v4 -o restore.log "${restore_opts[@]}" </dev/null \
		2>"$img.rst.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		reason="restore from ${img##*/} failed (exit $rc): $(head -n 1 "$img.rst.err")"
		return 1
	fi
	got=$(cat "$wd/pid" 2>/dev/null)
	if [ "$got" != "$pid" ]; then
		reason="pidfile says '$got', expected $pid"
		return 1
	fi
	if ! ours "$pid"; then
		reason="restored task $pid is not running (state '$(state "$pid")')"
		return 1
	fi
}

# The pids of the test's tree, root first.
descendants() {
	local c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		descendants "$c"
	done
}

# Every task's address space, as maps shows it, one file per pid in DIR: a
# dump -R must leave none of nestor's mappings (parasite, buffers) behind.
save_maps() {
	local p
	mkdir -p "$1"
	for p in $(descendants "$pid"); do
		cat "/proc/$p/maps" >"$1/$p" 2>/dev/null
	done
}

# Which task's maps changed since save_maps DIR; tasks gone since (a shell
# test's short-lived commands) are left out.
maps_changed() {
	local f p
	for f in "$1"/*; do
		p=${f##*/}
		[ -e "/proc/$p" ] || continue
		cat "/proc/$p/maps" >"$f.now" 2>/dev/null || continue
		[ -e "/proc/$p" ] || continue
		if ! cmp -s "$f" "$f.now"; then
			echo "task $p: $(diff "$f" "$f.now" | grep '^[<>]' | head -n 1)"
			return 0
		fi
	done
	return 1
}

# Each flavour compares the whole state of the tree (tests/lib/snapshot.sh)
# before the dump with what it is after each restore (after the dump for
# -R); the control compares two snapshots with no dump in between, so that
# a key that changes by itself shows there, not as a nestor bug.
checkpoint() {
	local changed before=$wd/snap.before
	if ! snap_take "$pid" "$before"; then
		reason="snapshot before the dump failed: $(head -n 1 "$before.err")"
		return 1
	fi
	case $1 in
	none) sleep 0.1; snap_check "$before" "$wd/snap.control" control ;;
	restore|ns|uns) dump "$wd/img" && restore "$wd/img" && snap_check "$before" "$wd/snap.after" restore ;;
	twice)
		dump "$wd/img" && restore "$wd/img" && snap_check "$before" "$wd/snap.after" restore &&
			dump "$wd/img2" && restore "$wd/img2" &&
			snap_check "$before" "$wd/snap.after2" restore2 ;;
	leave-running)
		save_maps "$wd/maps"
		dump "$wd/img" -R || return 1
		if ! ours "$pid"; then
			reason="task $pid did not survive dump -R"
			return 1
		fi
		if changed=$(maps_changed "$wd/maps"); then
			reason="dump -R changed the mappings of $changed"
			return 1
		fi
		snap_check "$before" "$wd/snap.after" dump-R ;;
	esac
}

# test_opts NAME KIND: the words after "nestor-KIND-opts:" in the test's source.
test_opts() {
	local src=$root/tests/zdtm/$1.c
	[ -f "$src" ] || return 0
	sed -n "s/.*nestor-$2-opts:[[:space:]]*\(.*\)/\1/p" "$src" | sed 's@[[:space:]]*\*/.*@@'
}

test_env() {
	local src=$root/tests/zdtm/$1.c
	[ -f "$src" ] || return 0
	sed -n "s/.*nestor-restore-env:[[:space:]]*\(.*\)/\1/p" "$src" | sed 's@[[:space:]]*\*/.*@@'
}

# Runs in a subshell: the test gets only fds 0-2, nothing leaked from whoever
# started the runner (a stray pipe is one more thing for nestor to dump).
exec_test() {
	cd "$wd" || exit 1
	close_fds
	# The test reads its parent at start: let the shell that forked us exit
	# first, so that it is our subreaper from the start, as after a restore.
	wait_until 5 parent_is "$BASHPID" "$reaper"
	case $2 in
	ns) exec "$nsinit_bin" "$1" "$wd" </dev/null >"$wd/out.log" 2>&1 ;;
	uns) exec "$nsinit_bin" -u "$1" "$wd" </dev/null >"$wd/out.log" 2>&1 ;;
	esac
	exec setsid "$1" "$wd" </dev/null >"$wd/out.log" 2>&1
}

# ns, uns: the pid of the init (the tree's root, dumped) once its launcher is
# gone, and of the test (which the runner signals) once the init made it.
nsinit_pids() {
	if ! wait_until "$timeout_s" test -s "$wd/nsinit.pid"; then
		reason="nsinit wrote no pid: $(head -n 1 "$wd/out.log" 2>/dev/null)"
		return 1
	fi
	pid=$(cat "$wd/nsinit.pid")
	# (An init gone already: its test ended before it was ready, said below.)
	if ! wait_until "$timeout_s" parent_is "$pid" "$reaper" && alive "$pid"; then
		reason="the init $pid is not the subreaper's child"
		return 1
	fi
}

# run_one NAME FLAVOUR: sets verdict to PASS, SKIP or FAIL and reason.
run_one() {
	local bin=$build/tests/zdtm/$1 res sid
	verdict=FAIL
	reason=
	read -r -a dump_opts <<<"$(test_opts "$1" dump)"
	read -r -a restore_opts <<<"$(test_opts "$1" restore)"
	read -r -a restore_env <<<"$(test_env "$1")"
	snap_setup "$1"
	if [ ! -x "$bin" ]; then
		reason="no binary $bin"
		return
	fi
	# Double fork: the test is the subreaper's child from the start, like a
	# restored task, and the subreaper reaps it the moment it dies.
	pid=$(exec_test "$bin" "$2" & echo $!)
	case $2 in ns|uns) nsinit_pids || return ;; esac
	if ! wait_until "$timeout_s" ready_or_exited; then
		reason="not ready after ${timeout_s}s"
		return
	fi
	if [ ! -e "$wd/ready" ]; then
		res=$(head -n 1 "$wd/result" 2>/dev/null)
		case $res in
		SKIP*) verdict=SKIP; reason=${res#SKIP: } ;;
		*) reason="exited before ready: ${res:-no result}" ;;
		esac
		return
	fi
	tpid=$pid
	case $2 in ns|uns) tpid=$(cat "$wd/nsinit.test" 2>/dev/null) ;; esac
	sid=$(stat_of "$tpid" && echo "${st[3]}")
	if [ -z "$tpid" ] || [ "$sid" != "$tpid" ]; then
		reason="test is not a session leader (sid $sid), setsid must not fork"
		return
	fi
	checkpoint "$2" || return
	kill -TERM "$tpid" 2>/dev/null
	if ! wait_until "$timeout_s" finished; then
		reason="no result ${timeout_s}s after SIGTERM (task state '$(state "$pid")')"
		return
	fi
	res=$(head -n 1 "$wd/result")
	case $res in
	PASS) verdict=PASS ;;
	SKIP*) verdict=SKIP; reason=${res#SKIP: } ;;
	*) reason=${res#FAIL: } ;;
	esac
}

diagnose() {
	local f
	for f in "$wd"/snap-*.diff; do
		[ -s "$f" ] || continue
		echo "  --- ${f#$wd/}"
		head -n 40 "$f" | sed 's/^/  | /'
	done
	for f in "$wd/out.log" "$wd"/img*.err "$wd"/img*/dump.log \
		"$wd"/img*/restore.log; do
		[ -s "$f" ] || continue
		echo "  --- ${f#$wd/} (tail)"
		tail -n 15 "$f" | sed 's/^/  | /'
	done
}

passed=0 failed=0 skipped=0 ran=0
# The none flavour is a control (the test alone, no checkpoint): counted apart.
declare -A cnt=([none.PASS]=0 [none.FAIL]=0 [none.SKIP]=0 [cr.PASS]=0 [cr.FAIL]=0 [cr.SKIP]=0)
tally() {
	local k=cr
	[ "$1" = none ] && k=none
	cnt[$k.$2]=$((cnt[$k.$2] + 1))
}
# counts KIND: "P passed, F failed[, S skipped]" of none or cr.
counts() {
	local s="${cnt[$1.PASS]} passed, ${cnt[$1.FAIL]} failed"
	[ "${cnt[$1.SKIP]}" -gt 0 ] && s+=", ${cnt[$1.SKIP]} skipped"
	echo "$s"
}
planned=$((${#tests[@]} * ${#flavours[@]}))
for entry in "${tests[@]}"; do
	# "name !flavour,..." in the list: flavours nestor refuses for this test
	# by design (the list says why); they are reported as skipped.
	t=${entry%%!*}
	excluded=
	[ "$t" != "$entry" ] && excluded=",${entry#*!},"
	for fl in "${flavours[@]}"; do
		if [[ $excluded == *",$fl,"* ]]; then
			echo "SKIP $t ($fl): refused by design, see tests/zdtm.list"
			skipped=$((skipped + 1)) ran=$((ran + 1))
			tally "$fl" SKIP
			continue
		fi
		wd=$(mktemp -d /tmp/zdtm.XXXXXX)
		workdirs+=("$wd")
		# Tests that drop their uid must still be able to write their result.
		chmod 0777 "$wd"
		pid=
		run_one "$t" "$fl"
		ran=$((ran + 1))
		tally "$fl" "$verdict"
		case $verdict in
		PASS) echo "PASS $t ($fl)"; passed=$((passed + 1)) ;;
		SKIP) echo "SKIP $t ($fl): $reason"; skipped=$((skipped + 1)) ;;
		*)
			echo "FAIL $t ($fl): $reason"
			failed=$((failed + 1))
			diagnose
			[ -n "${ZDTM_KEEP:-}" ] && echo "  work dir kept: $wd" ;;
		esac
		kill_test
		if [ "$verdict" != FAIL ] || [ -z "${ZDTM_KEEP:-}" ]; then
			rm -rf "$wd"
		fi
		unset 'workdirs[-1]'
		pid=
	done
done

[ "${cnt[none.PASS]}${cnt[none.FAIL]}${cnt[none.SKIP]}" != 000 ] &&
	echo "control (none): $(counts none)"
[ "${cnt[cr.PASS]}${cnt[cr.FAIL]}${cnt[cr.SKIP]}" != 000 ] &&
	echo "checkpoint/restore: $(counts cr)"
# For tests/check.sh: every planned test x flavour must have run.
echo "SUMMARY planned=$planned ran=$ran passed=$passed failed=$failed skipped=$skipped"
[ $failed -eq 0 ] && [ $ran -eq $planned ]
