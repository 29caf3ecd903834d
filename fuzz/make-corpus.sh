#!/bin/bash
# Makes the restore fuzzer's corpus (fuzz/corpus/dumps/NAME) from dumps of
# a few test programs: each is started as tests/run.sh starts it, dumped
# (which kills it), and its images kept without the pages files and shared
# memory objects and System V segments (the fuzzer makes sparse ones). Run as root from the top dir, after make all tests-bin:
#   build/tests/subreaper fuzz/make-corpus.sh [NAME...]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
nestor=$root/build/nestor
out=$root/fuzz/corpus/dumps
names=("$@")
# Not in the default list: dumps that name this machine's mounts or cgroups
# (mntns_copy, mntns_proc, cgroupns), which a restore on another machine
# refuses, rightly; the bad_input cases cover their images.
[ ${#names[@]} -gt 0 ] || names=(session_dead_leader pgrp_dead_leader zombie pipe_tree
	posix_lock clone_vm_tree threads socketpair_stream shared_anon shm_anon_whole cow_fork
	pidns_nested uts_many timens netns_lo ns_container userns_nested userns_owned
	clone_files clone_fs epoll eventfd_tree fd_dup fd_unlinked flock inotify memfd pty
	posix_timer_thread seccomp_filter sigpending timerfd unix_listen ipc_many ipc_mqueue
	ipc_sysv_shm netns_unix cow_siblings cow_grown userns_pidns)
tmp=$(mktemp -d /tmp/nestor-corpus.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# Only fds 0-2 for the test: anything more would be refused by the dump.
start() {
	local fd
	cd "$2" || exit 1
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	exec setsid "$root/build/tests/zdtm/$1" "$2" </dev/null >"$2/out.log" 2>&1
}

for n in "${names[@]}"; do
	wd=$tmp/$n
	mkdir -p "$wd"
	pid=$(start "$n" "$wd" & echo $!)
	for _ in $(seq 100); do [ -e "$wd/ready" ] && break; sleep 0.05; done
	[ -e "$wd/ready" ] || { echo "$n: not ready" >&2; kill -KILL "$pid"; exit 1; }
	opts=$(sed -n 's/.*nestor-dump-opts: *//p' "$root/tests/zdtm/$n.c" | head -n 1)
	# shellcheck disable=SC2086
	"$nestor" dump -t "$pid" -D "$wd/img" $opts
	rm -rf "${out:?}/$n"
	mkdir -p "$out/$n"
	for f in "$wd"/img/*.img; do
		case ${f##*/} in pages-*|shmem-*|ipcshm-*) ;; *) cp "$f" "$out/$n/" ;; esac
	done
	echo "$n: $(ls "$out/$n" | wc -l) images, $(du -sk "$out/$n" | cut -f1) KiB"
done
