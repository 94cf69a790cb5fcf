/* SPDX-License-Identifier: ISC */
/*
 * File I/O: capped reads and lockfile-style atomic writes; see sotto/io.h.
 * Only this file calls open(), rename() and fsync().
 */
#include "sotto/io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t
sotto_io_read_full(int fd, void *p, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (uint8_t *)p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

sotto_err
sotto_io_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return SOTTO_E_IO;
		c += w;
		n -= (size_t)w;
	}
	return SOTTO_OK;
}

sotto_err
sotto_io_read_file(struct sotto_buf *out, const char *path, size_t cap,
    struct sotto_error *e)
{
	struct stat st;
	int fd, is_stdin = strcmp(path, "-") == 0;
	ssize_t r;
	size_t start = out->len;

	if (is_stdin) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return sotto_error_set(e, errno == ENOENT ?
			    SOTTO_E_NOTFOUND : SOTTO_E_IO,
			    "cannot open '%s': %s", path, strerror(errno));
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			close(fd);
			return sotto_error_set(e, SOTTO_E_IO,
			    "cannot read '%s': is a directory", path);
		}
	}
	/* a regular file is read into one allocation of its size */
	if (!is_stdin && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size <= cap &&
	    sotto_buf_grow(out, (size_t)st.st_size + 1) != SOTTO_OK) {
		close(fd);
		return sotto_error_set(e, SOTTO_E_NOMEM,
		    "cannot read '%s': out of memory", path);
	}
	for (;;) {
		if (out->cap - out->len < 65536 + 1 &&
		    sotto_buf_grow(out, 65536) != SOTTO_OK) {
			if (!is_stdin)
				close(fd);
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "cannot read '%s': out of memory", path);
		}
		r = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;

			if (!is_stdin)
				close(fd);
			return sotto_error_set(e, SOTTO_E_IO,
			    "cannot read '%s': %s", is_stdin ? "stdin" : path,
			    strerror(err));
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		out->data[out->len] = '\0';
		if (out->len - start > cap) {
			if (!is_stdin)
				close(fd);
			return sotto_error_set(e, SOTTO_E_LIMIT,
			    "'%s' is larger than the %zu byte limit",
			    is_stdin ? "stdin" : path, cap);
		}
	}
	if (!is_stdin)
		close(fd);
	return SOTTO_OK;
}

mode_t
sotto_io_umask(void)
{
	mode_t m = umask(022);

	umask(m);
	return m;
}

bool
sotto_io_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static char *
dir_of(const char *path)
{
	char *copy = strdup(path), *d, *res;

	if (copy == NULL)
		return NULL;
	d = dirname(copy);
	res = strdup(d);
	free(copy);
	return res;
}

static sotto_err
open_temp(struct sotto_out *o, struct sotto_error *e)
{
	char *dir;
	size_t n;
	int tries;

	dir = dir_of(o->path);
	if (dir == NULL)
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	n = strlen(dir) + 64;
	o->tmp = malloc(n);
	if (o->tmp == NULL) {
		free(dir);
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	for (tries = 0; tries < 100; tries++) {
		/* the name need not be secret: O_EXCL makes it safe */
		snprintf(o->tmp, n, "%s/.sotto-tmp-%ld-%08x", dir,
		    (long)getpid(), randombytes_random());
		o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (o->fd >= 0 || errno != EEXIST)
			break;
	}
	free(dir);
	if (o->fd < 0) {
		int err = errno;

		free(o->tmp);
		o->tmp = NULL;
		return sotto_error_set(e, SOTTO_E_IO,
		    "cannot create a temporary file next to '%s': %s",
		    o->path, strerror(err));
	}
	return SOTTO_OK;
}

static sotto_err
out_realize(struct sotto_out *o, struct sotto_error *e)
{
	struct stat st;

	if (o->opened)
		return SOTTO_OK;
	o->opened = true;
	if (o->path == NULL) {
		o->fd = STDOUT_FILENO;
		return SOTTO_OK;
	}
	if (stat(o->path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return sotto_error_set(e, SOTTO_E_IO,
			    "cannot write '%s': is a directory", o->path);
		if (!S_ISREG(st.st_mode)) {
			/* device, FIFO, socket: write straight through */
			o->fd = open(o->path, O_WRONLY | O_CLOEXEC);
			if (o->fd < 0)
				return sotto_error_set(e, SOTTO_E_IO,
				    "cannot open '%s': %s", o->path,
				    strerror(errno));
			return SOTTO_OK;
		}
		if (o->keep_mode)
			o->mode = st.st_mode & 07777;
	}
	return open_temp(o, e);
}

sotto_err
sotto_io_out_open(struct sotto_out *o, const char *path, mode_t mode,
    bool keep_mode, bool lazy, struct sotto_error *e)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->mode = mode;
	o->keep_mode = keep_mode;
	o->lazy = lazy;
	if (path != NULL && strcmp(path, "-") != 0) {
		o->path = strdup(path);
		if (o->path == NULL)
			return sotto_error_set(e, SOTTO_E_NOMEM,
			    "out of memory");
	}
	if (!lazy)
		return out_realize(o, e);
	return SOTTO_OK;
}

bool
sotto_io_out_is_stream(const struct sotto_out *o)
{
	return o->tmp == NULL;
}

sotto_err
sotto_io_out_write(struct sotto_out *o, const void *p, size_t n,
    struct sotto_error *e)
{
	sotto_err err;

	if ((err = out_realize(o, e)) != SOTTO_OK)
		return err;
	if (n == 0)
		return SOTTO_OK;
	if (sotto_io_write_all(o->fd, p, n) != SOTTO_OK)
		return sotto_error_set(e, SOTTO_E_IO, "cannot write '%s': %s",
		    o->path ? o->path : "stdout", strerror(errno));
	return SOTTO_OK;
}

static int
fsync_dir(const char *path)
{
	char *dir = dir_of(path);
	int fd, rc = 0;

	if (dir == NULL)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = -1;
	close(fd);
	return rc;
}

static void
out_free(struct sotto_out *o)
{
	free(o->path);
	free(o->tmp);
	o->path = o->tmp = NULL;
	o->fd = -1;
}

sotto_err
sotto_io_out_commit(struct sotto_out *o, struct sotto_error *e)
{
	sotto_err err;

	if ((err = out_realize(o, e)) != SOTTO_OK) {
		sotto_io_out_abort(o);
		return err;
	}
	if (o->tmp == NULL) {
		/* stream: stdout stays open, others are closed */
		if (o->path != NULL && close(o->fd) != 0) {
			err = sotto_error_set(e, SOTTO_E_IO,
			    "cannot close '%s': %s", o->path, strerror(errno));
			out_free(o);
			return err;
		}
		out_free(o);
		return SOTTO_OK;
	}
	/* the replaced file's owner and group, as far as we may give them */
	if (o->keep_owner && fchown(o->fd, o->uid, o->gid) != 0 &&
	    fchown(o->fd, (uid_t)-1, o->gid) != 0) {
		/* not permitted: the file becomes ours (see sotto-set(1)) */
	}
	if (fsync(o->fd) != 0 || fchmod(o->fd, o->mode) != 0) {
		err = sotto_error_set(e, SOTTO_E_IO, "cannot write '%s': %s",
		    o->path, strerror(errno));
		sotto_io_out_abort(o);
		return err;
	}
	if (close(o->fd) != 0) {
		o->fd = -1;
		err = sotto_error_set(e, SOTTO_E_IO, "cannot close '%s': %s",
		    o->path, strerror(errno));
		sotto_io_out_abort(o);
		return err;
	}
	o->fd = -1;
	if (rename(o->tmp, o->path) != 0) {
		err = sotto_error_set(e, SOTTO_E_IO, "cannot rename onto '%s': %s",
		    o->path, strerror(errno));
		sotto_io_out_abort(o);
		return err;
	}
	(void)fsync_dir(o->path);
	out_free(o);
	return SOTTO_OK;
}

void
sotto_io_out_abort(struct sotto_out *o)
{
	if (o->fd >= 0 && o->fd != STDOUT_FILENO)
		close(o->fd);
	if (o->tmp != NULL)
		unlink(o->tmp);
	out_free(o);
}

sotto_err
sotto_io_write_atomic(const char *path, const void *p, size_t n, mode_t mode,
    bool keep_mode, struct sotto_error *e)
{
	struct sotto_out o;
	sotto_err err;

	if ((err = sotto_io_out_open(&o, path, mode, keep_mode, false, e)))
		return err;
	if ((err = sotto_io_out_write(&o, p, n, e)) != SOTTO_OK) {
		sotto_io_out_abort(&o);
		return err;
	}
	return sotto_io_out_commit(&o, e);
}

/* SOTTO_E_IO from the temp-file machinery becomes SOTTO_E_WRITE. */
static sotto_err
as_write_error(sotto_err err, struct sotto_error *e)
{
	if (err == SOTTO_E_IO) {
		if (e != NULL)
			e->code = SOTTO_E_WRITE;
		return SOTTO_E_WRITE;
	}
	return err;
}

/* The link's text, for a message ("?" if unreadable); free() it. */
static char *
link_text(const char *path)
{
	char buf[4096];
	ssize_t r = readlink(path, buf, sizeof(buf) - 1);

	if (r < 0)
		return strdup("?");
	buf[r] = '\0';
	return strdup(buf);
}

/*
 * The checks of sotto_io_write_replace() for an existing path: *target
 * gets the file to replace (the final target of a symbolic link; free()
 * it), *st its status and via the words naming the link, for messages.
 * SOTTO_OK with *target NULL: path does not exist.
 */
static sotto_err
replace_target(const char *path, char **target, struct stat *st, char *via,
    size_t vcap, struct sotto_error *e)
{
	struct stat lst;
	char *dir = NULL, *lt;
	sotto_err err = SOTTO_OK;

	*target = NULL;
	via[0] = '\0';
	if (lstat(path, &lst) != 0) {
		if (errno != ENOENT)
			return sotto_error_set(e, SOTTO_E_WRITE, "cannot write "
			    "'%s': %s", path, strerror(errno));
		return SOTTO_OK;
	}
	if (S_ISLNK(lst.st_mode)) {
		if ((*target = realpath(path, NULL)) == NULL) {
			int er = errno;

			lt = link_text(path);
			if (er == ENOENT)
				err = sotto_error_set(e, SOTTO_E_WRITE,
				    "cannot write '%s': it is a symbolic link "
				    "to '%s', which does not exist", path,
				    lt ? lt : "?");
			else
				err = sotto_error_set(e, SOTTO_E_WRITE,
				    "cannot write '%s': cannot resolve the "
				    "symbolic link: %s", path, strerror(er));
			free(lt);
			return err;
		}
		snprintf(via, vcap, " (the target of the symbolic link '%s')",
		    path);
	} else if ((*target = strdup(path)) == NULL) {
		return sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
	}
	if (stat(*target, st) != 0) {
		err = sotto_error_set(e, SOTTO_E_WRITE, "cannot write '%s'%s: "
		    "%s", *target, via, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st->st_mode)) {
		err = sotto_error_set(e, SOTTO_E_WRITE, "cannot write '%s'%s: "
		    "is a directory", *target, via);
		goto fail;
	}
	if (!S_ISREG(st->st_mode))
		return SOTTO_OK;	/* FIFO, device: written through */
	if (faccessat(AT_FDCWD, *target, W_OK, AT_EACCESS) != 0) {
		err = sotto_error_set(e, SOTTO_E_WRITE, "cannot write '%s'%s: "
		    "%s", *target, via, strerror(errno));
		goto fail;
	}
	if (st->st_nlink > 1) {
		err = sotto_error_set(e, SOTTO_E_WRITE, "cannot write '%s'%s "
		    "in place: it has %ju hard links, and replacing it would "
		    "leave the old content under the other names (copy it to "
		    "a file of its own first)", *target, via,
		    (uintmax_t)st->st_nlink);
		goto fail;
	}
	if ((dir = dir_of(*target)) == NULL) {
		err = sotto_error_set(e, SOTTO_E_NOMEM, "out of memory");
		goto fail;
	}
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0) {
		err = sotto_error_set(e, SOTTO_E_WRITE, "cannot write '%s'%s "
		    "in place: its directory is not writable (%s); sotto "
		    "writes a temporary file there and renames it over the "
		    "file", *target, via, strerror(errno));
		goto fail;
	}
	free(dir);
	return SOTTO_OK;
fail:
	free(dir);
	free(*target);
	*target = NULL;
	return err;
}

sotto_err
sotto_io_replace_check(const char *path, struct sotto_error *e)
{
	struct stat st;
	char *target, via[4200];
	sotto_err err;

	err = replace_target(path, &target, &st, via, sizeof(via), e);
	free(target);
	return err;
}

sotto_err
sotto_io_write_replace(const char *path, const void *p, size_t n,
    mode_t new_mode, struct sotto_error *e)
{
	struct sotto_out o;
	struct stat st;
	char *target, via[4200];
	sotto_err err;

	if ((err = replace_target(path, &target, &st, via, sizeof(via), e)))
		return err;
	if (target == NULL)		/* a new file */
		return as_write_error(sotto_io_write_atomic(path, p, n,
		    new_mode, false, e), e);
	if (!S_ISREG(st.st_mode)) {
		err = as_write_error(sotto_io_write_atomic(target, p, n,
		    new_mode, true, e), e);
		free(target);
		return err;
	}
	if ((err = sotto_io_out_open(&o, target, st.st_mode & 07777, true,
	    false, e)) != SOTTO_OK) {
		free(target);
		return as_write_error(err, e);
	}
	o.keep_owner = st.st_uid != geteuid() || st.st_gid != getegid();
	o.uid = st.st_uid;
	o.gid = st.st_gid;
	if ((err = sotto_io_out_write(&o, p, n, e)) != SOTTO_OK) {
		sotto_io_out_abort(&o);
		free(target);
		return as_write_error(err, e);
	}
	err = as_write_error(sotto_io_out_commit(&o, e), e);
	free(target);
	return err;
}

sotto_err
sotto_io_write_new(const char *path, const void *p, size_t n, mode_t mode,
    struct sotto_error *e)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0)
		return sotto_error_set(e, errno == EEXIST ? SOTTO_E_EXISTS :
		    SOTTO_E_IO, "cannot create '%s': %s", path,
		    strerror(errno));
	if (sotto_io_write_all(fd, p, n) != SOTTO_OK || fsync(fd) != 0) {
		int err = errno;

		close(fd);
		unlink(path);
		return sotto_error_set(e, SOTTO_E_IO, "cannot write '%s': %s",
		    path, strerror(err));
	}
	if (close(fd) != 0)
		return sotto_error_set(e, SOTTO_E_IO, "cannot close '%s': %s",
		    path, strerror(errno));
	return SOTTO_OK;
}
