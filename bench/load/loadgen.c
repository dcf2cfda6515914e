/* loadgen.c - the load generator of bench/server_load.sh (built as bench_load).
 *
 *   bench_load --url=http[s]://127.0.0.1:PORT --kind=pkictl|cfssl --dir=POOL
 *              [--token=T] [--connections=16] [--threads=2] [--duration=8]
 *              [--cafile=PEM] [--timeout=10]
 *
 * Sends the CSRs of POOL/KIND/NNN.json (bench/load/gen_csrs.sh) in turn over
 * keep-alive connections, one request in flight per connection, as
 * bench/load/sign.lua does under wrk: pkictl gets POST /v1/connect/ca/sign
 * with X-Consul-Token and an answer counts if its status is 200 and it holds
 * "CertPEM"; cfssl gets POST /api/v1/cfssl/sign and the answer must hold
 * "success":true. Prints the same two lines as wrk with sign.lua:
 * "Requests/sec: R" and "RESULT {json}" (counts, errors, latency percentiles
 * in microseconds), so bench/server_report.py reads either.
 *
 * Why not only wrk: the load generator shares the machine's two cores with the
 * server. wrk asks for write readiness before every request (two epoll_ctl
 * calls), reads until EAGAIN and runs a Lua callback per answer; this client
 * writes each request at once, keeps one epoll interest per connection and
 * reads a TLS record in one call (read-ahead), so it takes less of the CPU the
 * server is measured on. Loopback only: the URL's host must be 127.0.0.1.
 * Not part of pkictl. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define MAX_BODIES 10000
#define MAX_ANSWER (1u << 20) /* an answer longer than this is an error */
#define HIST 1024             /* latency buckets: exact below 64 us, then 32 per octave */

struct request {
    char *data;
    size_t len;
};

struct opts {
    const char *url, *kind, *dir, *token, *cafile;
    int conns, threads, seconds, timeout_s;
    bool tls;
    struct sockaddr_in addr;
    const char *want;
    struct request *reqs;
    size_t nreqs;
    SSL_CTX *ctx;
};

enum phase { P_CONNECT, P_HANDSHAKE, P_SEND, P_RECV };

struct conn {
    int fd;
    SSL *ssl;
    enum phase phase;
    size_t next;        /* index of the next request in the pool */
    size_t sent;        /* bytes of the current request written */
    char *in;           /* the answer so far */
    size_t in_len, in_cap;
    uint64_t started_ns;
    bool want_out;      /* the epoll interest includes EPOLLOUT */
};

struct counts {
    uint64_t done, ok, bad;
    uint64_t e_connect, e_read, e_write, e_status, e_timeout;
    uint64_t hist[HIST];
    uint64_t max_us, sum_us;
    char first_bad[200];
};

struct worker {
    const struct opts *o;
    int id, nconn, ep;
    struct conn *c;
    struct counts n;
    pthread_t tid;
};

static atomic_bool stop_flag;

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static unsigned hist_index(uint64_t us)
{
    unsigned e;

    if (us < 64)
        return (unsigned)us;
    e = 63u - (unsigned)__builtin_clzll(us); /* 2^e <= us, e >= 6 */
    if (e > 36)
        return HIST - 1;
    return 64u + (e - 6u) * 32u + (unsigned)((us >> (e - 5u)) & 31u);
}

/* The smallest latency a bucket holds. */
static uint64_t hist_value(unsigned i)
{
    unsigned e;

    if (i < 64)
        return i;
    e = (i - 64u) / 32u + 6u;
    return ((uint64_t)1 << e) + ((uint64_t)((i - 64u) % 32u) << (e - 5u));
}

static void record(struct counts *n, uint64_t us, bool good, const char *why, size_t why_len)
{
    n->done++;
    n->hist[hist_index(us)]++;
    n->sum_us += us;
    if (us > n->max_us)
        n->max_us = us;
    if (good) {
        n->ok++;
        return;
    }
    n->bad++;
    if (n->first_bad[0] == '\0') {
        size_t k = why_len < sizeof(n->first_bad) - 1 ? why_len : sizeof(n->first_bad) - 1;

        memcpy(n->first_bad, why, k);
        n->first_bad[k] = '\0';
    }
}

/* --- one connection ------------------------------------------------------- */

static void conn_close(struct conn *c)
{
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    if (c->fd >= 0)
        close(c->fd);
    c->ssl = NULL;
    c->fd = -1;
}

static int set_interest(struct worker *w, struct conn *c, bool out)
{
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.ptr = c };

    if (c->want_out == out)
        return 0;
    c->want_out = out;
    return epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int conn_open(struct worker *w, struct conn *c)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (const struct sockaddr *)&w->o->addr, sizeof(w->o->addr)) != 0 &&
        errno != EINPROGRESS)
        return -1;
    c->phase = P_CONNECT;
    c->want_out = true;
    c->in_len = 0;
    return epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* The next request goes out now; the socket is almost always writable, so
 * there is no wait for EPOLLOUT. */
static void start_request(struct conn *c)
{
    c->phase = P_SEND;
    c->sent = 0;
    c->in_len = 0;
    c->started_ns = now_ns();
}

/* Bytes written of the current request; 1 all sent, 0 would block, -1 error. */
static int send_some(struct conn *c, const struct request *r)
{
    while (c->sent < r->len) {
        if (c->ssl != NULL) {
            size_t n = 0;

            if (SSL_write_ex(c->ssl, r->data + c->sent, r->len - c->sent, &n) != 1) {
                int e = SSL_get_error(c->ssl, 0);

                return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
            }
            c->sent += n;
        } else {
            ssize_t n = write(c->fd, r->data + c->sent, r->len - c->sent);

            if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
            c->sent += (size_t)n;
        }
    }
    return 1;
}

/* Case-insensitive search for a header line "name:" in the head; its value. */
static const char *header(const char *head, size_t len, const char *name)
{
    size_t nl = strlen(name);

    for (const char *p = head; p + nl < head + len;) {
        const char *eol = memchr(p, '\n', (size_t)(head + len - p));

        if (eol == NULL)
            return NULL;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            return p;
        }
        p = eol + 1;
    }
    return NULL;
}

/* Decodes a chunked body in place. Its length, 0 if not complete yet, -1 bad. */
static long dechunk(char *b, size_t len)
{
    size_t r = 0, w = 0;

    for (;;) {
        char *end;
        const char *eol = memmem(b + r, len - r, "\r\n", 2);
        unsigned long sz;

        if (eol == NULL)
            return 0;
        errno = 0;
        sz = strtoul(b + r, &end, 16);
        if (end == b + r || errno != 0 || sz > MAX_ANSWER)
            return -1;
        r = (size_t)(eol - b) + 2;
        if (sz == 0)
            return memmem(b + r, len - r, "\r\n", 2) != NULL ? (long)w : 0;
        if (len - r < sz + 2)
            return 0;
        memmove(b + w, b + r, sz);
        w += sz;
        r += sz + 2;
    }
}

/* Whether the answer in c->in is whole; 1 yes (status and body set), 0 not
 * yet, -1 malformed. Chunked bodies are decoded only once the terminating chunk
 * is there, so a partial one is parsed again later (answers are small). */
static int answer_done(struct conn *c, int *status, const char **body, size_t *body_len)
{
    const char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    size_t head_len;
    const char *v;

    if (end == NULL)
        return c->in_len > 65536 ? -1 : 0;
    head_len = (size_t)(end - c->in) + 4;
    if (c->in_len < 12 || memcmp(c->in, "HTTP/1.", 7) != 0)
        return -1;
    *status = atoi(c->in + 9);
    if ((v = header(c->in, head_len, "Content-Length")) != NULL) {
        unsigned long n = strtoul(v, NULL, 10);

        if (n > MAX_ANSWER)
            return -1;
        if (c->in_len - head_len < n)
            return 0;
        *body = c->in + head_len;
        *body_len = n;
        return 1;
    }
    if ((v = header(c->in, head_len, "Transfer-Encoding")) != NULL &&
        strncasecmp(v, "chunked", 7) == 0) {
        char *copy = malloc(c->in_len - head_len + 1);
        long n;

        if (copy == NULL)
            return -1;
        memcpy(copy, c->in + head_len, c->in_len - head_len);
        n = dechunk(copy, c->in_len - head_len);
        if (n > 0) {
            memcpy(c->in + head_len, copy, (size_t)n);
            *body = c->in + head_len;
            *body_len = (size_t)n;
        }
        free(copy);
        return n < 0 ? -1 : n > 0;
    }
    return -1; /* neither: the answers of both servers always carry one */
}

/* Reads what is there; 1 an answer is complete, 0 wait, -1 error. */
static int recv_some(struct worker *w, struct conn *c)
{
    for (;;) {
        size_t got = 0;

        if (c->in_cap - c->in_len < 4096) {
            size_t cap = c->in_cap * 2;
            char *p;

            if (cap > MAX_ANSWER + 65536 || (p = realloc(c->in, cap)) == NULL)
                return -1;
            c->in = p;
            c->in_cap = cap;
        }
        if (c->ssl != NULL) {
            if (SSL_read_ex(c->ssl, c->in + c->in_len, c->in_cap - c->in_len - 1, &got) != 1) {
                int e = SSL_get_error(c->ssl, 0);

                return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
            }
        } else {
            ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1);

            if (n == 0)
                return -1;
            if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
            got = (size_t)n;
        }
        c->in_len += got;
        c->in[c->in_len] = '\0';
        {
            int status = 0;
            const char *body = NULL;
            size_t blen = 0;
            int d = answer_done(c, &status, &body, &blen);
            uint64_t us;
            bool good;

            if (d < 0)
                return -1;
            if (d == 0)
                continue; /* a partial answer: read again (EAGAIN ends it) */
            us = (now_ns() - c->started_ns) / 1000u;
            good = status == 200 && memmem(body, blen, w->o->want, strlen(w->o->want)) != NULL;
            if (status != 200)
                w->n.e_status++;
            record(&w->n, us, good, c->in, c->in_len < 160 ? c->in_len : 160);
            return 1;
        }
    }
}

/* Drives one connection after an event; -1 means close it and open anew. */
static int step(struct worker *w, struct conn *c, uint32_t events)
{
    const struct opts *o = w->o;

    if (c->phase == P_CONNECT) {
        int err = 0;
        socklen_t l = sizeof(err);

        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return 0;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0) {
            w->n.e_connect++;
            return -1;
        }
        if (o->ctx != NULL) {
            if ((c->ssl = SSL_new(o->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1") != 1) {
                w->n.e_connect++;
                return -1;
            }
            SSL_set_connect_state(c->ssl);
            c->phase = P_HANDSHAKE;
        } else {
            start_request(c);
        }
    }
    if (c->phase == P_HANDSHAKE) {
        int r = SSL_do_handshake(c->ssl);

        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);

            if (e == SSL_ERROR_WANT_READ)
                return set_interest(w, c, false);
            if (e == SSL_ERROR_WANT_WRITE)
                return set_interest(w, c, true);
            w->n.e_connect++;
            return -1;
        }
        start_request(c);
    }
    for (;;) {
        if (c->phase == P_SEND) {
            int r = send_some(c, &o->reqs[c->next]);

            if (r < 0) {
                w->n.e_write++;
                return -1;
            }
            if (r == 0)
                return set_interest(w, c, true);
            c->phase = P_RECV;
            /* The answer cannot be there yet: wait for it rather than try a read
             * that would only return EAGAIN. */
            return set_interest(w, c, false);
        }
        {
            int r = recv_some(w, c);

            if (r < 0) {
                w->n.e_read++;
                return -1;
            }
            if (r == 0)
                return 0;
        }
        /* An answer: the next request at once, unless the run is over. */
        c->next = (c->next + 1) % o->nreqs;
        if (atomic_load_explicit(&stop_flag, memory_order_relaxed))
            return 0;
        start_request(c);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[64];
    uint64_t timeout_ns = (uint64_t)w->o->timeout_s * 1000000000u, last_check = now_ns();

    for (int i = 0; i < w->nconn; i++) {
        struct conn *c = &w->c[i];

        c->next = ((size_t)(w->id * w->nconn + i) * 17u) % w->o->nreqs;
        c->in_cap = 8192;
        if ((c->in = malloc(c->in_cap)) == NULL || conn_open(w, c) != 0) {
            w->n.e_connect++;
            conn_close(c);
        }
    }
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        int n = epoll_wait(w->ep, evs, 64, 100);
        uint64_t t;

        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;

            if (c->fd >= 0 && step(w, c, evs[i].events) != 0) {
                conn_close(c);
                if (!atomic_load(&stop_flag) && conn_open(w, c) != 0) {
                    w->n.e_connect++;
                    conn_close(c);
                }
            }
        }
        t = now_ns();
        if (t - last_check < 100000000u)
            continue;
        last_check = t;
        for (int i = 0; i < w->nconn; i++) { /* timeouts, and reconnects */
            struct conn *c = &w->c[i];

            if (c->fd >= 0 && c->phase >= P_SEND && t - c->started_ns > timeout_ns) {
                w->n.e_timeout++;
                conn_close(c);
            }
            if (c->fd < 0 && conn_open(w, c) != 0) {
                w->n.e_connect++;
                conn_close(c);
            }
        }
    }
    for (int i = 0; i < w->nconn; i++) {
        conn_close(&w->c[i]);
        free(w->c[i].in);
    }
    return NULL;
}

/* --- set-up ----------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n <= MAX_ANSWER &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static void free_pool(struct opts *o)
{
    for (size_t k = 0; o->reqs != NULL && k < o->nreqs; k++)
        free(o->reqs[k].data);
    free(o->reqs);
    o->reqs = NULL;
    o->nreqs = 0;
}

/* The requests of DIR/KIND/NNN.json; -1 (nothing kept) if there are none. */
static int load_pool(struct opts *o)
{
    const char *path = strcmp(o->kind, "pkictl") == 0 ? "/v1/connect/ca/sign"
                                                       : "/api/v1/cfssl/sign";

    o->reqs = calloc(MAX_BODIES, sizeof(*o->reqs));
    if (o->reqs == NULL)
        return -1;
    for (size_t k = 0; k < MAX_BODIES; k++) {
        char file[4096];
        size_t blen = 0;
        char *body;
        int hl;

        snprintf(file, sizeof(file), "%s/%s/%03zu.json", o->dir, o->kind, k);
        if ((body = read_file(file, &blen)) == NULL)
            break;
        hl = snprintf(NULL, 0, "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                      "Content-Type: application/json\r\n%s%s%sContent-Length: %zu\r\n\r\n",
                      path, ntohs(o->addr.sin_port), o->token ? "X-Consul-Token: " : "",
                      o->token ? o->token : "", o->token ? "\r\n" : "", blen);
        o->reqs[k].data = malloc((size_t)hl + blen + 1);
        if (o->reqs[k].data == NULL) {
            free(body);
            free_pool(o);
            return -1;
        }
        snprintf(o->reqs[k].data, (size_t)hl + 1,
                 "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                 "Content-Type: application/json\r\n%s%s%sContent-Length: %zu\r\n\r\n",
                 path, ntohs(o->addr.sin_port), o->token ? "X-Consul-Token: " : "",
                 o->token ? o->token : "", o->token ? "\r\n" : "", blen);
        memcpy(o->reqs[k].data + hl, body, blen);
        o->reqs[k].len = (size_t)hl + blen;
        free(body);
        o->nreqs = k + 1;
    }
    if (o->nreqs == 0) {
        free_pool(o);
        return -1;
    }
    return 0;
}

static int parse_url(struct opts *o)
{
    const char *p = o->url, *colon;
    char host[64];
    unsigned long port;
    char *end;

    if (strncmp(p, "https://", 8) == 0) {
        o->tls = true;
        p += 8;
    } else if (strncmp(p, "http://", 7) == 0) {
        p += 7;
    } else {
        return -1;
    }
    colon = strchr(p, ':');
    if (colon == NULL || (size_t)(colon - p) >= sizeof(host))
        return -1;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    port = strtoul(colon + 1, &end, 10);
    if (strcmp(host, "127.0.0.1") != 0 || port == 0 || port > 65535 ||
        (*end != '\0' && *end != '/'))
        return -1;
    o->addr.sin_family = AF_INET;
    o->addr.sin_port = htons((uint16_t)port);
    o->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return 0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch < 0x20 || ch == '"' || ch == '\\' || ch >= 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static uint64_t percentile(const uint64_t *hist, uint64_t total, double pct)
{
    uint64_t want = (uint64_t)((double)total * pct / 100.0 + 0.5), seen = 0;

    if (want == 0)
        want = 1;
    for (unsigned i = 0; i < HIST; i++) {
        seen += hist[i];
        if (seen >= want)
            return hist_value(i);
    }
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: bench_load --url=http[s]://127.0.0.1:PORT --kind=pkictl|cfssl --dir=POOL\n"
          "                  [--token=T] [--connections=16] [--threads=2] [--duration=8]\n"
          "                  [--cafile=PEM] [--timeout=10]\n", f);
}

static int int_arg(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "url", required_argument, NULL, 'u' },   { "kind", required_argument, NULL, 'k' },
        { "dir", required_argument, NULL, 'd' },   { "token", required_argument, NULL, 'T' },
        { "connections", required_argument, NULL, 'c' },
        { "threads", required_argument, NULL, 't' },
        { "duration", required_argument, NULL, 'D' },
        { "cafile", required_argument, NULL, 'C' },
        { "timeout", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct opts o = { .conns = 16, .threads = 2, .seconds = 8, .timeout_s = 10 };
    struct worker *ws;
    struct counts all = { 0 };
    uint64_t t0, t1;
    int opt, bad_arg = 0;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u': o.url = optarg; break;
        case 'k': o.kind = optarg; break;
        case 'd': o.dir = optarg; break;
        case 'T': o.token = optarg; break;
        case 'C': o.cafile = optarg; break;
        case 'c': bad_arg |= int_arg(optarg, 1, 10000, &o.conns); break;
        case 't': bad_arg |= int_arg(optarg, 1, 64, &o.threads); break;
        case 'D': bad_arg |= int_arg(optarg, 1, 3600, &o.seconds); break;
        case 'o': bad_arg |= int_arg(optarg, 1, 3600, &o.timeout_s); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (bad_arg || optind != argc || o.url == NULL || o.kind == NULL || o.dir == NULL ||
        (strcmp(o.kind, "pkictl") != 0 && strcmp(o.kind, "cfssl") != 0)) {
        usage(stderr);
        return 2;
    }
    if (parse_url(&o) != 0) {
        fprintf(stderr, "bench_load: --url must be http[s]://127.0.0.1:PORT (loopback only), "
                        "not %s\n", o.url);
        return 2;
    }
    o.want = strcmp(o.kind, "pkictl") == 0 ? "\"CertPEM\"" : "\"success\":true";
    if (load_pool(&o) != 0) {
        fprintf(stderr, "bench_load: no request bodies %s/%s/NNN.json\n", o.dir, o.kind);
        return 1;
    }
    if (o.threads > o.conns)
        o.threads = o.conns;
    if (o.tls) {
        o.ctx = SSL_CTX_new(TLS_client_method());
        if (o.ctx == NULL || (o.cafile != NULL &&
                              SSL_CTX_load_verify_locations(o.ctx, o.cafile, NULL) != 1)) {
            fprintf(stderr, "bench_load: cannot read --cafile %s\n", o.cafile ? o.cafile : "");
            SSL_CTX_free(o.ctx);
            free_pool(&o);
            return 1;
        }
        SSL_CTX_set_read_ahead(o.ctx, 1);
        if (o.cafile != NULL)
            SSL_CTX_set_verify(o.ctx, SSL_VERIFY_PEER, NULL);
    }
    ws = calloc((size_t)o.threads, sizeof(*ws));
    if (ws == NULL) {
        SSL_CTX_free(o.ctx);
        free_pool(&o);
        return 1;
    }
    t0 = now_ns();
    for (int i = 0; i < o.threads; i++) {
        ws[i].o = &o;
        ws[i].id = i;
        ws[i].nconn = o.conns / o.threads + (i < o.conns % o.threads);
        ws[i].c = calloc((size_t)ws[i].nconn, sizeof(*ws[i].c));
        ws[i].ep = epoll_create1(EPOLL_CLOEXEC);
        if (ws[i].c == NULL || ws[i].ep < 0) {
            fprintf(stderr, "bench_load: out of memory or epoll\n");
            return 1;
        }
        for (int k = 0; k < ws[i].nconn; k++)
            ws[i].c[k].fd = -1;
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
            fprintf(stderr, "bench_load: cannot start thread %d\n", i);
            return 1;
        }
    }
    {
        struct timespec d = { .tv_sec = o.seconds, .tv_nsec = 0 };

        while (nanosleep(&d, &d) != 0 && errno == EINTR)
            ;
    }
    atomic_store(&stop_flag, true);
    t1 = now_ns();
    for (int i = 0; i < o.threads; i++) {
        struct counts *n = &ws[i].n;

        pthread_join(ws[i].tid, NULL);
        all.done += n->done;
        all.ok += n->ok;
        all.bad += n->bad;
        all.e_connect += n->e_connect;
        all.e_read += n->e_read;
        all.e_write += n->e_write;
        all.e_status += n->e_status;
        all.e_timeout += n->e_timeout;
        all.sum_us += n->sum_us;
        if (n->max_us > all.max_us)
            all.max_us = n->max_us;
        for (unsigned b = 0; b < HIST; b++)
            all.hist[b] += n->hist[b];
        if (all.first_bad[0] == '\0')
            memcpy(all.first_bad, n->first_bad, sizeof(all.first_bad));
        close(ws[i].ep);
        free(ws[i].c);
    }
    printf("Requests/sec: %10.2f\n", (double)all.done * 1e9 / (double)(t1 - t0));
    printf("RESULT {\"requests\": %" PRIu64 ", \"duration_us\": %" PRIu64 ", \"ok\": %" PRIu64
           ", \"bad\": %" PRIu64 ", \"first_bad\": ",
           all.done, (t1 - t0) / 1000u, all.ok, all.bad);
    json_str(stdout, all.first_bad);
    printf(", \"errors\": {\"connect\": %" PRIu64 ", \"read\": %" PRIu64 ", \"write\": %" PRIu64
           ", \"status\": %" PRIu64 ", \"timeout\": %" PRIu64 "}, \"p50_us\": %" PRIu64
           ", \"p90_us\": %" PRIu64 ", \"p99_us\": %" PRIu64 ", \"p999_us\": %" PRIu64
           ", \"max_us\": %" PRIu64 ", \"mean_us\": %.1f}\n",
           all.e_connect, all.e_read, all.e_write, all.e_status, all.e_timeout,
           percentile(all.hist, all.done, 50), percentile(all.hist, all.done, 90),
           percentile(all.hist, all.done, 99), percentile(all.hist, all.done, 99.9),
           all.max_us, all.done ? (double)all.sum_us / (double)all.done : 0.0);
    free_pool(&o);
    free(ws);
    SSL_CTX_free(o.ctx);
    return 0;
}
