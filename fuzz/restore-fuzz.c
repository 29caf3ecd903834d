// SPDX-License-Identifier: GPL-2.0
/*
 * restore-fuzz: the structure-aware fuzzer of the restore's validation.
 *
 *   restore-fuzz [-s SEED] [-t SECONDS] [-n ITERATIONS] [-r ITERATION] [-k DIR] CORPUS...
 *
 * Each CORPUS dir holds the images of one dump (its pages files may be
 * left out: sparse ones of the right size are made). Each iteration takes
 * one dump, decodes one or two of its image files entry by entry, changes
 * 1-3 fields (fuzz/mutate.c) or drops, duplicates or swaps whole entries,
 * encodes them again with valid checksums, and runs the restore's whole
 * validation on the set in-process (restore_check_images: read and check
 * every image, nothing of this machine). A finding ends the run with exit
 * status 1 and the image set kept under -k DIR (default: the scratch dir,
 * then not removed):
 *   - a crash (SIGSEGV, SIGBUS, SIGFPE, SIGABRT) or a hang (5 s) in the
 *     validation;
 *   - a set the validation accepts that breaks an invariant of the oracle
 *     (fuzz/oracle.c);
 *   - a descriptor left open by a refused or accepted set.
 * Iteration N always makes the same change for one SEED: -r N replays it
 * alone, with the validation's message shown.
 *
 *   restore-fuzz [-s SEED] [-o TYPES] -m ITERATION DIR
 *
 * makes iteration ITERATION's change (restricted to the image types in
 * TYPES, e.g. pstree,inventory,fdinfo) to the dump in DIR itself, for a real
 * restore of it (tests/bad_input.sh), and prints what it changed.
 *
 *   restore-fuzz -e FILE:ENTRY:FIELD=VALUE DIR
 *
 * sets one integer field of one entry of an image in DIR (VALUE "dup":
 * appends a copy of a repeated field's first element; "dup:OTHER": of
 * repeated field OTHER's, of the same type) and writes it back with valid
 * checksums, for tests/bad_input.sh. FIELD may be a path through messages:
 * sock.netns, mqs.0.curmsgs, vmas.kind=7.shmid (the first element whose
 * kind is 7).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/image.h"
#include "core/log.h"
#include "core/util.h"
#include "fuzz/fuzz.h"
#include "restore/restore.h"

#define MAX_FILES 64
#define MAX_ENTRIES 4096
#define HANG_SECONDS 5

struct img_file {
	char name[256];
	enum img_type type;
	uint8_t *data; /* as on disk */
	size_t len;
};

struct dump {
	char src[4096], dir[4200];
	struct img_file files[MAX_FILES];
	size_t nr_files;
	struct fuzz_pool pool;
};

static struct dump *dumps;
static size_t nr_dumps;
static char scratch[4096];
static char what[2048];     /* the current iteration's change */
static const char *cur_dir; /* the image set being checked */
static uint64_t cur_iter, seed = 1, accepted;

static void say_finding(const char *kind)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf),
			 "FAIL restore-fuzz: %s at iteration %llu (seed %llu): %s; images in %s\n",
			 kind, (unsigned long long)cur_iter, (unsigned long long)seed, what,
			 cur_dir ? cur_dir : "?");

	(void)!write(STDOUT_FILENO, buf, n > 0 ? (size_t)n : 0);
}

static void on_fatal(int sig)
{
	say_finding(sig == SIGALRM ? "a hang of the validation" : strsignal(sig));
	_exit(1);
}

static int read_whole(const char *path, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf;

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || read_all(fd, buf, st.st_size) < 0) {
		close(fd);
		free(buf);
		return -EIO;
	}
	close(fd);
	*ret = buf;
	*ret_len = st.st_size;
	return 0;
}

static int write_whole(const char *dir, const char *name, const uint8_t *data, size_t len)
{
	char path[4400];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	close(fd);
	return r;
}

/* Entries of an image file: offsets of [len][crc][message], after the 8-byte head. */
static size_t split_entries(const struct img_file *f, size_t *off, size_t *len)
{
	size_t n = 0, o = 8;

	while (o + 8 <= f->len && n < MAX_ENTRIES) {
		uint32_t l;

		memcpy(&l, f->data + o, 4);
		if (l > f->len - o - 8)
			break;
		off[n] = o + 8;
		len[n++] = l;
		o += 8 + l;
	}
	return n;
}

static void *decode(const struct img_file *f, size_t off, size_t len)
{
	return protobuf_c_message_unpack(img_descs[f->type].msg, NULL, len, f->data + off);
}

static int load_dump(struct dump *d, const char *src)
{
	DIR *dir = opendir(src);
	struct dirent *de;

	if (!dir)
		return -errno;
	snprintf(d->src, sizeof(d->src), "%s", src);
	while ((de = readdir(dir)) && d->nr_files < MAX_FILES) {
		struct img_file *f = &d->files[d->nr_files];
		char path[4400];
		int type = img_type_of(de->d_name);

		if (type < 0)
			continue;
		snprintf(f->name, sizeof(f->name), "%s", de->d_name);
		f->type = type;
		snprintf(path, sizeof(path), "%s/%s", src, de->d_name);
		if (read_whole(path, &f->data, &f->len) < 0) {
			closedir(dir);
			return -EIO;
		}
		d->nr_files++;
	}
	closedir(dir);
	return d->nr_files ? 0 : -ENOENT;
}

/* Sparse shmem-ID.img files, the size the objects of an mm image say. */
static int place_shmem(const struct dump *d, const MmEntry *mm)
{
	for (size_t i = 0; i < mm->n_shm_objects; i++) {
		const ShmObjectEntry *o = mm->shm_objects[i];
		char path[4400];
		int fd;

		snprintf(path, sizeof(path), "%s/shmem-%llu.img", d->dir, (unsigned long long)o->id);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, o->nr_pages * 4096)) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* A sparse ipcshm-ID.img, the size its IPC namespace's image says (a lie stays one). */
static int place_ipcshm(const struct dump *d, int id, const IpcNsEntry *e)
{
	char path[4400];
	int fd;

	snprintf(path, sizeof(path), "%s/ipcshm-%d.img", d->dir, id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, MIN(e->shm_bytes, 1ULL << 40))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The dump's images in its scratch dir, and pages files the size its mm images say. */
static int place_dump(struct dump *d, size_t idx)
{
	static size_t off[MAX_ENTRIES], len[MAX_ENTRIES];

	snprintf(d->dir, sizeof(d->dir), "%s/d%zu", scratch, idx);
	if (mkdir(d->dir, 0700))
		return -errno;
	for (size_t i = 0; i < d->nr_files; i++) {
		struct img_file *f = &d->files[i];
		size_t n = split_entries(f, off, len);

		if (write_whole(d->dir, f->name, f->data, f->len) < 0)
			return -EIO;
		for (size_t e = 0; e < n; e++) {
			ProtobufCMessage *m = decode(f, off[e], len[e]);

			if (!m)
				return -EINVAL;
			fuzz_pool_collect(&d->pool, m);
			if (f->type == IMG_MM) {
				char path[4400];
				int pid = atoi(f->name + 3), fd;

				snprintf(path, sizeof(path), "%s/pages-%d.img", d->dir, pid);
				fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
				if (fd < 0 || ftruncate(fd, ((MmEntry *)m)->nr_pages * 4096))
					return -errno;
				close(fd);
				if (place_shmem(d, (MmEntry *)m) < 0)
					return -errno;
			}
			if (f->type == IMG_IPC && place_ipcshm(d, atoi(f->name + 4), (IpcNsEntry *)m) < 0)
				return -errno;
			protobuf_c_message_free_unpacked(m, NULL);
		}
	}
	return 0;
}

/* Appends one encoded entry to out. */
static size_t put_entry(uint8_t *out, const ProtobufCMessage *m)
{
	uint32_t hdr[2];
	size_t len = protobuf_c_message_pack(m, out + 8);

	hdr[0] = len;
	hdr[1] = crc32c(0, out + 8, len);
	memcpy(out, hdr, sizeof(hdr));
	return 8 + len;
}

/* Rewrites file f of d with some entries changed; the bytes go to d's dir. */
static int mutate_file(struct dump *d, struct img_file *f, uint64_t *s, char *w, size_t wl)
{
	static size_t off[MAX_ENTRIES], len[MAX_ENTRIES];
	static ProtobufCMessage *msgs[MAX_ENTRIES];
	size_t n = split_entries(f, off, len), cap = 8, at;
	int op = n > 1 ? (int)(rng_next(s) % 8) : 7, r = 0;
	size_t pick = n ? rng_next(s) % n : 0, other = n ? rng_next(s) % n : 0;
	uint8_t *out;
	int wn = snprintf(w, wl, "%s: ", f->name);

	for (size_t i = 0; i < n; i++) {
		msgs[i] = decode(f, off[i], len[i]);
		if (!msgs[i])
			return -EINVAL;
	}
	if (op == 0 && n) {
		snprintf(w + wn, wl - wn, "entry %zu of %zu removed", pick, n);
		protobuf_c_message_free_unpacked(msgs[pick], NULL);
		memmove(&msgs[pick], &msgs[pick + 1], (n - pick - 1) * sizeof(*msgs));
		n--;
	} else if (op == 1 && n < MAX_ENTRIES) {
		ProtobufCMessage *copy = decode(f, off[pick], len[pick]);

		snprintf(w + wn, wl - wn, "entry %zu of %zu duplicated after entry %zu", pick, n, other);
		memmove(&msgs[other + 2], &msgs[other + 1], (n - other - 1) * sizeof(*msgs));
		msgs[other + 1] = copy;
		n++;
	} else if (op == 2) {
		ProtobufCMessage *t = msgs[pick];

		snprintf(w + wn, wl - wn, "entries %zu and %zu swapped", pick, other);
		msgs[pick] = msgs[other];
		msgs[other] = t;
	} else {
		int changes = 1 + rng_next(s) % 3;

		for (int c = 0; c < changes && n; c++) {
			size_t e = c ? rng_next(s) % n : pick;

			wn += snprintf(w + wn, wl - wn, "%sentry %zu ", c ? "; " : "", e);
			if ((size_t)wn < wl)
				fuzz_mutate(&d->pool, msgs[e], s, w + wn, wl - wn);
			wn = strlen(w);
		}
	}
	for (size_t i = 0; i < n; i++)
		cap += 8 + protobuf_c_message_get_packed_size(msgs[i]);
	out = malloc(cap);
	if (!out)
		r = -ENOMEM;
	if (out) {
		memcpy(out, f->data, 8);
		at = 8;
		for (size_t i = 0; i < n; i++)
			at += put_entry(out + at, msgs[i]);
		r = write_whole(d->dir, f->name, out, at);
		free(out);
	}
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(msgs[i], NULL);
	return r;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* pstree.img and the per-task images hold the cross-references: chosen more often. */
static unsigned only_types = ~0u; /* -o: the image types that may change */

static struct img_file *pick_file(struct dump *d, uint64_t *s)
{
	size_t k;

	if (rng_next(s) % 3 == 0)
		for (size_t i = 0; i < d->nr_files; i++)
			if (d->files[i].type == IMG_PSTREE && only_types & 1u << IMG_PSTREE)
				return &d->files[i];
	for (int tries = 0; tries < 1000; tries++) {
		k = rng_next(s) % d->nr_files;
		if (only_types & 1u << d->files[k].type)
			return &d->files[k];
	}
	fprintf(stderr, "restore-fuzz: no image of the types -o allows\n");
	exit(2);
}

/* Changes one or two image files of a dump, in its dir; returns how many (in f). */
static int mutate_set(uint64_t *s, struct dump *d, struct img_file *f[2])
{
	int nf = rng_next(s) % 4 == 0 ? 2 : 1;
	int wn = snprintf(what, sizeof(what), "%s: ", d->src);

	for (int i = 0; i < nf; i++) {
		f[i] = pick_file(d, s);
		if (i && f[1] == f[0])
			return 1;
		if (i)
			wn += snprintf(what + wn, sizeof(what) - wn, " | ");
		if (mutate_file(d, f[i], s, what + wn, sizeof(what) - wn) < 0) {
			fprintf(stderr, "restore-fuzz: cannot rewrite %s/%s\n", d->dir, f[i]->name);
			exit(2);
		}
		wn = strlen(what);
	}
	return nf;
}

static uint64_t iter_seed(uint64_t iter)
{
	uint64_t s = (seed * 0x9E3779B97F4A7C15ULL) ^ (iter * 0xBF58476D1CE4E5B9ULL) ^ 0x1234567;

	for (int i = 0; i < 4; i++)
		rng_next(&s);
	return s;
}

/* One iteration: returns 1 on a finding, 0 else. */
static int iterate(uint64_t iter, bool verbose)
{
	uint64_t s = iter_seed(iter);
	struct dump *d;
	struct img_file *f[2];
	int nf, fds = count_fds(), r;
	struct restore_ctx ctx;
	struct opts o = { .dir = NULL, .verbosity = verbose ? LOG_WARN : -1 };
	const char *broken = NULL;

	d = &dumps[rng_next(&s) % nr_dumps];
	cur_iter = iter;
	cur_dir = d->dir;
	o.dir = d->dir;
	nf = mutate_set(&s, d, f);
	log_init(o.verbosity, -1, NULL);
	alarm(HANG_SECONDS);
	r = restore_check_images(&o, &ctx);
	if (r >= 0)
		broken = oracle_check(&ctx);
	accepted += r >= 0;
	restore_ctx_free(&ctx);
	alarm(0);
	if (verbose)
		printf("iteration %llu: %s\n  %s\n", (unsigned long long)iter, what,
		       r < 0 ? "refused" : broken ? broken : "accepted, consistent");
	if (broken) {
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "; accepted, but %s",
			 broken);
		say_finding("an inconsistent image set accepted");
		return 1;
	}
	if (count_fds() != fds) {
		say_finding(r < 0 ? "a descriptor left open by a refused image set"
				  : "a descriptor left open");
		return 1;
	}
	for (int i = 0; i < nf; i++)
		write_whole(d->dir, f[i]->name, f[i]->data, f[i]->len);
	return 0;
}

static uint64_t scalar_of(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	uint64_t v = 0;

	memcpy(&v, (const char *)m + fd->offset,
	       fd->type == PROTOBUF_C_TYPE_UINT64 || fd->type == PROTOBUF_C_TYPE_INT64 ? 8 : 4);
	return v;
}

/*
 * The message and scalar field a dotted path names in m: "shmid", or
 * through messages, "sock.netns", "mqs.0.curmsgs" (an element by index),
 * "vmas.kind=7.shmid" (the first element whose field has that value).
 */
static ProtobufCMessage *resolve(ProtobufCMessage *m, char *path,
				 const ProtobufCFieldDescriptor **ret)
{
	char *tok = strtok(path, ".");

	while (tok && m) {
		const ProtobufCFieldDescriptor *fd =
		    protobuf_c_message_descriptor_get_field_by_name(m->descriptor, tok);
		char *next = strtok(NULL, ".");

		if (!fd)
			return NULL;
		if (!next) {
			*ret = fd;
			return fd->label == PROTOBUF_C_LABEL_REPEATED ||
					       fd->type == PROTOBUF_C_TYPE_STRING ||
					       fd->type == PROTOBUF_C_TYPE_BYTES ||
					       fd->type == PROTOBUF_C_TYPE_MESSAGE
				   ? NULL
				   : m;
		}
		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			return NULL;
		if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
			m = *(ProtobufCMessage **)((char *)m + fd->offset);
			tok = next;
			continue;
		}
		size_t n = *(size_t *)((char *)m + fd->quantifier_offset), k = 0;
		ProtobufCMessage **arr = *(ProtobufCMessage ***)((char *)m + fd->offset);
		char *eq = strchr(next, '=');

		if (eq) {
			*eq = 0;
			for (k = 0; k < n; k++) {
				const ProtobufCFieldDescriptor *sel =
				    protobuf_c_message_descriptor_get_field_by_name(arr[k]->descriptor,
										    next);
				if (sel && scalar_of(arr[k], sel) == strtoull(eq + 1, NULL, 0))
					break;
			}
		} else {
			k = strtoull(next, NULL, 0);
		}
		m = k < n ? arr[k] : NULL;
		tok = strtok(NULL, ".");
	}
	return NULL;
}

/* -e: one field of one entry set, in place. */
static int edit(const char *spec, const char *dir)
{
	static size_t off[MAX_ENTRIES], len[MAX_ENTRIES];
	char file[256], field[128], path[4400];
	unsigned long long v;
	unsigned entry;
	struct img_file f = { 0 };
	const ProtobufCFieldDescriptor *fd, *from = NULL;
	const char *val;
	uint8_t *out;
	size_t n, at = 8;
	int type;

	bool dup = false;

	const char *eq = strrchr(spec, '=');
	int at_field = 0;

	/* FIELD may hold '=' itself (vmas.kind=7.shmid): the value follows the last. */
	if (!eq || sscanf(spec, "%255[^:]:%u:%n", file, &entry, &at_field) != 2 || !at_field ||
	    eq - (spec + at_field) >= (long)sizeof(field) || (type = img_type_of(file)) < 0)
		return fprintf(stderr, "restore-fuzz: bad edit %s\n", spec), 2;
	snprintf(field, sizeof(field), "%.*s", (int)(eq - (spec + at_field)), spec + at_field);
	val = eq + 1;
	dup = !strcmp(val, "dup") || !strncmp(val, "dup:", 4);
	v = strtoull(val, NULL, 0);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f.type = type;
	if (read_whole(path, &f.data, &f.len) < 0 || (n = split_entries(&f, off, len)) <= entry)
		return fprintf(stderr, "restore-fuzz: %s has no entry %u\n", path, entry), 2;
	fd = protobuf_c_message_descriptor_get_field_by_name(img_descs[type].msg, field);
	out = malloc(f.len * 2 + 64);
	if (!out || (dup && !fd))
		return fprintf(stderr, "restore-fuzz: no such field %s in %s\n", field, file), 2;
	from = fd;
	if (!strncmp(val, "dup:", 4) &&
	    !(from = protobuf_c_message_descriptor_get_field_by_name(img_descs[type].msg, val + 4)))
		return fprintf(stderr, "restore-fuzz: no such field %s in %s\n", val + 4, file), 2;
	memcpy(out, f.data, 8);
	for (size_t i = 0; i < n; i++) {
		ProtobufCMessage *m = decode(&f, off[i], len[i]);

		if (!m)
			return 2;
		if (i == entry && dup && !fuzz_copy_first(m, fd, from))
			return fprintf(stderr, "restore-fuzz: %s is empty in %s\n", from->name, file), 2;
		if (i == entry && !dup) {
			char p[128];
			ProtobufCMessage *t;

			snprintf(p, sizeof(p), "%s", field);
			if (!(t = resolve(m, p, &fd)))
				return fprintf(stderr, "restore-fuzz: no such field %s in %s\n",
					       field, file), 2;
			memcpy((char *)t + fd->offset, &v, fd->type == PROTOBUF_C_TYPE_UINT64 ||
				fd->type == PROTOBUF_C_TYPE_INT64 ? 8 : 4);
			if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
				*(protobuf_c_boolean *)((char *)t + fd->quantifier_offset) = 1;
		}
		at += put_entry(out + at, m);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return write_whole(dir, file, out, at) < 0 ? 2 : 0;
}

/* -o pstree,inventory,...: image types by their file prefix. */
static unsigned type_list(const char *list)
{
	unsigned mask = 0;

	for (int t = 0; t < IMG_NR_TYPES; t++) {
		const char *p = strstr(list, img_descs[t].prefix);
		size_t l = strlen(img_descs[t].prefix);

		if (p && (p == list || p[-1] == ',') && (p[l] == ',' || !p[l]))
			mask |= 1u << t;
	}
	return mask;
}

/*
 * -m ITER DIR: changes the dump in DIR itself as iteration ITER would (for a
 * real restore of it, tests/bad_input.sh) and says what it changed.
 */
static int mutate_in_place(uint64_t iter, const char *dir)
{
	static struct dump d;
	struct img_file *f[2];
	uint64_t s = iter_seed(iter);

	if (load_dump(&d, dir) < 0)
		return fprintf(stderr, "restore-fuzz: cannot load the dump in %s\n", dir), 2;
	snprintf(d.dir, sizeof(d.dir), "%s", dir);
	for (size_t i = 0; i < d.nr_files; i++) {
		static size_t off[MAX_ENTRIES], len[MAX_ENTRIES];
		size_t n = split_entries(&d.files[i], off, len);

		for (size_t e = 0; e < n; e++) {
			ProtobufCMessage *m = decode(&d.files[i], off[e], len[e]);

			if (m) {
				fuzz_pool_collect(&d.pool, m);
				protobuf_c_message_free_unpacked(m, NULL);
			}
		}
	}
	rng_next(&s); /* the dump's choice, as in iterate() */
	mutate_set(&s, &d, f);
	printf("%s\n", what);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: restore-fuzz [-s SEED] [-t SECONDS] [-n ITERATIONS] [-r ITERATION] "
			"[-k DIR] [-o TYPES] CORPUS...\n"
			"       restore-fuzz [-s SEED] [-o TYPES] -m ITERATION DIR\n"
			"       restore-fuzz -e FILE:ENTRY:FIELD=VALUE DIR\n");
	exit(2);
}

/* Every corpus dump, untouched, must pass: else the fuzzer would test nothing. */
static int check_controls(void)
{
	for (size_t i = 0; i < nr_dumps; i++) {
		struct opts o = { .dir = dumps[i].dir, .verbosity = LOG_WARN };
		struct restore_ctx ctx;
		const char *broken = NULL;
		int r;

		log_init(LOG_WARN, -1, NULL);
		r = restore_check_images(&o, &ctx);
		if (r >= 0)
			broken = oracle_check(&ctx);
		restore_ctx_free(&ctx);
		if (r < 0 || broken) {
			printf("FAIL restore-fuzz: the untouched dump %s is %s%s\n", dumps[i].src,
			       r < 0 ? "refused" : "inconsistent: ", broken ? broken : "");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = 20;
	long long iters = -1, replay = -1, mutate_only = -1;
	const char *keep = NULL;
	uint64_t t0, i;
	int c, found = 0;

	while ((c = getopt(argc, argv, "s:t:n:r:k:e:m:o:")) != -1) {
		switch (c) {
		case 'm': mutate_only = atoll(optarg); break;
		case 'o': only_types = type_list(optarg); break;
		case 'e': return optind < argc ? edit(optarg, argv[optind]) : 2;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': seconds = atof(optarg); break;
		case 'n': iters = atoll(optarg); break;
		case 'r': replay = atoll(optarg); break;
		case 'k': keep = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	if (mutate_only >= 0)
		return mutate_in_place(mutate_only, argv[optind]);
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGFPE, on_fatal);
	signal(SIGABRT, on_fatal);
	signal(SIGALRM, on_fatal);
	snprintf(scratch, sizeof(scratch), "%s", keep ? keep : "/tmp/nestor-fuzz.XXXXXX");
	if (keep ? mkdir(scratch, 0700) && errno != EEXIST : !mkdtemp(scratch)) {
		fprintf(stderr, "restore-fuzz: cannot make %s: %m\n", scratch);
		return 2;
	}
	nr_dumps = argc - optind;
	dumps = calloc(nr_dumps, sizeof(*dumps));
	for (size_t k = 0; dumps && k < nr_dumps; k++)
		if (load_dump(&dumps[k], argv[optind + k]) < 0 || place_dump(&dumps[k], k) < 0) {
			fprintf(stderr, "restore-fuzz: cannot load the dump in %s\n", argv[optind + k]);
			return 2;
		}
	if (!dumps || check_controls() < 0)
		return 1;
	if (replay >= 0)
		return iterate(replay, true);
	t0 = now_ns(CLOCK_MONOTONIC);
	for (i = 0; !found && (iters < 0 || (long long)i < iters); i++) {
		if (iters < 0 && now_ns(CLOCK_MONOTONIC) - t0 > seconds * 1e9)
			break;
		found = iterate(i, false);
	}
	if (found)
		return 1;
	printf("PASS restore-fuzz: %llu image sets from %zu dumps (seed %llu), %llu accepted; no "
	       "crash, hang, leak or inconsistent set accepted\n", (unsigned long long)i, nr_dumps,
	       (unsigned long long)seed, (unsigned long long)accepted);
	if (!keep) {
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
		(void)!system(cmd);
	}
	return 0;
}
