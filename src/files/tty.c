/*
 * Terminals. A pty whose master a task of the tree holds is the tree's own:
 * it comes back with the same index, settings, window size, packet mode and
 * unread data in both directions; session leaders get it back as their
 * controlling terminal, with its foreground group. A slave whose master is
 * elsewhere is the caller's terminal: --shell-job, or refused.
 *
 * A tty queue cannot be peeked at: the dump reads the unread data and writes
 * it straight back (line discipline echo and processing off meanwhile), so
 * the task finds it as it was. A partial line being typed stays first.
 */
#define LOG_PREFIX "tty: "
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include "core/arena.h"
#include "files/fd-ops.h"
#include "core/log.h"
#include "core/sys.h"
#include "files/tty.h"
#include "core/util.h"

#define PTY_DATA_MAX (64 << 10)
#define PTY_MAX      4096

struct pty_obj {
	uint32_t index;
	int master;
};

bool tty_is_pty(const struct stat *st)
{
	unsigned maj = major(st->st_rdev), min = minor(st->st_rdev);

	return S_ISCHR(st->st_mode) && ((maj == 5 && min == 2) || (maj >= 136 && maj <= 143));
}

int tty_dump(struct dump_ctx *ctx, struct dump_task *t, int fd, const struct stat *st,
	     FileEntry *f)
{
	PtyEntry *p = ANEW(PtyEntry);
	unsigned maj = major(st->st_rdev);

	if (!p)
		return -ENOMEM;
	pty_entry__init(p);
	f->type = FILE_TYPE__PTY;
	f->pty = p;
	if (maj == 5) {
		int m = sys_dup_task_fd(t->pid, fd), idx = -1;

		if (m < 0 || ioctl(m, TIOCGPTN, &idx)) {
			if (m >= 0)
				close(m);
			return log_error_errno(m < 0 ? m : -errno, "cannot read pty of task %d fd %d",
					       t->pid, fd);
		}
		close(m);
		p->index = idx;
		p->master = true;
	} else {
		p->index = (maj - 136) * 256 + minor(st->st_rdev);
	}
	return 0;
}

static FileEntry *master_of(FileEntry **files, size_t n, uint32_t index)
{
	for (size_t i = 0; i < n; i++)
		if (files[i]->type == FILE_TYPE__PTY && files[i]->pty->master &&
		    files[i]->pty->index == index)
			return files[i];
	return NULL;
}

/* Reads what is queued on fd (at most len) and returns how much. */
static ssize_t drain(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	int avail = 0;

	if (ioctl(fd, FIONREAD, &avail) || avail <= 0)
		return 0;
	if ((size_t)avail > len)
		return -E2BIG;
	while (got < (size_t)avail) {
		ssize_t n = read(fd, buf + got, avail - got);
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

/* Puts data back into a pty with echo, signals and processing off meanwhile. */
static int inject(int master, int slave, const struct termios *saved, const void *in, size_t in_len,
		  const void *out, size_t out_len)
{
	struct termios quiet = *saved;
	int r = 0;

	quiet.c_iflag = 0;
	quiet.c_oflag &= ~OPOST;
	quiet.c_lflag &= ~(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ISIG | IEXTEN);
	if (tcsetattr(slave, TCSANOW, &quiet))
		return -errno;
	if (in_len)
		r = write_all(master, in, in_len);
	if (r == 0 && out_len)
		r = write_all(slave, out, out_len);
	if (tcsetattr(slave, TCSANOW, saved) && r == 0)
		r = -errno;
	return r;
}

static int save_state(struct dump_ctx *ctx, FileEntry *f)
{
	PtyEntry *p = f->pty;
	char path[64];
	struct termios tio;
	struct winsize ws;
	struct stat st;
	uint8_t *in = arena_alloc(PTY_DATA_MAX), *out = arena_alloc(PTY_DATA_MAX);
	_cleanup_close_ int m = -1, s = -1;
	int pkt = 0, fd;
	ssize_t nin, nout;
	pid_t pid;

	if (!in || !out || (fd = files_holder(ctx, f->id, &pid)) < 0)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/dev/pts/%u", p->index);
	m = sys_dup_task_fd(pid, fd);
	s = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (m < 0 || s < 0 || tcgetattr(s, &tio) || ioctl(s, TIOCGWINSZ, &ws) ||
	    ioctl(m, TIOCGPKT, &pkt) || fstat(s, &st))
		return log_error_errno(m < 0 ? m : -errno, "cannot read the state of %s", path);
	nin = drain(s, in, PTY_DATA_MAX);
	nout = pkt ? 0 : drain(m, out, PTY_DATA_MAX);
	if (nin < 0 || nout < 0 || (pkt && ioctl(m, FIONREAD, &fd) == 0 && fd > 0))
		return log_error_ret(-EOPNOTSUPP, "can't dump: %s holds more unread data than nestor "
						  "keeps (or output in packet mode)", path);
	/* The task must find its data where it was: put it straight back. */
	if (inject(m, s, &tio, in, nin, out, nout) < 0)
		return log_error_errno(-errno, "cannot put the unread data of %s back", path);
	p->termios.data = arena_memdup(&tio, sizeof(tio));
	p->termios.len = sizeof(tio);
	p->has_termios = p->has_rows = p->has_cols = p->has_xpixel = p->has_ypixel = true;
	p->rows = ws.ws_row;
	p->cols = ws.ws_col;
	p->xpixel = ws.ws_xpixel;
	p->ypixel = ws.ws_ypixel;
	p->has_packet = true;
	p->packet = pkt;
	p->has_slave_uid = p->has_slave_gid = p->has_slave_mode = true;
	p->slave_uid = st.st_uid;
	p->slave_gid = st.st_gid;
	p->slave_mode = st.st_mode & 07777;
	p->has_in_data = p->has_out_data = true;
	p->in_data = (ProtobufCBinaryData){ nin, in };
	p->out_data = (ProtobufCBinaryData){ nout, out };
	return p->termios.data ? 0 : -ENOMEM;
}

static void note_ctty(struct dump_ctx *ctx, struct dump_task *t)
{
	unsigned tty = t->stat.tty_nr, maj = (tty >> 8) & 0xfff;
	unsigned min = (tty & 0xff) | ((tty >> 12) & 0xfff00);

	if (t->zombie || t->stat.sid != t->pid || maj < 136 || maj > 143)
		return;
	if (!master_of(ctx->files.files, ctx->files.nr, (maj - 136) * 256 + min))
		return; /* the caller's terminal: --shell-job keeps it */
	t->core->has_ctty_index = true;
	t->core->ctty_index = (maj - 136) * 256 + min;
	t->core->has_ctty_fg = t->stat.tpgid > 0;
	t->core->ctty_fg = t->stat.tpgid;
}

int tty_finish_dump(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->files.nr; i++) {
		FileEntry *f = ctx->files.files[i];
		pid_t pid;
		int fd, r;

		if (f->type != FILE_TYPE__PTY)
			continue;
		if (f->pty->master) {
			if ((r = save_state(ctx, f)) < 0)
				return r;
			continue;
		}
		if (master_of(ctx->files.files, ctx->files.nr, f->pty->index))
			continue;
		if (!ctx->opts->shell_job) {
			fd = files_holder(ctx, f->id, &pid);
			return log_error_ret(-EOPNOTSUPP, "can't dump: task %d fd %d is the terminal "
							  "%s, whose master is outside the tree (use "
							  "--shell-job)", pid, fd, f->path);
		}
		f->type = FILE_TYPE__TTY; /* the caller's terminal */
		f->pty = NULL;
	}
	for (size_t k = 0; k < ctx->nr_tasks; k++)
		note_ctty(ctx, &ctx->tasks[k]);
	return 0;
}

/* ---- restore ---- */

int tty_validate(struct restore_ctx *ctx, const FileEntry *f)
{
	const PtyEntry *p = f->pty;
	const FileEntry *m = p ? master_of(ctx->files, ctx->nr_files, p->index) : NULL;

	if (!p || p->index >= PTY_MAX || !m || !m->pty->has_termios ||
	    m->pty->termios.len != sizeof(struct termios) || !m->pty->has_in_data ||
	    !m->pty->has_out_data || m->pty->in_data.len > PTY_DATA_MAX ||
	    m->pty->out_data.len > PTY_DATA_MAX || (m->pty->slave_mode & ~07777))
		return log_error_ret(-EINVAL, "image files.img is corrupted: bad pty %u", f->id);
	return 0;
}

/* /dev/ptmx hands out the lowest free index: take them until ours comes. */
static int alloc_index(uint32_t index)
{
	int held[PTY_MAX], n = 0, fd = -1, r = -EBUSY;

	while (n < PTY_MAX) {
		int idx = -1;

		fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, TIOCGPTN, &idx)) {
			r = -errno;
			break;
		}
		if ((uint32_t)idx == index) {
			r = fd;
			break;
		}
		held[n++] = fd;
		fd = -1;
		if ((uint32_t)idx > index)
			break; /* ours is taken */
	}
	if (r < 0 && fd >= 0)
		close(fd);
	while (n--)
		close(held[n]);
	return r;
}

static int make_pty(struct restore_ctx *ctx, const FileEntry *m, struct pty_obj *o)
{
	const PtyEntry *p = m->pty;
	struct winsize ws = { p->rows, p->cols, p->xpixel, p->ypixel };
	struct termios tio;
	char path[64];
	int unlock = 0, s, r;

	o->index = p->index;
	o->master = alloc_index(p->index);
	if (o->master < 0)
		return log_error_errno(o->master, "can't restore: cannot get pty %u", p->index);
	snprintf(path, sizeof(path), "/dev/pts/%u", p->index);
	memcpy(&tio, p->termios.data, sizeof(tio));
	if (ioctl(o->master, TIOCSPTLCK, &unlock) ||
	    (s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return log_error_errno(-errno, "cannot open %s", path);
	r = ioctl(s, TIOCSWINSZ, &ws) ? -errno : 0;
	if (r == 0 && p->has_slave_uid && p->has_slave_gid &&
	    fchown(s, p->slave_uid, p->slave_gid))
		r = -errno;
	if (r == 0 && p->has_slave_mode && fchmod(s, p->slave_mode & 07777))
		r = -errno;
	if (r == 0)
		r = inject(o->master, s, &tio, p->in_data.data, p->in_data.len, p->out_data.data,
			   p->out_data.len);
	if (r == 0 && p->packet && ioctl(o->master, TIOCPKT, &(int){ 1 }))
		r = -errno;
	close(s);
	if (r < 0)
		return log_error_errno(r, "cannot set up %s", path);
	o->master = fd_move_above(o->master, ctx->fd_base + 1);
	return o->master < 0 ? o->master : 0;
}

static int find_pty(struct restore_ctx *ctx, uint32_t index)
{
	struct pty_obj *o;
	int r;

	for (size_t i = 0; i < ctx->nr_ptys; i++)
		if (ctx->ptys[i].index == index)
			return ctx->ptys[i].master;
	o = array_add(&ctx->ptys, ctx->nr_ptys, sizeof(*o));
	if (!o)
		return -ENOMEM;
	r = make_pty(ctx, master_of(ctx->files, ctx->nr_files, index), o);
	if (r < 0)
		return r;
	return ctx->ptys[ctx->nr_ptys++].master;
}

int tty_open(struct restore_ctx *ctx, const FileEntry *f, int flags)
{
	char path[64];
	int m = find_pty(ctx, f->pty->index), fd;

	if (m < 0)
		return m;
	if (f->pty->master) /* a pty has one master description */
		fd = fcntl(m, F_DUPFD_CLOEXEC, 0);
	else {
		snprintf(path, sizeof(path), "/dev/pts/%u", f->pty->index);
		fd = open(path, OPEN_FLAGS_RESTORE(flags) | O_NOCTTY);
	}
	if (fd < 0)
		return log_error_errno(-errno, "cannot open pty %u", f->pty->index);
	if (f->pty->master && fcntl(fd, F_SETFL, flags) < 0) {
		close(fd);
		return log_error_errno(-errno, "cannot set the flags of pty %u", f->pty->index);
	}
	return fd;
}

void tty_close(struct restore_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_ptys; i++)
		close(ctx->ptys[i].master);
	free(ctx->ptys);
	ctx->ptys = NULL;
	ctx->nr_ptys = 0;
}

/* A terminal only a session leader has, a pty of the tree; its foreground a group of that session. */
int tty_validate_ctty(const struct restore_ctx *ctx, const struct restore_task *t)
{
	const TaskCoreEntry *c = t->core;
	bool fg_ok = !c->has_ctty_fg;

	for (size_t i = 0; !fg_ok && i < ctx->nr_tasks; i++)
		fg_ok = ctx->tasks[i].pe->pgid == c->ctty_fg && ctx->tasks[i].pe->sid == t->pe->sid;
	if ((c->has_ctty_index || c->has_ctty_fg) &&
	    (!c->has_ctty_index || t->pe->sid != t->pe->pid || !fg_ok ||
	     !master_of(ctx->files, ctx->nr_files, c->ctty_index)))
		return log_error_ret(-EINVAL, "image core-%d.img is corrupted: bad controlling "
					      "terminal", t->pid);
	return 0;
}

int tty_set_ctty(const struct restore_task *t)
{
	char path[64];
	int fd;

	if (!t->core || !t->core->has_ctty_index)
		return 0;
	/* A session leader without a terminal that opens one gets it. */
	snprintf(path, sizeof(path), "/dev/pts/%u", t->core->ctty_index);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TIOCSCTTY, 0)) {
		if (fd >= 0)
			close(fd);
		return log_error_errno(-errno, "cannot make %s task %d's terminal", path, t->pid);
	}
	close(fd);
	return 0;
}

int tty_set_foreground(const struct restore_task *t, pid_t fg)
{
	int fd, r = 0;

	if (!t->core || !t->core->has_ctty_fg)
		return 0;
	if (!fg)
		return log_error_ret(-EOPNOTSUPP, "can't restore: task %d's terminal belongs to "
						  "group %u, outside its pid namespace (not supported)",
				     t->pid, t->core->ctty_fg);
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0 || tcsetpgrp(fd, fg))
		r = log_error_errno(-errno, "cannot give task %d's terminal to group %u", t->pid,
				    t->core->ctty_fg);
	if (fd >= 0)
		close(fd);
	return r;
}

static bool claims(const struct stat *st, const char *path)
{
	return tty_is_pty(st);
}

static int dump_fd(const struct fd_dump *d, FileEntry *f)
{
	return tty_dump(d->ctx, d->t, d->fd, d->st, f);
}

const struct fd_ops tty_fd_ops = {
	.name = "pty",
	.types = FD_TYPE(FILE_TYPE__PTY),
	.claims = claims,
	.dump = dump_fd,
	.dump_finish = tty_finish_dump,
	.validate = tty_validate,
	.open = tty_open,
	.close = tty_close,
};
