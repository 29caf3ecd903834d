#!/bin/bash
# Fault test: nestor is killed (SIGKILL, SIGTERM) at many moments of a dump
# (with and without -R) and of a restore of a busy tree (tests/zdtm/fault_busy:
# 3 processes, 6 threads writing memory, making syscalls, sleeping, one with
# a SIGTRAP handler it breaks into). After each kill:
#  - a dump that completed: with -R the tree runs on as before; without, the
#    tree is gone and its image restores a tree that passes its own checks;
#  - a dump that did not: the tree runs on as before: every task and thread
#    alive, not stopped, not traced, the same signal mask, ignored and caught
#    signals, descriptors and mappings (but the residue README lists: one
#    anonymous rwx mapping per process), and its own checks pass;
#  - a restore that completed leaves a tree that passes its checks; one that
#    did not leaves no task of the tree.
# Usage: tests/fault.sh. Env: NESTOR, ZDTM_BUILD, FAULT_TRIALS (per kind,
# default 20), FAULT_BUDGET_S (whole run, default 60: each of the six timed
# kinds stops after a sixth of it, but runs 5 trials at least), FAULT_ONLY
# (kinds: pages, dump-R, dump, restore; default all). Two kinds more are not
# timed: nestor kills itself in the middle of the pages (NESTOR_FAULT=kill:pages).
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZDTM_BUILD:-$root/build}
nestor=${NESTOR:-$root/build/nestor}
prog=$build/tests/zdtm/fault_busy
trials=${FAULT_TRIALS:-20}
budget=${FAULT_BUDGET_S:-60}

if [ -z "${NESTOR_SUBREAPED:-}" ]; then
	export NESTOR_SUBREAPED=1
	exec "$build/tests/subreaper" "$BASH" "$0" "$@"
fi
for f in "$nestor" "$prog"; do
	[ -x "$f" ] || { echo "FAIL fault: $f is missing (make all tests-bin)"; exit 1; }
done

wd=
pid=
pids=()
failed=0
passed=0
kinds_passed=0
kinds_failed=0
started=$SECONDS

cleanup() {
	# A child bash not yet exec'd into nestor runs our traps if killed
	# then: only the script itself may clean up (and kill the tree).
	[ "$BASHPID" = "$$" ] || return 0
	kill_tree
	[ -n "$wd" ] && rm -rf "$wd"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.02
	done
}

# Our tree's tasks: every process whose argv names the work dir (the tree,
# and tasks a restore made but did not finish, which still run nestor).
ours() {
	local f
	for f in $(grep -alsF -- "$wd" /proc/[0-9]*/cmdline); do
		f=${f#/proc/}
		f=${f%/cmdline}
		# grep's own argv names it too: it is gone by now
		[ -e "/proc/$f" ] && echo "$f"
	done
}

# Who they are, for a failure message.
describe() {
	local p
	for p in "$@"; do
		echo -n "$p ($(tr '\0' ' ' 2>/dev/null </proc/"$p"/cmdline | cut -c1-40), state $(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' /proc/"$p"/status 2>/dev/null)) "
	done
}
none_left() { [ -z "$(ours)" ] && ! pids_exist; }
pids_exist() {
	local p
	for p in "${pids[@]}"; do [ -e "/proc/$p" ] && return 0; done
	return 1
}

# The tree killed, its work dir removed.
drop_tree() {
	kill_tree
	rm -rf "$wd"
	wd=
}

kill_tree() {
	local p
	[ -n "$wd" ] || return 0
	for p in $(ours); do kill -KILL "$p" 2>/dev/null; done
	wait_until 5 none_left
}

descendants() {
	local c
	echo "$1"
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		descendants "$c"
	done
}

# The tree gets only fds 0-2: nestor refuses a pipe shared with the outside.
exec_tree() {
	local fd
	cd "$wd" || exit 1
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	exec setsid "$prog" "$wd" </dev/null >"$wd/out.log" 2>&1
}

start_tree() {
	wd=$(mktemp -d /tmp/fault.XXXXXX)
	pid=$(exec_tree & echo $!)
	wait_until 10 test -e "$wd/ready" || return 1
	mapfile -t pids < <(descendants "$pid")
	[ ${#pids[@]} -eq 3 ]
}

# What must not change, one file per task in DIR.
snapshot() {
	local p t
	mkdir -p "$1"
	for p in "${pids[@]}"; do
		{
			for t in /proc/"$p"/task/*; do
				echo "thread ${t##*/}"
				grep -E '^(SigBlk|SigIgn|SigCgt):' "$t/status"
			done
			ls -l /proc/"$p"/fd | awk 'NR > 1 { print "fd", $(NF-2), $NF }'
		} >"$1/$p.state" 2>/dev/null
		cat /proc/"$p"/maps >"$1/$p.maps" 2>/dev/null
	done
}

# The tree runs on as before; the reason on stdout if not.
same_as_before() {
	local p t s line
	for p in "${pids[@]}"; do
		[ -e "/proc/$p" ] || { echo "task $p is gone"; return 1; }
		for t in /proc/"$p"/task/*; do
			s=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "$t/status")
			case $s in T|t|Z|X) echo "thread ${t##*/} is in state $s"; return 1 ;; esac
			line=$(grep '^TracerPid:' "$t/status")
			[ "${line##*[[:space:]]}" = 0 ] || { echo "thread ${t##*/} is traced"; return 1; }
		done
	done
	snapshot "$wd/after"
	for p in "${pids[@]}"; do
		if ! cmp -s "$wd/before/$p.state" "$wd/after/$p.state"; then
			echo "task $p: $(diff "$wd/before/$p.state" "$wd/after/$p.state" | grep '^[<>]' | head -n 2 | tr '\n' ' ')"
			return 1
		fi
		# The one residue allowed: nestor's anonymous rwx mapping.
		line=$(diff "$wd/before/$p.maps" "$wd/after/$p.maps" | grep '^[<>]' |
			grep -vE '^> [0-9a-f]+-[0-9a-f]+ rwxp 00000000 00:00 0 *$' | head -n 1)
		[ -z "$line" ] || { echo "task $p maps: $line"; return 1; }
	done
}

# No task stopped or traced any more (a detached tree settles at once).
settled() {
	local t s line
	for t in /proc/"$pid"/task/* /proc/"${pids[1]}"/task/* /proc/"${pids[2]}"/task/*; do
		s=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "$t/status" 2>/dev/null)
		line=$(grep '^TracerPid:' "$t/status" 2>/dev/null)
		case $s in T|t) return 1 ;; esac
		[ "${line##*[[:space:]]}" = 0 ] || return 1
	done
}

tree_dead() {
	local p
	for p in "${pids[@]}"; do
		grep -qaF fault_busy "/proc/$p/cmdline" 2>/dev/null && return 1
	done
	return 0
}

# Every task of the tree runs the program, none is stopped or traced.
whole_tree() {
	local p
	for p in "${pids[@]}"; do
		grep -qaF fault_busy "/proc/$p/cmdline" 2>/dev/null || return 1
	done
	settled
}

# SIGTERM to the root: the tree checks itself and says PASS.
verdict() {
	rm -f "$wd/result" "$wd"/verdict.*
	kill -TERM "$pid" 2>/dev/null
	if ! wait_until 10 test -s "$wd/result" || ! wait_until 5 none_left; then
		echo "no verdict from the tree (left: $(describe $(ours)))"
		return 1
	fi
	local res
	res=$(head -n 1 "$wd/result")
	[ "$res" = PASS ] || { echo "the tree says: $res"; return 1; }
}

restore_tree() {
	local rc
	"$nestor" restore -D "$wd/img" -d --pidfile "$wd/pid" -v4 -o restore.log </dev/null \
		2>"$wd/restore.err"
	rc=$?
	[ $rc -eq 0 ] || { echo "restore failed: $(head -n 1 "$wd/restore.err")"; return 1; }
}

# report TRIAL WHY: a failed trial (its kind's line says FAIL).
report() {
	if [ -n "$2" ]; then
		echo "  failed: $1: $2"
		failed=$((failed + 1))
		[ -n "${FAULT_KEEP:-}" ] && cp -r "$wd" "$wd.kept" && echo "  kept: $wd.kept"
	else
		passed=$((passed + 1))
	fi
}

# summary NAME TEXT NFAILED: the kind's line (its failed trials said why above).
summary() {
	if [ "$3" -eq 0 ]; then
		echo "PASS fault: $1: $2"
		kinds_passed=$((kinds_passed + 1))
	else
		echo "FAIL fault: $1: $2, $3 failed"
		kinds_failed=$((kinds_failed + 1))
	fi
}

# delay_for I N MAX_US: spread over [0, MAX_US), a random point in the I-th slice.
delay_for() {
	local us=$(( ($1 * $3 + (RANDOM * 32768 + RANDOM) % $3) / $2 ))
	printf '%d.%06d' $((us / 1000000)) $((us % 1000000))
}

# One dump killed after DELAY (or, DELAY "-", by itself at NESTOR_FAULT's
# point): res is "completed", "interrupted" or "FAIL why".
dump_trial() {
	local opt=$1 sig=$2 delay=$3 npid rc why
	start_tree || { res="FAIL the tree did not start"; return; }
	snapshot "$wd/before"
	(trap - INT TERM EXIT; exec "$nestor" dump -t "$pid" -D "$wd/img" $opt -v4 -o dump.log \
		</dev/null 2>"$wd/dump.err") &
	npid=$!
	# "-": nestor kills itself at a named moment (NESTOR_FAULT=kill:WHERE)
	if [ "$delay" != - ]; then
		sleep "$delay"
		kill -"$sig" "$npid" 2>/dev/null
	fi
	wait "$npid" 2>/dev/null
	rc=$?
	# Killed once the images were written (the inventory is last) and the
	# tree killed: a dump that is done. Before the kill, the tree runs on.
	if [ -z "$opt" ] && { [ $rc -eq 0 ] ||
		{ [ -e "$wd/img/inventory.img" ] && wait_until 1 tree_dead; }; }; then
		wait_until 5 none_left || { res="FAIL the tree lives on after a dump that kills it"; return; }
		why=$(restore_tree) || { res="FAIL $why"; return; }
		why=$(verdict) || { res="FAIL after restore: $why"; return; }
		res=completed
		return
	fi
	wait_until 3 settled
	why=$(same_as_before) || { res="FAIL $why (nestor exit $rc)"; return; }
	why=$(verdict) || { res="FAIL $why (nestor exit $rc)"; return; }
	[ $rc -eq 0 ] && res=completed || res=interrupted
}

# A full dump's time (us), to spread the kills over.
measure() {
	local t0 t1
	start_tree || return 1
	t0=$(date +%s%N)
	"$nestor" dump -t "$pid" -D "$wd/img" $1 -v4 -o dump.log </dev/null 2>"$wd/dump.err" || return 1
	t1=$(date +%s%N)
	# Every task's mapping must be made through a frame of its own (rop.c).
	grep -q "mapping made with nestor's registers" "$wd/img/dump.log" && return 1
	drop_tree
	echo $(( (t1 - t0) / 1000 * 13 / 10 + 1000 ))
}

dump_kind() {
	local opt=$1 sig=$2 max i res done=0 comp=0 intr=0 name
	name="dump ${opt:-(kill)} SIG$sig"
	max=$(measure "$opt") || { report "$name" "a full dump failed"; summary "$name" "not run" 1; return; }
	[ -n "${FAULT_MAX_US:-}" ] && max=$FAULT_MAX_US
	for ((i = 0, k0 = SECONDS; i < trials && (i < 5 || SECONDS - k0 < budget / 6); i++)); do
		local d
		d=$(delay_for "$i" "$trials" "$max")
		dump_trial "$opt" "$sig" "$d"
		case $res in
		completed) comp=$((comp + 1)) ;;
		interrupted) intr=$((intr + 1)) ;;
		*) report "$name, killed after ${d}s" "${res#FAIL }" ;;
		esac
		done=$((done + 1))
		drop_tree
	done
	summary "$name" "$done trials over $((max / 1000)) ms ($intr interrupted, $comp completed)" $((done - intr - comp))
}

# Restores killed after DELAY from one image: completed, or nothing left.
restore_kind() {
	local sig=$1 max i d res t0 t1 rc npid done=0 comp=0 intr=0 name="restore SIG$1"
	start_tree || { report "$name" "the tree did not start"; summary "$name" "not run" 1; drop_tree; return; }
	"$nestor" dump -t "$pid" -D "$wd/img" -o dump.log </dev/null 2>"$wd/dump.err" ||
		{ report "$name" "dump failed: $(head -n 1 "$wd/dump.err")"; summary "$name" "not run" 1; drop_tree; return; }
	wait_until 5 none_left
	t0=$(date +%s%N)
	res=$(restore_tree) || { report "$name" "$res"; summary "$name" "not run" 1; drop_tree; return; }
	t1=$(date +%s%N)
	res=$(verdict) || { report "$name" "after a full restore: $res"; summary "$name" "not run" 1; drop_tree; return; }
	max=$(( (t1 - t0) / 1000 * 13 / 10 + 1000 ))
	for ((i = 0, k0 = SECONDS; i < trials && (i < 5 || SECONDS - k0 < budget / 6); i++)); do
		d=$(delay_for "$i" "$trials" "$max")
		(trap - INT TERM EXIT; exec "$nestor" restore -D "$wd/img" -d --pidfile "$wd/pid" \
			-o restore.log </dev/null 2>"$wd/restore.err") &
		npid=$!
		sleep "$d"
		kill -"$sig" "$npid" 2>/dev/null
		wait "$npid" 2>/dev/null
		rc=$?
		done=$((done + 1))
		if [ $rc -eq 0 ]; then
			res=$(verdict) || { report "$name, killed after ${d}s" "completed, but $res"; kill_tree; continue; }
			comp=$((comp + 1))
			continue
		fi
		# Killed after the tree was released: the tree must be whole and right.
		if whole_tree; then
			res=$(verdict) || { report "$name, killed after ${d}s" "released, but $res"; kill_tree; continue; }
			comp=$((comp + 1))
			continue
		fi
		if ! wait_until 3 none_left; then
			report "$name, killed after ${d}s" "tasks left behind: $(describe $(ours) $(for p in "${pids[@]}"; do [ -e /proc/$p ] && echo $p; done))"
			kill_tree
			continue
		fi
		intr=$((intr + 1))
	done
	summary "$name" "$done trials over $((max / 1000)) ms ($intr left nothing, $comp completed)" $((done - intr - comp))
	drop_tree
}

# A dump that kills the tree, nestor killed (NESTOR_FAULT=kill:WHERE) at
# named moments, each WHERE:on (the tree must run on, whole and as it was,
# no inventory) or WHERE:dead (the tree must be gone, its images restore):
# the four moments of a dump's end (tree/kill.c), and the first remote
# syscall that makes a descriptor in a task, armed (its registers set).
end_kind() {
	local p w res done=0 comp=0 intr=0 bad=0 name="dump (kill) at named moments"
	for p in $end_points; do
		w=${p%:*}
		NESTOR_FAULT=kill:$w dump_trial "" KILL -
		case $res in
		completed) comp=$((comp + 1)) ;;
		interrupted) intr=$((intr + 1)) ;;
		*) report "$name, killed at $w" "${res#FAIL }"; bad=$((bad + 1)) ;;
		esac
		case ${p##*:}:$res in
		on:completed | dead:interrupted)
			report "$name, killed at $w" "$res, expected ${p##*:}"
			bad=$((bad + 1)) ;;
		esac
		done=$((done + 1))
		drop_tree
	done
	summary "$name" "$done points ($intr ran on, $comp completed)" $bad
}

# pages_kind OPT: nestor kills itself (NESTOR_FAULT=kill:pages) while the
# task has given it pipes' write ends and nestor's threads splice them: the
# tree must run on as before (its cure closes every fd nestor installed).
pages_kind() {
	local opt=$1 i rc why bad=0 name="dump ${1:-(kill)} killed in the pages"
	for ((i = 0; i < 3; i++)); do
		start_tree || { report "$name" "the tree did not start"; bad=$((bad + 1)); continue; }
		snapshot "$wd/before"
		(trap - INT TERM EXIT; NESTOR_FAULT=kill:pages exec "$nestor" dump -t "$pid" \
			-D "$wd/img" $opt -v4 -o dump.log </dev/null 2>"$wd/dump.err") &
		wait $! 2>/dev/null
		rc=$?
		if [ $rc -ne 137 ]; then
			report "$name" "nestor exit $rc, not killed in the pages"
			bad=$((bad + 1))
		else
			wait_until 3 settled
			why=$(same_as_before) && why=$(verdict)
			[ $? -eq 0 ] || { report "$name" "$why"; bad=$((bad + 1)); }
		fi
		drop_tree
	done
	summary "$name" "3 trials" $bad
}

# Dumps where nestor kills itself at the moments of the parasite's life no
# spread-out kill is sure to hit: running without syscall stops, connected
# to nestor; done and waiting on that connection; stopped by nestor there.
point_kind() {
	local opt=$1 where res done=0 intr=0 name="dump ${1:-(kill)} at parasite moments"
	for where in parasite-connected parasite-waiting parasite-interrupted; do
		NESTOR_FAULT=kill:$where dump_trial "$opt" KILL -
		case $res in
		interrupted) intr=$((intr + 1)) ;;
		*) report "$name, killed at $where" "${res#FAIL }" ;;
		esac
		done=$((done + 1))
		drop_tree
	done
	summary "$name" "$done trials ($intr interrupted)" $((done - intr))
}
end_points=${FAULT_END_POINTS:-"end-synced:on end-held:on end-decided:dead end-killing:dead fd-armed:on"}

case ${FAULT_ONLY:-end} in *end*) end_kind ;; esac

case ${FAULT_ONLY:-points} in *points*)
	point_kind -R
	point_kind ""
	;;
esac

case ${FAULT_ONLY:-pages} in *pages*) pages_kind -R; pages_kind "" ;; esac
for sig in KILL TERM; do
	case ${FAULT_ONLY:-dump-R,dump,restore} in *dump-R*) dump_kind -R $sig ;; esac
	case ${FAULT_ONLY:-dump-R,dump,restore} in *dump,*|dump) dump_kind "" $sig ;; esac
	case ${FAULT_ONLY:-dump-R,dump,restore} in *restore*) restore_kind $sig ;; esac
done
kill_tree
echo "fault: $((SECONDS - started)) s, $failed failed trials"
echo "$kinds_passed passed, $kinds_failed failed"
[ "$kinds_failed" -eq 0 ]
