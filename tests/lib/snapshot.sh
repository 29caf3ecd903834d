# The whole-state check of tests/run.sh (sourced): a snapshot of the test's
# tree as /proc shows it (build/tests/snapshot) before the dump and after
# each restore (after the dump, for -R), compared key by key. A difference
# fails the test unless tests/snapshot-allow.txt says nobody can avoid it,
# or tests/snapshot-known.txt lists it as an open nestor bug for that test.
# A test whose tree is busy by design says so in its source, each line with
# its reason: "zdtm-snapshot-transient: COMM" (tasks named COMM come and go:
# not compared) and "zdtm-snapshot-allow: KEY-ERE" (a key that changes by
# itself in this test). The none flavour, two snapshots with no dump in
# between, shows which keys those are.

# snap_setup NAME: reads the test's directives into snap_x and snap_allow.
snap_setup() {
	local src=$root/tests/zdtm/$1.c w
	snap_x=()
	snap_allow=()
	[ -f "$src" ] || return 0
	for w in $(sed -n 's/.*zdtm-snapshot-transient:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$src"); do
		snap_x+=(-x "$w")
	done
	mapfile -t snap_allow < <(sed -n 's/.*zdtm-snapshot-allow:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$src")
}

# snap_take ROOTPID FILE
snap_take() {
	"$snapshot_bin" "${snap_x[@]}" "$1" >"$2" 2>"$2.err"
}

# snap_compare BEFORE AFTER TEST FLAVOUR OUT: the differences neither
# allowed nor known go to OUT, one "WHO KEY: before 'X', after 'Y'" line
# each (WHO is PID for a task, PID/TID for a thread); the known ones to
# OUT.known, with the line of tests/snapshot-known.txt that excuses them.
# Fails when OUT is not empty.
snap_compare() {
	local a
	{
		cat "$root/tests/snapshot-allow.txt"
		for a in "${snap_allow[@]}"; do
			printf '%s\t%s\n' "$a" "zdtm-snapshot-allow in tests/zdtm/$3.c"
		done
	} >"$5.allow"
	awk -v test="$3" -v flavour="$4" -v out="$5" -v known_out="$5.known" '
	function value(line) { return substr(line, length($1) + length($2) + 3) }
	BEGIN { nallow = 0; nknown = 0 }
	FNR == 1 { file++ }
	file == 1 {
		if ($0 ~ /^#/ || $0 !~ /\t/) next
		split($0, f, "\t")
		allow[nallow++] = "^(" f[1] ")$"
		next
	}
	file == 2 {
		if ($0 ~ /^#/ || $0 !~ /\t/) next
		split($0, f, "\t")
		if (f[1] != test && f[1] != test ":" flavour && f[1] != "*") next
		known[nknown] = "^(" f[2] ")$"
		known_diff[nknown] = f[3] == "" ? "" : "^(" f[3] ")$"
		known_line[nknown++] = $0
		next
	}
	file == 3 { k = $1 " " $2; before[k] = value($0); keys[k] = 1; next }
	file == 4 { k = $1 " " $2; after[k] = value($0); keys[k] = 1; next }
	END {
		n = 0
		for (k in keys) {
			b = (k in before) ? "'\''" before[k] "'\''" : "(none)"
			a = (k in after) ? "'\''" after[k] "'\''" : "(none)"
			if (b == a) continue
			split(k, w, " ")
			for (i = 0; i < nallow; i++) if (w[2] ~ allow[i]) break
			if (i < nallow) continue
			diff = "before " b ", after " a
			line = w[1] " " w[2] ": " diff
			for (i = 0; i < nknown; i++)
				if (w[2] ~ known[i] && (known_diff[i] == "" || diff ~ known_diff[i])) break
			if (i < nknown) {
				print line "\t" known_line[i] | "sort >" known_out
				continue
			}
			print line | "sort >" out
			n++
		}
		close("sort >" out)
		close("sort >" known_out)
		exit n > 0
	}' "$5.allow" "$root/tests/snapshot-known.txt" "$1" "$2"
}

# snap_check BEFORE AFTER WHEN: takes AFTER and compares it with BEFORE, for
# the test $t in flavour $fl, in $wd; on a difference sets reason (the first
# few; all in $wd/snap-WHEN.diff) and fails. WHEN names the moment: restore,
# restore2, dump-R, control.
# A restored task may still be on its way back into the call it slept in
# (a sigsuspend that returns EINTR and is called again, with the caller's
# mask for a moment): a difference is looked at again for up to a second,
# and only one that stays fails.
snap_check() {
	local d=$wd/snap-$3.diff n tries=10 same
	while :; do
		: >"$d"
		if ! snap_take "$pid" "$2"; then
			reason="snapshot $3 failed: $(head -n 1 "$2.err")"
			return 1
		fi
		snap_compare "$1" "$2" "$t" "$fl" "$d" && same=1 && break
		same=
		[ $tries -eq 10 ] && cp "$d" "$d.first"
		tries=$((tries - 1))
		[ $tries -gt 0 ] || break
		sleep 0.1
	done
	if [ -n "$same" ] && [ -n "${ZDTM_SNAP_KNOWN_LOG:-}" ] && [ $tries -lt 10 ]; then
		sed "s/^/$t ($fl) $3: settled after $((10 - tries)) retries: /" "$d.first" >>"$ZDTM_SNAP_KNOWN_LOG"
	fi
	if [ -n "$same" ]; then
		[ -n "${ZDTM_SNAP_KNOWN_LOG:-}" ] && [ -s "$d.known" ] &&
			sed "s/^/$t ($fl) $3: /" "$d.known" >>"$ZDTM_SNAP_KNOWN_LOG"
		return 0
	fi
	n=$(wc -l <"$d")
	reason="state differs after $3 ($n keys; all in ${d##*/}): $(head -n 3 "$d" | tr '\n' ';' | sed 's/;$//')"
	return 1
}
