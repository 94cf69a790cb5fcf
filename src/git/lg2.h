/* SPDX-License-Identifier: ISC */
/*
 * libgit2, loaded at run time: dlopen("libgit2.so.1.5") and one function
 * pointer per call we make, so that the sotto binary does not link
 * libgit2 and commands other than guard/hook/git-setup never load it.
 * <git2.h> is used for types and constants only; every call goes through
 * struct lg2: the guard (src/git/), the controller's fetch
 * (src/kube/git.c) and bootstrap's commit and push (src/kube/bootgit.c)
 * share this one table.
 */
#ifndef SOTTO_GIT_LG2_H
#define SOTTO_GIT_LG2_H

#include <git2.h>
#include <stdbool.h>

#include "sotto/error.h"

#define SOTTO_LG2_SONAME "libgit2.so.1.5"

#define LG2_FUNCS(X) \
	X(git_libgit2_init) X(git_libgit2_shutdown) X(git_libgit2_opts) \
	X(git_error_last) \
	X(git_repository_open_ext) X(git_repository_free) \
	X(git_repository_workdir) X(git_repository_path) \
	X(git_repository_commondir) X(git_repository_is_bare) \
	X(git_repository_index) X(git_repository_config_snapshot) \
	X(git_repository_set_workdir) \
	X(git_config_get_string) X(git_config_free) \
	X(git_repository_config) X(git_config_set_string) \
	X(git_index_open) X(git_index_free) X(git_index_entrycount) \
	X(git_index_get_byindex) \
	X(git_blob_lookup) X(git_blob_rawcontent) X(git_blob_rawsize) \
	X(git_blob_free) \
	X(git_revparse_single) X(git_object_peel) X(git_object_free) X(git_object_id) \
	X(git_commit_lookup) X(git_commit_tree) X(git_commit_parentcount) \
	X(git_commit_parent) X(git_commit_free) \
	X(git_tree_walk) X(git_tree_entry_type) X(git_tree_entry_id) \
	X(git_tree_entry_name) X(git_tree_entry_filemode) X(git_tree_free) \
	X(git_diff_options_init) X(git_diff_tree_to_index) \
	X(git_diff_tree_to_tree) X(git_diff_num_deltas) \
	X(git_diff_get_delta) X(git_diff_free) \
	X(git_revwalk_new) X(git_revwalk_push) X(git_revwalk_hide) \
	X(git_revwalk_hide_glob) X(git_revwalk_next) X(git_revwalk_sorting) \
	X(git_revwalk_push_range) X(git_revwalk_free) \
	X(git_oid_fromstr) X(git_oid_tostr) X(git_oid_is_zero) \
	LG2_REMOTE_FUNCS(X)

/* what a fetch (kube/git.c) and a commit and push (kube/bootgit.c) add */
#define LG2_REMOTE_FUNCS(X) \
	X(git_repository_init) X(git_repository_open) \
	X(git_repository_set_head) X(git_repository_set_head_detached) \
	X(git_config_set_bool) \
	X(git_remote_create_options_init) X(git_remote_create_with_opts) \
	X(git_remote_fetch) X(git_remote_ls) X(git_remote_push) \
	X(git_remote_free) X(git_fetch_options_init) \
	X(git_push_options_init) X(git_reference_name_to_id) \
	X(git_reference_create) X(git_reference_free) \
	X(git_checkout_options_init) X(git_checkout_head) \
	X(git_checkout_tree) \
	X(git_index_add_bypath) X(git_index_write) X(git_index_write_tree) \
	X(git_commit_tree_id) X(git_commit_create) X(git_tree_lookup) \
	X(git_diff_to_buf) X(git_buf_dispose) \
	X(git_signature_now) X(git_signature_free) X(git_oid_equal) \
	X(git_credential_userpass_plaintext_new) \
	X(git_credential_ssh_key_memory_new) X(git_credential_username_new) \
	X(git_tag_list) X(git_strarray_dispose)

struct lg2 {
	void *handle;		/* dlopen handle */
#define LG2_MEMBER(f) __typeof__(f) *f;
	LG2_FUNCS(LG2_MEMBER)
#undef LG2_MEMBER
};

/*
 * Loads libgit2 and initialises it.  verify_hashes: keep libgit2's
 * strict hash verification of the objects it loads (off for the guard,
 * which only reads the user's own repository; on for what comes from a
 * remote).  Errors: SOTTO_E_GIT_LOAD naming the library and the missing
 * symbol.  Release with sotto_lg2_close() (a forked child may just exit).
 */
sotto_err sotto_lg2_open(struct lg2 *g, bool verify_hashes,
    struct sotto_error *e);
void sotto_lg2_close(struct lg2 *g);

/* Sets e to SOTTO_E_GIT with what failed and libgit2's last message. */
sotto_err sotto_lg2_fail(struct lg2 *g, struct sotto_error *e,
    const char *what);

#endif
