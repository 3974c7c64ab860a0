/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A table of areas of the test's own, linked with the daemon's manager (libhwsecd-daemon, without
 * main.c and daemon/areas.c): what a fifth area gets by adding its folder and one line to the
 * table, nothing else. Two test areas record every hook call; the test drives the manager's loops
 * (start, uevent dispatch, event broadcast, host facts, Describe(), Manager members, state, free)
 * and checks that each area saw each call, in table order. A manager loop that skips an entry, or
 * stops early, fails here. */

#include <json-c/json.h>
#include <systemd/sd-device.h>

#include "fileio.h"
#include "manager.h"
#include "paths.h"
#include "tests.h"

typedef struct TestArea {
        const char *name;
        Manager *m;
        bool degraded, loading;
        bool saw_psp;                   /* a retained PSP snapshot at start */
        uint32_t psp_guests;
} TestArea;

static char calls[4096];                /* "alpha:start beta:start …" */

static void record(const char *name, const char *what) {
        size_t n = strlen(calls);

        snprintf(calls + n, sizeof calls - n, "%s%s:%s", n ? " " : "", name, what);
}

static int test_start(Manager *m, const char *name, void **ret) {
        TestArea *a = calloc(1, sizeof *a);
        const PspSnapshot *psp = manager_retained_psp(m);

        ASSERT_TRUE(a);
        a->name = name;
        a->m = m;
        if (psp) {
                a->saw_psp = true;
                a->psp_guests = psp->snp_guest_count;
        }
        record(name, "start");
        *ret = a;
        return 0;
}

static int alpha_start(Manager *m, void **ret) {
        PspSnapshot s = { .snp_status_valid = true, .snp_guest_count = 7 };
        int r = test_start(m, "alpha", ret);

        /* published before the others started: not delivered, but retained for them */
        manager_broadcast(m, &(ManagerEvent) { .type = MANAGER_EVENT_PSP_CHANGED, .psp = &s });
        return r;
}

static int beta_start(Manager *m, void **ret) {
        return test_start(m, "beta", ret);
}

static void test_free(void *data) {
        TestArea *a = data;

        record(a->name, "free");
        free(a);
}

static void test_uevent(void *data, sd_device *d, sd_device_action_t action) {
        TestArea *a = data;
        const char *sysname = NULL;
        char buf[64];

        (void) sd_device_get_sysname(d, &sysname);
        snprintf(buf, sizeof buf, "uevent-%d-%s", (int) action, strna(sysname));
        record(a->name, buf);
}

static void test_event(void *data, const ManagerEvent *ev) {
        TestArea *a = data;
        char buf[64];

        if (ev->type == MANAGER_EVENT_FACTS_CHANGED)
                snprintf(buf, sizeof buf, "event-%s-%#x-%d", manager_event_type_to_string(ev->type),
                         (unsigned) ev->facts_changed, ev->facts->iommu.groups);
        else
                snprintf(buf, sizeof buf, "event-%s", manager_event_type_to_string(ev->type));
        record(a->name, buf);
}

static int test_describe(void *data, json_object *root) {
        TestArea *a = data;

        record(a->name, "describe");
        json_object_object_add(root, a->name, json_object_new_string("described"));
        return 0;
}

static bool test_degraded(void *data) {
        return ((TestArea *) data)->degraded;
}

static bool test_loading(void *data) {
        return ((TestArea *) data)->loading;
}

static int beta_member(void *data, sd_bus_message *reply) {
        record(((TestArea *) data)->name, "member");
        return 42;
}

static const AreaManagerMember beta_members[] = {
        { "TestSummary", beta_member },
        {}
};

static const AreaVTable alpha_vtable = {
        .name = "alpha", .start = alpha_start, .free = test_free, .uevent = test_uevent, .event = test_event,
        .describe = test_describe, .degraded = test_degraded, .loading = test_loading,
};

static const AreaVTable beta_vtable = {
        .name = "beta", .start = beta_start, .free = test_free, .uevent = test_uevent, .event = test_event,
        .describe = test_describe, .degraded = test_degraded, .loading = test_loading,
        .manager_members = beta_members,
};

/* The table this test links instead of daemon/areas.c. */
const AreaVTable *const hwsecd_areas[] = { &alpha_vtable, &beta_vtable };
const size_t hwsecd_n_areas = ELEMENTSOF(hwsecd_areas);

static void expect_calls(const char *want) {
        if (!streq(calls, want))
                TEST_FAIL("calls:\n  got  \"%s\"\n  want \"%s\"", calls, want);
        calls[0] = '\0';
}

static TestArea *area(Manager *m, size_t i) {
        ASSERT_TRUE(i < m->n_areas);
        return m->areas[i].data;
}

static void put(const char *root, const char *rel, const char *text) {
        _cleanup_free_ char *p = path_join(root, rel), *dir = NULL;

        dir = strdup(p);
        ASSERT_TRUE(dir);
        *strrchr(dir, '/') = '\0';
        ASSERT_OK(mkdir_p(dir, 0755));
        ASSERT_OK(write_file_atomic(p, text, strlen(text), 0644));
}

int main(void) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(sd_device_unrefp) sd_device *d = NULL;
        _cleanup_free_ char *sys = NULL, *proc = NULL, *cmd = NULL;
        json_object *root, *v;
        char tmp[] = "/tmp/test-area-table-XXXXXX";

        /* a host of our own for the host facts */
        ASSERT_TRUE(mkdtemp(tmp));
        sys = path_join(tmp, "sys");
        proc = path_join(tmp, "proc");
        put(tmp, "sys/kernel/iommu_groups/0/type", "DMA\n");
        put(tmp, "proc/cmdline", "root=/dev/vda\n");
        setenv("HWSECD_SYSFS_DIR", sys, 1);
        setenv("HWSECD_PROC_DIR", proc, 1);
        setenv("HWSECD_CPUID", TEST_FIXTURES "/psp/cpuid-genoa.txt", 1);
        paths_reset();

        ASSERT_OK(manager_new(&m));

        /* start: table order; beta sees what alpha published before it started */
        ASSERT_OK(manager_start_areas(m));
        expect_calls("alpha:start beta:start");
        ASSERT_TRUE(m->n_areas == 2 && m->areas_started);
        ASSERT_TRUE(!area(m, 0)->saw_psp);
        ASSERT_TRUE(area(m, 1)->saw_psp && area(m, 1)->psp_guests == 7);
        ASSERT_TRUE(m->facts.valid == HOST_FACTS_ALL && m->facts.iommu.groups == 1);

        /* uevents: every area, in order */
        ASSERT_OK(sd_device_new_from_subsystem_sysname(&d, "mem", "null"));
        manager_dispatch_uevent(m, d, SD_DEVICE_CHANGE);
        expect_calls("alpha:uevent-2-null beta:uevent-2-null");

        /* events: every area, in order, with their type */
        manager_broadcast_type(m, MANAGER_EVENT_ASID_CHANGED);
        expect_calls("alpha:event-asid-changed beta:event-asid-changed");
        manager_broadcast_type(m, MANAGER_EVENT_CONFIG_RELOADED);
        expect_calls("alpha:event-config-reloaded beta:event-config-reloaded");

        /* host facts: nothing changed, no event; a new IOMMU group, one event naming that part */
        ASSERT_EQ(manager_refresh_facts(m, HOST_FACTS_IOMMU | HOST_FACTS_KVM | HOST_FACTS_CMDLINE), 0);
        expect_calls("");
        put(tmp, "sys/kernel/iommu_groups/1/type", "identity\n");
        ASSERT_EQ(manager_refresh_facts(m, HOST_FACTS_IOMMU | HOST_FACTS_KVM), 1);
        expect_calls("alpha:event-facts-changed-0x4-2 beta:event-facts-changed-0x4-2");

        /* Describe(): each area adds its key */
        root = json_object_new_object();
        ASSERT_TRUE(root);
        ASSERT_OK(manager_describe_areas(m, root));
        expect_calls("alpha:describe beta:describe");
        ASSERT_TRUE(json_object_object_get_ex(root, "alpha", &v) && streq(json_object_get_string(v), "described"));
        ASSERT_TRUE(json_object_object_get_ex(root, "beta", &v) && streq(json_object_get_string(v), "described"));
        json_object_put(root);

        /* Manager members: the entry that serves the name answers; an unknown name is -ENOENT */
        ASSERT_EQ(manager_append_member(m, "TestSummary", NULL), 42);
        expect_calls("beta:member");
        ASSERT_EQ(manager_append_member(m, "NoSuchMember", NULL), -ENOENT);

        /* state: any area's word counts, the last one's too */
        ASSERT_TRUE(streq(manager_compute_state(m), "ready"));
        area(m, 1)->degraded = true;
        ASSERT_TRUE(streq(manager_compute_state(m), "degraded"));
        area(m, 1)->loading = true;
        ASSERT_TRUE(streq(manager_compute_state(m), "starting"));
        area(m, 1)->degraded = area(m, 1)->loading = false;
        area(m, 0)->degraded = true;
        ASSERT_TRUE(streq(manager_compute_state(m), "degraded"));

        /* free: reverse order */
        m = manager_free(m);
        expect_calls("beta:free alpha:free");

        ASSERT_TRUE(asprintf(&cmd, "rm -rf '%s'", tmp) > 0);
        ASSERT_TRUE(system(cmd) == 0);
        printf("test-area-table: all checks passed\n");
        return EXIT_SUCCESS;
}
