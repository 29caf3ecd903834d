#!/bin/bash
# The command line as a user meets it: help, version, check, show as JSON,
# logs with timestamps and a last line, and restore in the foreground
# returning the task's exit status. Prints PASS/FAIL lines and a summary.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
N=${NESTOR:-$top/build/nestor}
if [ -z "${NESTOR_SUBREAPED:-}" ]; then
	exec env NESTOR_SUBREAPED=1 "$top/build/tests/subreaper" "$0" "$@"
fi
dir=$(mktemp -d /tmp/nestor-cli.XXXXXX)
chmod 0777 "$dir"
pid=
passed=0 failed=0
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

check() { # NAME CMD...: passes when CMD succeeds
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "PASS cli: $name"
		passed=$((passed + 1))
	else
		echo "FAIL cli: $name"
		failed=$((failed + 1))
	fi
}

check "--help exits 0 and shows usage" bash -c "'$N' --help | grep -q 'nestor dump -t PID'"
check "--version" bash -c "'$N' --version | grep -qE '^nestor [0-9]+\.[0-9]+'"
check "check says Looks good." bash -c "'$N' check | grep -qx 'Looks good.'"
check "no command: exit 1" bash -c "'$N'; [ \$? -eq 1 ]"

# A workload to dump: the zdtm counter, in its own session, stdio only.
(
	for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
	exec setsid "$top/build/tests/zdtm/counter" "$dir" >"$dir/out.log" 2>&1 </dev/null
) &
pid=$!
disown "$pid"
for _ in $(seq 100); do [ -e "$dir/ready" ] && break; sleep 0.05; done
# stderr a pipe nobody reads: nestor must neither die of SIGPIPE nor leave the task held.
"$N" dump -t "$pid" -D "$dir/img-pipe" -R -v4 2>&1 | head -c 0
check "a dump whose stderr pipe is closed completes" test -e "$dir/img-pipe/inventory.img"
check "... and leaves the task running, not traced" bash -c \
	"grep -q '^TracerPid:.0$' /proc/$pid/status && ! grep -q '^State:.[tT]' /proc/$pid/status"
check "dump -v4 -o" "$N" dump -t "$pid" -D "$dir/img" -v4 -o dump.log
cp -p "$dir/out.log" "$dir/out.log.dump"
check "log lines carry a timestamp and a level" \
	grep -qE '^\([0-9]+\.[0-9]{6}\) (debug|info): ' "$dir/img/dump.log"
check "the log ends with the outcome" bash -c "tail -n1 '$dir/img/dump.log' | grep -qx 'Dump finished successfully'"
check "show DIR is JSON" bash -c "'$N' show '$dir/img' | python3 -m json.tool"
check "show FILE is JSON with the pid" bash -c "'$N' show '$dir/img/core-$pid.img' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"core-$pid.img\"][0][\"pid\"] == $pid'"
for _ in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.05; done
# Restore in the foreground: nestor waits and exits with the task's status.
( sleep 0.5; kill -TERM "$pid" ) &
"$N" restore -D "$dir/img" -v4 -o restore.log
rc=$?
check "restore without -d exits with the task's status (0)" [ "$rc" -eq 0 ]
check "the restored task passed" grep -qx PASS "$dir/result"
check "the restore log ends with the outcome" bash -c "tail -n1 '$dir/img/restore.log' | grep -qx 'Restore finished successfully'"

# The same images restore again once the task's files are as at the dump
# (the restored task wrote to its out.log, which a restore would refuse);
# killed by a signal, the task makes nestor exit with 128 + the signal, as
# a shell would.
for _ in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.05; done
cat "$dir/out.log.dump" >"$dir/out.log" && touch -r "$dir/out.log.dump" "$dir/out.log"
( sleep 0.5; kill -KILL "$pid" ) &
"$N" restore -D "$dir/img" -o restore2.log 2>/dev/null
rc=$?
check "restore without -d: a task killed by SIGKILL gives 137" [ "$rc" -eq 137 ]
pid=

# The dumped root an init: a task started by unshare --pid --fork is pid 1
# of its own pid namespace, whose parent is nestor's (the tree's outermost
# level is the machine's). It comes back with both pids.
rm -f "$dir/ready" "$dir/result"
(
	for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
	exec setsid unshare --pid --fork "$top/build/tests/zdtm/session" "$dir" >/dev/null 2>&1 \
		</dev/null
) &
disown $!
for _ in $(seq 100); do [ -e "$dir/ready" ] && break; sleep 0.05; done
pid=$(pgrep -x -f "$top/build/tests/zdtm/session $dir")
vec=$(grep NSpid "/proc/$pid/status" 2>/dev/null)
check "a pid namespace's init as the root: dumped" "$N" dump -t "$pid" -D "$dir/img-init"
for _ in $(seq 100); do [ -e "/proc/$pid" ] || break; sleep 0.05; done
check "... restored (-d)" "$N" restore -d -D "$dir/img-init"
check "... with its pid at both levels ($vec)" bash -c \
	"[ \"\$(grep NSpid /proc/$pid/status)\" = '$vec' ] && [ '${vec##*[[:space:]]}' = 1 ]"
kill -TERM "$pid" 2>/dev/null
for _ in $(seq 100); do [ -e "$dir/result" ] && break; sleep 0.05; done
check "... and passes" grep -qx PASS "$dir/result"
pid=

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
