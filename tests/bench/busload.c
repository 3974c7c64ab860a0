/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * busload: a D-Bus load generator on sd-bus, for scripts/bench.
 *
 *   busload [--warmup=N] DEST PATH IFACE METHOD|GetAll N WINDOW
 *
 * Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS is honoured) and calls DEST at PATH:
 * METHOD of IFACE without arguments, or org.freedesktop.DBus.Properties.GetAll(IFACE) when
 * METHOD is "GetAll". Warm-up calls (default: N/10, at most 200) are made first and not counted.
 *
 * WINDOW=1: N sequential synchronous calls; prints the latency distribution.
 * WINDOW>1: keeps WINDOW asynchronous calls in flight until N replies are in; prints the
 *           throughput (and the latency each call saw under that load).
 *
 * Output is one line of key=value pairs, e.g.
 *   mode=sequential calls=5000 errors=0 elapsed_s=0.512 rate=9765 p50_us=97.1 p90_us=... p99_us=... max_us=... mean_us=...
 * An error reply is counted and the first one is printed on stderr; the exit code is 1 if any
 * call failed, 2 on usage errors.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

typedef struct Load {
        sd_bus *bus;
        const char *dest, *path, *iface, *method;
        bool get_all;

        uint64_t *lat_ns;       /* one per counted call */
        uint64_t n_total;       /* counted calls */
        uint64_t n_sent, n_done, n_errors;
        unsigned window, in_flight;
        uint64_t t_start, t_end;        /* the counted phase, after the warm-up */
        char first_error[512];
} Load;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static void freep(void *p) {
        free(*(void **) p);
}

static void bus_flush_closep(sd_bus **b) {
        sd_bus_flush_close_unref(*b);
}

static int new_call(Load *l, sd_bus_message **ret) {
        sd_bus_message *m = NULL;
        int r;

        if (l->get_all)
                r = sd_bus_message_new_method_call(l->bus, &m, l->dest, l->path,
                                                   "org.freedesktop.DBus.Properties", "GetAll");
        else
                r = sd_bus_message_new_method_call(l->bus, &m, l->dest, l->path, l->iface, l->method);
        if (r < 0)
                return r;
        if (l->get_all) {
                r = sd_bus_message_append(m, "s", l->iface);
                if (r < 0) {
                        sd_bus_message_unref(m);
                        return r;
                }
        }
        *ret = m;
        return 0;
}

static void note_error(Load *l, const sd_bus_error *e, int r) {
        l->n_errors++;
        if (l->first_error[0])
                return;
        if (e && sd_bus_error_is_set(e))
                snprintf(l->first_error, sizeof l->first_error, "%s: %s", e->name, e->message ?: "");
        else
                snprintf(l->first_error, sizeof l->first_error, "%s", strerror(r < 0 ? -r : r));
}

static int call_sync(Load *l, uint64_t *ret_ns) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        uint64_t t0;
        int r;

        r = new_call(l, &m);
        if (r < 0)
                return r;
        t0 = now_ns();
        r = sd_bus_call(l->bus, m, 0, &error, &reply);
        *ret_ns = now_ns() - t0;
        sd_bus_message_unref(m);
        sd_bus_message_unref(reply);
        if (r < 0)
                note_error(l, &error, r);
        return 0;
}

typedef struct Pending {
        Load *load;
        uint64_t t0;
        bool counted;
} Pending;

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(freep) Pending *p = userdata;
        Load *l = p->load;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        l->in_flight--;
        if (e)
                note_error(l, e, sd_bus_message_get_errno(reply));
        if (p->counted) {
                l->lat_ns[l->n_done] = now_ns() - p->t0;
                l->n_done++;
        }
        return 0;
}

static int send_async(Load *l, bool counted) {
        sd_bus_message *m = NULL;
        Pending *p;
        int r;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->load = l;
        p->counted = counted;

        r = new_call(l, &m);
        if (r < 0) {
                free(p);
                return r;
        }
        p->t0 = now_ns();
        r = sd_bus_call_async(l->bus, NULL, m, on_reply, p, 0);
        sd_bus_message_unref(m);
        if (r < 0) {
                free(p);
                return r;
        }
        l->in_flight++;
        return 0;
}

/* Dispatch what is there; wait only when nothing was, so the caller tops the window up after
 * every reply. */
static int pump(Load *l) {
        int r;

        r = sd_bus_process(l->bus, NULL);
        if (r != 0)
                return r < 0 ? r : 0;
        r = sd_bus_wait(l->bus, UINT64_MAX);
        return r < 0 && r != -EINTR ? r : 0;
}

static int run_window(Load *l, uint64_t warmup) {
        uint64_t sent_warm = 0;
        int r;

        /* Warm-up: the same window, not counted. */
        while (sent_warm < warmup || l->in_flight > 0) {
                while (sent_warm < warmup && l->in_flight < l->window) {
                        r = send_async(l, false);
                        if (r < 0)
                                return r;
                        sent_warm++;
                }
                r = pump(l);
                if (r < 0)
                        return r;
        }

        l->t_start = now_ns();
        while (l->n_done < l->n_total) {
                while (l->n_sent < l->n_total && l->in_flight < l->window) {
                        r = send_async(l, true);
                        if (r < 0)
                                return r;
                        l->n_sent++;
                }
                r = pump(l);
                if (r < 0)
                        return r;
        }
        l->t_end = now_ns();
        return 0;
}

static int run_sequential(Load *l, uint64_t warmup) {
        uint64_t ns;
        int r;

        for (uint64_t i = 0; i < warmup; i++) {
                r = call_sync(l, &ns);
                if (r < 0)
                        return r;
        }
        l->t_start = now_ns();
        for (uint64_t i = 0; i < l->n_total; i++) {
                r = call_sync(l, &ns);
                if (r < 0)
                        return r;
                l->lat_ns[i] = ns;
        }
        l->t_end = now_ns();
        l->n_done = l->n_total;
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static double percentile_us(const uint64_t *sorted, uint64_t n, double q) {
        uint64_t i = (uint64_t) (q * (double) (n - 1) + 0.5);

        return (double) sorted[i] / 1000.0;
}

static void print_result(const Load *l, uint64_t elapsed_ns) {
        double sum = 0, secs = (double) elapsed_ns / 1e9;

        qsort(l->lat_ns, l->n_total, sizeof(uint64_t), cmp_u64);
        for (uint64_t i = 0; i < l->n_total; i++)
                sum += (double) l->lat_ns[i];

        if (l->window == 1)
                printf("mode=sequential");
        else
                printf("mode=window window=%u", l->window);
        printf(" calls=%" PRIu64 " errors=%" PRIu64 " elapsed_s=%.3f rate=%.0f"
               " p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f mean_us=%.1f\n",
               l->n_total, l->n_errors, secs, (double) l->n_total / secs,
               percentile_us(l->lat_ns, l->n_total, 0.50),
               percentile_us(l->lat_ns, l->n_total, 0.90),
               percentile_us(l->lat_ns, l->n_total, 0.99),
               (double) l->lat_ns[l->n_total - 1] / 1000.0,
               sum / (double) l->n_total / 1000.0);
}

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: busload [--warmup=N] DEST PATH IFACE METHOD|GetAll N WINDOW\n"
                "Calls METHOD (no arguments) or Properties.GetAll(IFACE) N times on the system bus\n"
                "($DBUS_SYSTEM_BUS_ADDRESS); WINDOW=1 sequential with latencies, WINDOW>1 that many\n"
                "calls in flight with the throughput.\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "warmup", required_argument, NULL, 'w' },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_(bus_flush_closep) sd_bus *bus = NULL;
        _cleanup_(freep) uint64_t *lat = NULL;
        uint64_t n, window, warmup = UINT64_MAX;
        Load l = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'w':
                        if (parse_u64(optarg, &warmup) < 0) {
                                fprintf(stderr, "Invalid --warmup=%s\n", optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }

        if (argc - optind != 6) {
                usage(stderr);
                return 2;
        }
        if (parse_u64(argv[optind + 4], &n) < 0 || n == 0 || n > UINT64_C(100000000)) {
                fprintf(stderr, "N must be a number of calls between 1 and 100000000.\n");
                return 2;
        }
        if (parse_u64(argv[optind + 5], &window) < 0 || window == 0 || window > 4096) {
                fprintf(stderr, "WINDOW must be between 1 and 4096.\n");
                return 2;
        }
        if (warmup == UINT64_MAX)
                warmup = n / 10 < 200 ? n / 10 : 200;

        lat = calloc(n, sizeof(uint64_t));
        if (!lat) {
                fprintf(stderr, "Out of memory.\n");
                return 1;
        }

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to the system bus: %s\n", strerror(-r));
                return 1;
        }

        l = (Load) {
                .bus = bus,
                .dest = argv[optind],
                .path = argv[optind + 1],
                .iface = argv[optind + 2],
                .method = argv[optind + 3],
                .get_all = strcmp(argv[optind + 3], "GetAll") == 0,
                .lat_ns = lat,
                .n_total = n,
                .window = (unsigned) window,
        };

        if (window == 1)
                r = run_sequential(&l, warmup);
        else
                r = run_window(&l, warmup);
        if (r < 0) {
                fprintf(stderr, "Bus failure: %s\n", strerror(-r));
                return 1;
        }
        print_result(&l, l.t_end - l.t_start);
        if (l.n_errors > 0) {
                fprintf(stderr, "%" PRIu64 " of %" PRIu64 " calls failed; first error: %s\n",
                        l.n_errors, n + warmup, l.first_error);
                return 1;
        }
        return 0;
}
