/* Names held for a moment, for objects made again at a path that was gone
 * at the dump (see names.h). */
#define LOG_PREFIX "files: "
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/log.h"
#include "core/util.h"
#include "files/names.h"

#define MAX_DIRS 64

/* The missing directories above path, made outermost first (mode 0700: only
 * nestor uses them, for the moment the name is held). */
static int make_dirs(struct name_hold *h)
{
	char *p = h->path;
	struct stat st;

	h->dirs = calloc(MAX_DIRS, sizeof(*h->dirs));
	if (!h->dirs)
		return -ENOMEM;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (lstat(p, &st) == 0) {
			*s = '/';
			if (!S_ISDIR(st.st_mode))
				return log_error_ret(-ENOTDIR, "can't restore: %s is in the way of %s",
						     p, h->path);
			continue;
		}
		if (errno != ENOENT || h->nr_dirs == MAX_DIRS || mkdir(p, 0700)) {
			int r = errno == ENOENT ? -ENAMETOOLONG : -errno;

			*s = '/';
			return log_error_errno(r, "can't restore: cannot make the directories of %s",
					       h->path);
		}
		h->dirs[h->nr_dirs] = strdup(p);
		*s = '/';
		if (!h->dirs[h->nr_dirs]) {
			rmdir(p);
			return -ENOMEM;
		}
		h->nr_dirs++;
	}
	return 0;
}

int name_hold_take(const char *path, struct name_hold *h)
{
	struct stat st;
	int r;

	*h = (struct name_hold){ 0 };
	if (path[0] != '/')
		return log_error_ret(-EINVAL, "can't restore: %s is not an absolute path", path);
	h->path = strdup(path);
	if (!h->path)
		return -ENOMEM;
	if ((r = make_dirs(h)) < 0)
		goto fail;
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		r = log_error_errno(-errno, "cannot look at %s", path);
		goto fail;
	}
	if (asprintf(&h->aside, "%s.nestor-aside-%d", path, getpid()) < 0) {
		h->aside = NULL;
		r = -ENOMEM;
		goto fail;
	}
	if (rename(path, h->aside)) {
		r = log_error_errno(-errno, "cannot move %s aside", path);
		free(h->aside);
		h->aside = NULL;
		goto fail;
	}
	return 0;
fail:
	name_hold_release(h);
	return r;
}

void name_hold_release(struct name_hold *h)
{
	struct stat st;

	if (h->made && !lstat(h->path, &st) &&
	    (S_ISDIR(st.st_mode) ? rmdir(h->path) : unlink(h->path)))
		pr_warn("cannot remove %s: %s", h->path, strerror(errno));
	h->made = false;
	if (h->aside && rename(h->aside, h->path))
		pr_warn("cannot put %s back from %s: %s", h->path, h->aside, strerror(errno));
	free(h->aside);
	h->aside = NULL;
	while (h->nr_dirs) {
		char *d = h->dirs[--h->nr_dirs];

		if (rmdir(d))
			pr_warn("cannot remove the directory %s: %s", d, strerror(errno));
		free(d);
	}
	free(h->dirs);
	h->dirs = NULL;
	free(h->path);
	h->path = NULL;
}

int names_open_deleted(const char *path, mode_t mode, dev_t rdev, int flags)
{
	struct name_hold h;
	int fd = -1, r = name_hold_take(path, &h);

	if (r < 0)
		return r;
	r = S_ISDIR(mode) ? mkdir(path, mode & 07777) : mknod(path, mode, rdev);
	if (r) {
		r = log_error_errno(-errno, "cannot make %s again", path);
		name_hold_release(&h);
		return r;
	}
	h.made = true;
	/* umask took bits off. */
	if (chmod(path, mode & 07777) || (fd = open(path, flags | O_CLOEXEC)) < 0)
		r = log_error_errno(-errno, "cannot open %s, made again", path);
	name_hold_release(&h);
	return r < 0 ? r : fd;
}
