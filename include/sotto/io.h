/* SPDX-License-Identifier: ISC */
/*
 * The only place that opens, renames and fsyncs files.
 *
 * Reading: sotto_io_read_file() slurps a file (or stdin for "-") with a size
 * cap.  Writing: struct sotto_out writes either straight to a stream
 * (stdout, a FIFO, a device) or, for a regular file, to a temp file in the
 * same directory (O_CREAT|O_EXCL|O_NOFOLLOW, 0600) that is fsync'd, given
 * its final mode and renamed over the target on commit; abort unlinks it.
 * Nothing is ever truncated on error.
 */
#ifndef SOTTO_IO_H
#define SOTTO_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sotto/buf.h"
#include "sotto/error.h"

#define SOTTO_IO_DEFAULT_CAP ((size_t)256 << 20)	/* 256 MiB */

/*
 * Reads all of `path` ("-" = stdin) into out (appending).  Fails with
 * SOTTO_E_LIMIT past cap bytes, SOTTO_E_NOTFOUND if missing, SOTTO_E_IO for
 * directories and read errors.  The message names the path.
 */
sotto_err sotto_io_read_file(struct sotto_buf *out, const char *path,
    size_t cap, struct sotto_error *e);

/* read(2) that retries EINTR and short reads until n bytes or EOF. */
ssize_t sotto_io_read_full(int fd, void *p, size_t n);
/* write(2) that retries EINTR and short writes. */
sotto_err sotto_io_write_all(int fd, const void *p, size_t n);

struct sotto_out {
	int fd;			/* where bytes go; -1 when closed */
	char *path;		/* final path, NULL for stdout */
	char *tmp;		/* temp path while atomic, else NULL */
	mode_t mode;		/* final mode for a new file */
	bool keep_mode;		/* reuse the existing target's mode */
	bool lazy;		/* open only on first write/commit */
	bool opened;		/* lazy open done */
	bool keep_owner;	/* give the temp file uid/gid (best effort) */
	uid_t uid;
	gid_t gid;
};

/*
 * Prepares an output.  path NULL or "-" means stdout.  mode is the final
 * mode of a newly created file (e.g. 0600 for plaintext keys, 0666 & ~umask
 * for encrypted output); keep_mode keeps an existing target's mode.  With
 * lazy, the temp file is created on the first write (so a failure before any
 * output leaves nothing behind).
 */
sotto_err sotto_io_out_open(struct sotto_out *o, const char *path,
    mode_t mode, bool keep_mode, bool lazy, struct sotto_error *e);
sotto_err sotto_io_out_write(struct sotto_out *o, const void *p, size_t n,
    struct sotto_error *e);
/* Flushes, fsyncs and renames into place.  Closes o. */
sotto_err sotto_io_out_commit(struct sotto_out *o, struct sotto_error *e);
/* Closes o and unlinks any temp file.  Safe to call twice. */
void sotto_io_out_abort(struct sotto_out *o);
/* True if o writes to a stream (bytes are visible as soon as written). */
bool sotto_io_out_is_stream(const struct sotto_out *o);

/* Writes a whole buffer atomically to path with the given mode. */
sotto_err sotto_io_write_atomic(const char *path, const void *p, size_t n,
    mode_t mode, bool keep_mode, struct sotto_error *e);

/*
 * Writes p as the new content of path, for a command that changes a file
 * in place (encrypt -i, set, edit, rotate, updatekeys...) or writes
 * --output over an existing file, with what a user expects of "this
 * file" and no window where it is half written:
 *   - a symbolic link is followed (every level) and its final target is
 *     replaced, the link kept: the temporary file is made in the target's
 *     directory, fsync'd, given the target's mode (and owner and group
 *     where permitted) and renamed over the target;
 *   - a path that does not exist is created with new_mode, atomically;
 *   - a target that is not a regular file (FIFO, device) is written
 *     through.
 * Refused with SOTTO_E_WRITE, the original untouched, the message naming
 * the file and why: a file we may not write (read-only, as sops' own
 * open for writing fails there), a file with other hard links (renaming
 * over it would leave the old content, plaintext perhaps, under its
 * other names), a symbolic link to nothing, a directory where no
 * temporary file can be made.  Other write errors are SOTTO_E_WRITE too.
 */
sotto_err sotto_io_write_replace(const char *path, const void *p, size_t n,
    mode_t new_mode, struct sotto_error *e);
/*
 * The refusals of sotto_io_write_replace() without writing: run before
 * work that would be lost (an edit session).  SOTTO_OK if path does not
 * exist.
 */
sotto_err sotto_io_replace_check(const char *path, struct sotto_error *e);

/* Creates path exclusively (O_EXCL|O_NOFOLLOW) with mode, writes p. */
sotto_err sotto_io_write_new(const char *path, const void *p, size_t n,
    mode_t mode, struct sotto_error *e);

/* True when path exists (lstat). */
bool sotto_io_exists(const char *path);

/* Current umask without changing it. */
mode_t sotto_io_umask(void);

#endif
