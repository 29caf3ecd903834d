# Cases of tests/bad_input.sh: broken, foreign or inconsistent images and
# impossible targets a restore must refuse, leaving nothing behind; failed and
# interrupted restores. Sourced by it; uses its helpers.

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

# t_family_dump_dies WHERE on|dead: a dump of a fresh family (no death
# signals: a task left alive is not taken by its parent's death) whose
# nestor is killed at WHERE of its end (NESTOR_FAULT=kill:WHERE). on: the
# whole family runs on and passes, no inventory. dead: inventory.img is in
# place and no task of the family is left.
t_family_dump_dies() {
	local p pids=()
	start_task family || return
	read -r -a pids <"$twd/aux"
	pids=("$tpid" "${pids[@]}")
	procs+=("${pids[@]}")
	NESTOR_FAULT=kill:$1 nestor_run dump -t "$tpid" -D "$twd/img"
	[ "$rc" = 137 ] || bad "nestor was not killed at $1 (exit $rc: $(head -c 300 "$tmp/stderr"))" ||
		return
	case $2 in
	on)
		no_inventory "$twd/img" || return
		for p in "${pids[@]}"; do
			alive "$p" || bad "task $p of the family died at $1" || return
			case ${st[0]} in T | t) bad "task $p left stopped at $1"; return ;; esac
			[ "$(tracer_of "$p")" = 0 ] || bad "task $p still traced after $1" || return
		done
		task_intact && task_passes ;;
	*)
		[ -e "$twd/img/inventory.img" ] || bad "no inventory.img after $1" || return
		for p in "${pids[@]}"; do
			wait_until 3 gone "$p" || bad "task $p of the family lives on after $1 (state ${st[0]})" ||
				return
		done ;;
	esac
}

# No process (a task of the family left, nestor, a helper) holds a file of
# the images dir, as a descriptor or a mapping.
img_unheld() {
	local f l
	for f in /proc/[0-9]*/fd/* /proc/[0-9]*/map_files/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		[[ $l == "$img/"* ]] && held="$f -> $l" && return 1
	done
	return 0
}

# t_family_pages_lost WHO: the pages of the family's task WHO (0 root, 1
# child, 2 grandchild with its thread) are cut short after the validation
# (nestor stopped once the root is forked): the blob's read fails in that
# task. Refused in one line naming the task and the pages, nothing of the
# family left, nothing holding an image file.
t_family_pages_lost() {
	local np pid held=
	copy_family || return
	pid=${fam_pids[$1]}
	{ NESTOR_FAULT=stop:forked timeout -k 5 "$limit" "$nestor" restore -D "$img" -d \
		--pidfile "$img.pid" </dev/null >"$tmp/stdout" 2>"$tmp/stderr" & np=$!; } 2>/dev/null
	# timeout's child is nestor: stopped at the fault point.
	if ! wait_until 5 nestor_stopped "$np"; then
		kill -CONT $(pgrep -P "$np") 2>/dev/null
		wait "$np"
		bad "nestor did not stop once the root was forked ($(head -c 300 "$tmp/stderr"))"
		return
	fi
	truncate -s 4096 "$img/pages-$pid.img"
	kill -CONT $(pgrep -P "$np")
	wait "$np"
	rc=$?
	refused "task $pid" "reading pages"
	family_gone
	[ -z "$why" ] || return
	wait_until 3 img_unheld || bad "an image file is still held: $held"
}
nestor_stopped() {
	local c
	c=$(pgrep -P "$1") && stat_of "$c" && [ "${st[0]}" = T ]
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

# t_userns_rewritten EDIT ERE...: a task in a user namespace of its own
# (badtask ns-user), dumped; its userns-ID.img rewritten (EDIT as
# restore-fuzz -e takes it after FILE:0:): refused in one line naming the
# image, no task made.
t_userns_rewritten() {
	local edit=$1 f
	shift
	[ -x "$build/fuzz/restore-fuzz" ] || bad "no $build/fuzz/restore-fuzz: make check builds it" ||
		return
	start_task ns-user || return
	nestor_run dump -t "$tpid" -D "$twd/img"
	[ "$rc" = 0 ] || bad "dump failed: $(head -c 300 "$tmp/stderr")" || return
	wait_until 10 gone "$tpid" || bad "task $tpid still there after the dump" || return
	f=$(cd "$twd/img" && echo userns-*.img)
	[ -e "$twd/img/$f" ] || bad "the dump has no userns image" || return
	"$build/fuzz/restore-fuzz" -e "$f:0:$edit" "$twd/img" || bad "cannot rewrite: $edit" || return
	nestor_run restore -d -D "$twd/img"
	refused "${f//./\\.}" "$@" && gone "$tpid" ||
		bad "a task with pid $tpid exists after the refused restore"
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
		# Tasks the dead nestor still traced die of it (EXITKILL): let them go first.
		sleep 0.2
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
	local held=
	img_unheld || bad "a restored task holds an image file: $held" || return
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

# small_tmpfs PAGES: a tmpfs of that many 4 KiB pages, in $small.
small_tmpfs() {
	small=$tmp/small.${#mounts[@]}
	mkdir -p "$small" && mount -t tmpfs -o "size=$(($1 * 4))k,mode=0700" tmpfs "$small" ||
		bad "cannot mount a tmpfs of $1 pages" || return
	mounts+=("$small")
}

# Pages a full dump of the backlog task takes on a tmpfs (that task dies).
backlog_pages=''
need_backlog_pages() {
	local why0=$why b f
	[ -n "$backlog_pages" ] && return 0
	why=
	start_task backlog && small_tmpfs 16384 && nestor_run dump -t "$tpid" -D "$small/img"
	[ -z "$why" ] && [ "$rc" != 0 ] && why="exit $rc: $(tr '\n' '|' <"$tmp/stderr")"
	if [ -n "$why" ]; then
		why="cannot make the full dump to measure: $why"
		return 1
	fi
	read -r b f < <(stat -f -c '%b %f' "$small")
	backlog_pages=$((b - f))
	backlog_full=$small/img
	why=$why0 tpid='' twd=''
	procs=()
}

# t_backlog_image EDIT ERE...: the full dump of the backlog task with its
# backlog.img removed (EDIT "rm") or rewritten (restore-fuzz -e EDIT):
# refused naming the cause, nothing restored.
t_backlog_image() {
	local e=$1
	shift
	need_backlog_pages || return
	img=$tmp/b.$ncase
	cp -a "$backlog_full" "$img"
	[ -e "$img/backlog.img" ] || bad "the full dump has no backlog.img" || return
	if [ "$e" = rm ]; then
		rm "$img/backlog.img"
	else
		"$build/fuzz/restore-fuzz" -e "$e" "$img" || bad "cannot rewrite: $e" || return
	fi
	nestor_run restore -D "$img" -d --pidfile "$img.pid"
	refused "$@"
	[ ! -e "$img.pid" ] || bad "the failed restore wrote its pidfile"
}

# The dump's dir, a tmpfs from 2 pages more than a full dump took down to
# where it runs out of room at its end (the pages a task's dump takes vary
# by a page or two): each refused dump, the first two, leaves the
# connections waiting in a listener's backlog there with their data (the
# irreversible step comes once nothing can fail for want of room), and
# nothing of an inventory or backlog.img.
t_backlog_no_room() {
	local n refusals=0
	need_backlog_pages || return
	for n in $(seq $((backlog_pages + 2)) -1 $((backlog_pages - 4))); do
		start_task backlog || return
		small_tmpfs "$n" || return
		nestor_run dump -t "$tpid" -D "$small/img"
		if [ "$rc" = 0 ]; then
			procs=()
			continue
		fi
		refused "No space left" && no_inventory "$small/img" || return
		[ -z "$(ls "$small/img" | grep -E 'inventory|backlog')" ] ||
			bad "the refused dump left $(ls "$small/img" | grep -E 'inventory|backlog' |
				tr '\n' ' ')" || return
		task_intact && task_passes || { why="in $n pages: $why"; return 1; }
		procs=()
		refusals=$((refusals + 1))
		[ $refusals = 2 ] && return 0
	done
	bad "no dump ran out of room in $((backlog_pages - 4)) to $((backlog_pages + 2)) pages"
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

# A restoring nestor whose own login uid is set, without CAP_AUDIT_CONTROL,
# cannot give the tasks theirs back: refused by name, nothing restored.
t_restore_loginuid_nocap() {
	command -v capsh >/dev/null || { skip="no capsh"; return; }
	start_task plain || return
	[ "$(cat "/proc/$tpid/loginuid")" = 4294967295 ] ||
		{ skip="the task's login uid is set already"; return; }
	nestor_run dump -t "$tpid" -D "$twd/img"
	[ "$rc" = 0 ] || bad "dump failed: $(head -c 300 "$tmp/stderr")" || return
	wait_until 10 test ! -e "/proc/$tpid" || bad "task $tpid still there after the dump" ||
		return
	# shellcheck disable=SC2016
	{ timeout -k 5 "$limit" bash -c 'echo 4343 >/proc/self/loginuid &&
		exec capsh --drop=cap_audit_control -- -c "exec $0 restore -D $1 -d"' \
		"$nestor" "$twd/img" </dev/null >"$tmp/stdout" 2>"$tmp/stderr"; } 2>/dev/null
	rc=$?
	refused "\\b$tpid\\b" "login uid" "CAP_AUDIT_CONTROL" && { gone "$tpid" ||
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

# A dump of a task with an IPC namespace of its own (badtask ipc_objs: a
# segment with data, a queued message, a POSIX queue with a message),
# damaged as WHAT says: shm (ipcshm-N.img a byte short), ipc (ipc-N.img cut
# in an entry), mq (ipcmq-N.img with a flipped byte): refused naming the
# file, nothing restored.
t_restore_ipc_damaged() {
	local f
	start_task ipc_objs || return
	img=$twd/img
	nestor_run dump -t "$tpid" -D "$img"
	[ "$rc" = 0 ] || bad "dump failed: $(head -c 300 "$tmp/stderr")" || return
	wait_until 10 gone "$tpid" || bad "task $tpid still there after the dump" || return
	case $1 in
	shm) f=$(echo "$img"/ipcshm-*.img); truncate -s -1 "$f" ;;
	ipc) f=$(echo "$img"/ipc-*.img); cut_middle "$f" ;;
	mq) f=$(echo "$img"/ipcmq-*.img); flip_middle "$f" ;;
	esac
	bpid=$tpid
	restore_refused "${f##*/}"
	bpid=''
}

# The index of the first entry of kind TYPE in image FILE ("type" of files.img).
entry_of() {
	"$nestor" show "$1" | awk -v t="\"type\": \"$2\"" '/^    \{/ { i++ } index($0, t) { print i - 1; exit }'
}

# t_ipc_rewritten WHAT EDIT ERE...: the dump of badtask ipc_objs (a segment
# attached, a POSIX queue open, a socketpair, in an IPC namespace of its
# own) with one cross reference rewritten (EDIT as restore-fuzz -e takes it
# after FILE:ENTRY:) in WHAT: mm (the task's mm-PID.img), ipc (ipc-N.img),
# files:TYPE (files.img's first entry of that type): refused in one line
# naming the cause, nothing restored.
t_ipc_rewritten() {
	local what=$1 edit=$2 f idx=0
	shift 2
	[ -x "$build/fuzz/restore-fuzz" ] || bad "no $build/fuzz/restore-fuzz: make check builds it" ||
		return
	start_task ipc_objs || return
	img=$twd/img
	nestor_run dump -t "$tpid" -D "$img"
	[ "$rc" = 0 ] || bad "dump failed: $(head -c 300 "$tmp/stderr")" || return
	wait_until 10 gone "$tpid" || bad "task $tpid still there after the dump" || return
	case $what in
	mm) f=mm-$tpid.img ;;
	ipc) f=$(cd "$img" && echo ipc-*.img) ;;
	files:*)
		f=files.img
		idx=$(entry_of "$img/files.img" "${what#files:}")
		[ -n "$idx" ] || bad "files.img has no ${what#files:} entry" || return
		;;
	esac
	"$build/fuzz/restore-fuzz" -e "$f:$idx:$edit" "$img" || bad "cannot rewrite: $edit" || return
	bpid=$tpid
	restore_refused "$@"
	bpid=''
}
