/*
 * lifecycle.h - what the `cluster` and `ca` commands that change a cluster
 * share in the front end: their options, progress and crash-test hook, and
 * printing a report.
 */
#ifndef PKICTL_LIFECYCLE_H
#define PKICTL_LIFECYCLE_H

#include "args.h"
#include "cluster.h"

/* --dir, the clock, the key-mode override and the step callback. */
int cli_change_opts(const struct subcommand *sc, struct args *a, struct cluster_change_opts *o);

/* --root-ca / --intermediate-ca into c (paths point into root and inter). */
int cli_custom(struct args *a, struct cluster_custom *c, char *root, char *inter, size_t len);

/* Prints r (on failure its lines are the problems, on stderr) and err; frees r. */
int cli_finish_report(int rc, struct pki_err *err, struct cluster_report *r);

#endif
