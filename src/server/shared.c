/* shared.c - the worker processes' shared mapping (shared.h). */
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "shared.h"

struct srv_shared *srv_shared_new(struct pki_err *err)
{
    struct srv_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (sh == MAP_FAILED) {
        pki_err_set(err, PKI_ERR_INTERNAL, "cannot map memory for the worker processes");
        return NULL;
    }
    memset(sh, 0, sizeof(*sh));
    atomic_flag_clear(&sh->lock);
    atomic_init(&sh->store_gen, 0);
    sh->rl.rate = -1; /* unset: the first srv_shared_rate_set applies */
    if (srv_audit_shared_init(&sh->audit, err) != PKI_OK) {
        srv_shared_free(sh);
        return NULL;
    }
    return sh;
}

void srv_shared_free(struct srv_shared *sh)
{
    if (sh != NULL)
        munmap(sh, sizeof(*sh));
}

static void lock(struct srv_shared *sh)
{
    while (atomic_flag_test_and_set_explicit(&sh->lock, memory_order_acquire))
        sched_yield();
}

static void unlock(struct srv_shared *sh)
{
    atomic_flag_clear_explicit(&sh->lock, memory_order_release);
}

void srv_shared_rate_set(struct srv_shared *sh, double rate, int64_t now_ms)
{
    lock(sh);
    if (sh->rl.rate != rate)
        srv_ratelimit_set(&sh->rl, rate, now_ms);
    unlock(sh);
}

int srv_shared_rate_take(struct srv_shared *sh, int64_t now_ms, int *retry_after)
{
    int ok;

    lock(sh);
    ok = srv_ratelimit_take(&sh->rl, now_ms, retry_after);
    unlock(sh);
    return ok;
}

uint64_t srv_shared_gen(const struct srv_shared *sh)
{
    return atomic_load_explicit(&sh->store_gen, memory_order_acquire);
}

void srv_shared_gen_bump(struct srv_shared *sh)
{
    atomic_fetch_add_explicit(&sh->store_gen, 1, memory_order_release);
}

void srv_shared_metrics_sum(const struct srv_shared *sh, struct srv_metrics *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < SRV_WORKERS_MAX; i++)
        srv_metrics_add(out, &sh->metrics[i]);
}

int srv_shared_conns_balance(struct srv_shared *sh, int w, size_t n)
{
    uint32_t mine = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    int i;

    atomic_store_explicit(&sh->conns[w], mine, memory_order_relaxed);
    for (i = 0; i < sh->nworkers && i < SRV_WORKERS_MAX; i++)
        if (i != w && atomic_load_explicit(&sh->conns[i], memory_order_relaxed) < mine)
            return 0;
    return 1;
}
