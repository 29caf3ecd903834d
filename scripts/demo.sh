#!/bin/bash
# make demo: start a counter, checkpoint it, kill it, restore it, and show it
# counting on from where it stopped, with the same pid.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
N=$top/build/nestor
if [ -z "${NESTOR_SUBREAPED:-}" ]; then
	# Pid 1 here does not reap orphans: keep the workload under our own reaper.
	make -s -C "$top" build/tests/subreaper >/dev/null
	exec env NESTOR_SUBREAPED=1 "$top/build/tests/subreaper" "$0" "$@"
fi
dir=$(mktemp -d /tmp/nestor-demo.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

echo "== starting the counter (it prints a number every 100 ms)"
# A fresh session, and no descriptors but stdio (nestor refuses pipes for now).
(
	for fd in $(ls /proc/$BASHPID/fd); do
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	exec setsid "$top/build/demo/counter" >"$dir/out.log" 2>&1 </dev/null
) &
pid=$!
disown "$pid"
sleep 1
echo "   pid $pid, last printed: $(tail -n1 "$dir/out.log")"

echo "== nestor dump -t $pid -D $dir/img"
"$N" dump -t "$pid" -D "$dir/img" -o dump.log
last=$(tail -n1 "$dir/out.log")
sleep 0.3
echo "   the counter is gone (stopped at $last); images:"
ls -l "$dir/img" | sed 's/^/   /'

echo "== nestor restore -D $dir/img -d"
"$N" restore -D "$dir/img" -d --pidfile "$dir/pid" -o restore.log
echo "   restored pid $(cat "$dir/pid")"
sleep 1
echo "== it goes on counting from $last:"
awk -v l="$last" '$1 > l - 3' "$dir/out.log" | head -n 8 | tr '\n' ' '
echo
if ! kill -0 "$pid" 2>/dev/null || [ "$(cat "$dir/pid")" != "$pid" ] ||
	[ "$(tail -n1 "$dir/out.log")" -le "$last" ]; then
	echo "demo FAILED"
	exit 1
fi
echo "demo OK: same pid, the count went on."
