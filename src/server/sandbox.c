/* sandbox.c - Landlock confinement of workers and signers (sandbox.h).
 *
 * Landlock (Linux 5.13+) lets an unprivileged process give up file-system
 * rights for good: every right the ruleset "handles" is refused except
 * beneath the folders a rule names. Rules name folders, not files, and a
 * folder's rights cover everything under it, so what a worker may read
 * sits in a folder of its own (DATA/tls); the store key at the top of DATA
 * stays out of reach. The kernel's own ABI version decides which rights
 * exist: only those are handled, so an older kernel confines less but
 * still confines. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fsio.h"

/* ABI 3 (Linux 6.2); older headers lack it. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* Create a file, replace one by rename, write it: an atomic write. */
#define FS_REPLACE                                                                         \
    (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |                         \
     LANDLOCK_ACCESS_FS_REMOVE_FILE)

static int landlock_abi(void)
{
    long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

    return v < 0 ? 0 : (int)v;
}

/* Every file-system right the kernel knows. */
static __u64 fs_rights(int abi)
{
    __u64 all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

    if (abi >= 2)
        all |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        all |= LANDLOCK_ACCESS_FS_TRUNCATE;
    return all;
}

/* Allows access beneath the folder path. optional: a folder that cannot be
 * opened (no /proc) is skipped rather than an error. */
static int allow(int ruleset, const char *path, __u64 access, int optional, struct pki_err *err)
{
    struct landlock_path_beneath_attr rule = {.allowed_access = access, .parent_fd = -1};
    int rc = 0;

    rule.parent_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rule.parent_fd < 0)
        return optional ? 0
                        : pki_err_set(err, PKI_ERR_IO, "confinement: cannot open %s: %s", path,
                                      strerror(errno));
    if (syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "confinement: cannot add the rule for %s: %s",
                         path, strerror(errno));
    close(rule.parent_fd);
    return rc;
}

static int add_rules(int ruleset, enum srv_sandbox_kind kind, const char *data_dir,
                     const char *read_dir, __u64 handled, struct pki_err *err)
{
    char tls[4096];
    int rc;

    /* Sanitizers and diagnostics read /proc/self; it shows only this process. */
    rc = allow(ruleset, "/proc/self", FS_READ & handled, 1, err);
    if (rc != 0 || kind == SRV_SANDBOX_SIGNER)
        return rc;
    if (data_dir == NULL)
        return pki_err_set(err, PKI_ERR_USAGE, "confinement: a worker needs its data dir");
    rc = fs_join(data_dir, "tls", tls, sizeof(tls), err);
    /* DATA: list (fsync of the folder), replace ca.pem; read nothing. */
    if (rc == 0)
        rc = allow(ruleset, data_dir, (LANDLOCK_ACCESS_FS_READ_DIR | FS_REPLACE) & handled, 0,
                   err);
    /* DATA/tls: the API certificate and key, read and re-issued. */
    if (rc == 0)
        rc = allow(ruleset, tls, (FS_READ | FS_REPLACE | LANDLOCK_ACCESS_FS_TRUNCATE) & handled, 0,
                   err);
    if (rc == 0 && read_dir != NULL)
        rc = allow(ruleset, read_dir, FS_READ & handled, 0, err);
    return rc;
}

int srv_sandbox_apply(enum srv_sandbox_kind kind, const char *data_dir, struct pki_err *err)
{
    return srv_sandbox_apply_ex(kind, data_dir, NULL, err);
}

int srv_sandbox_apply_ex(enum srv_sandbox_kind kind, const char *data_dir, const char *read_dir,
                         struct pki_err *err)
{
    int abi = landlock_abi(), ruleset, rc;
    struct landlock_ruleset_attr attr = {0};

    if (abi < 1)
        return 0;
    /* glibc reads the time zone file on first use: read it now. */
    tzset();
    attr.handled_access_fs = fs_rights(abi);
    ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
    if (ruleset < 0)
        return pki_err_set(err, PKI_ERR_INTERNAL, "confinement: cannot create a Landlock ruleset: %s",
                           strerror(errno));
    rc = add_rules(ruleset, kind, data_dir, read_dir, attr.handled_access_fs, err);
    if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "confinement: PR_SET_NO_NEW_PRIVS: %s",
                         strerror(errno));
    if (rc == 0 && syscall(__NR_landlock_restrict_self, ruleset, 0) != 0)
        rc = pki_err_set(err, PKI_ERR_INTERNAL, "confinement: landlock_restrict_self: %s",
                         strerror(errno));
    close(ruleset);
    return rc == 0 ? abi : rc;
}
