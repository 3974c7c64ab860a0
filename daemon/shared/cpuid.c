/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>

#include "cpuid.h"
#include "fileio.h"
#include "macro.h"
#include "paths.h"

#define CPUID_FILE_MAX (4U * 1024U * 1024U)

static int native_cpuid(uint32_t leaf, uint32_t subleaf, CpuidRegs *ret) {
#if defined(__x86_64__) || defined(__i386__)
        uint32_t a, b, c, d;

        __asm__ volatile("cpuid"
                         : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
                         : "a"(leaf), "c"(subleaf));
        *ret = (CpuidRegs) { a, b, c, d };
        return 0;
#else
        return -EOPNOTSUPP;
#endif
}

/* Parses one "0x8000001f 0x00: eax=… ebx=… ecx=… edx=…" line. 1 when it is a leaf line,
 * 0 when it is something else (a header, blank), -EBADMSG when it looks like a leaf but is not. */
static int parse_leaf_line(const char *line, uint32_t *leaf, uint32_t *subleaf, CpuidRegs *regs) {
        unsigned l, s, a, b, c, d;
        int n = 0;

        line += strspn(line, " \t");
        if (!strneq(line, "0x", 2))
                return 0;
        if (sscanf(line, "0x%x 0x%x: eax=0x%x ebx=0x%x ecx=0x%x edx=0x%x%n",
                   &l, &s, &a, &b, &c, &d, &n) != 6 || n == 0)
                return -EBADMSG;
        if (line[n] != '\0' && !strchr(" \t\r\n", line[n]))
                return -EBADMSG;
        *leaf = l;
        *subleaf = s;
        *regs = (CpuidRegs) { a, b, c, d };
        return 1;
}

/* Looks up (leaf, subleaf) in text; also reports the maximum basic/extended leaf if listed. */
static int file_lookup(const char *text, uint32_t leaf, uint32_t subleaf, CpuidRegs *ret,
                       bool *ret_beyond_max) {
        bool seen_cpu = false, found = false, have_max = false;
        uint32_t max = 0, base = leaf & UINT32_C(0x80000000);
        const char *p = text;

        while (*p) {
                size_t len = strcspn(p, "\n");
                char line[256];
                uint32_t l, s;
                CpuidRegs regs;
                int r;

                if (len < sizeof line) {
                        memcpy(line, p, len);
                        line[len] = '\0';
                } else
                        line[0] = '\0';    /* over-long lines are not leaf lines */
                p += len + (p[len] == '\n');

                if (strneq(line, "CPU ", 4)) {
                        if (seen_cpu)
                                break;     /* only the first CPU counts */
                        seen_cpu = true;
                        continue;
                }
                r = parse_leaf_line(line, &l, &s, &regs);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (l == base && s == 0) {
                        max = regs.eax;
                        have_max = true;
                }
                if (l == leaf && s == subleaf && !found) {
                        *ret = regs;
                        found = true;
                }
        }

        *ret_beyond_max = have_max && leaf > max;
        return found ? 0 : -ENOENT;
}

int cpuid_read(uint32_t leaf, uint32_t subleaf, CpuidRegs *ret) {
        const char *src = paths_cpuid_source();
        _cleanup_free_ char *text = NULL;
        bool beyond = false;
        CpuidRegs max;
        int r;

        if (streq(src, "native")) {
                r = native_cpuid(leaf & UINT32_C(0x80000000), 0, &max);
                if (r < 0)
                        return r;
                if (leaf > max.eax)
                        return -ENOENT;
                return native_cpuid(leaf, subleaf, ret);
        }

        r = read_full_file(src, CPUID_FILE_MAX, &text, NULL);
        if (r < 0)
                return r;
        r = file_lookup(text, leaf, subleaf, ret, &beyond);
        if (r < 0)
                return r;
        return beyond ? -ENOENT : 0;
}

int cpuid_identity(CpuIdentity *ret) {
        CpuidRegs v, s;
        unsigned base_family, base_model;
        int r;

        r = cpuid_read(0, 0, &v);
        if (r < 0)
                return r;
        r = cpuid_read(1, 0, &s);
        if (r < 0)
                return r;

        *ret = (CpuIdentity) {};
        memcpy(ret->vendor + 0, &v.ebx, 4);
        memcpy(ret->vendor + 4, &v.edx, 4);
        memcpy(ret->vendor + 8, &v.ecx, 4);
        ret->vendor[12] = '\0';

        base_family = (s.eax >> 8) & 0xf;
        base_model = (s.eax >> 4) & 0xf;
        ret->stepping = s.eax & 0xf;
        ret->family = base_family == 0xf ? base_family + ((s.eax >> 20) & 0xff) : base_family;
        ret->model = base_family >= 0xf ? (((s.eax >> 16) & 0xf) << 4) | base_model : base_model;
        return 0;
}

int cpuid_mem_encrypt(CpuidMemEncrypt *ret) {
        CpuidRegs r8;
        int r;

        r = cpuid_read(UINT32_C(0x8000001f), 0, &r8);
        if (r < 0)
                return r;

        *ret = (CpuidMemEncrypt) {
                .sme = r8.eax & (UINT32_C(1) << 0),
                .sev = r8.eax & (UINT32_C(1) << 1),
                .sev_es = r8.eax & (UINT32_C(1) << 3),
                .sev_snp = r8.eax & (UINT32_C(1) << 4),
                .debug_swap = r8.eax & (UINT32_C(1) << 14),
                .cbit_position = r8.ebx & 0x3f,
                .phys_addr_reduction = (r8.ebx >> 6) & 0x3f,
                .max_sev_asid = r8.ecx,
                .min_sev_asid = r8.edx,
        };
        return 0;
}
