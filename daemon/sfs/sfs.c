/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <sys/ioctl.h>

#include "macro.h"
#include "sfs.h"

static int sfs_ioctl(int fd, unsigned long req, void *arg) {
        int r;

        do
                r = ioctl(fd, req, arg);
        while (r < 0 && errno == EINTR);
        return r < 0 ? -errno : 0;
}

void sfs_versions_done(SfsVersions *v) {
        if (!v)
                return;
        for (size_t i = 0; i < v->n_strings; i++)
                free(v->strings[i].text);
        v->strings = mfree(v->strings);
        v->n_strings = 0;
}

static bool blob_printable(uint8_t c) {
        return c >= 0x20 && c < 0x7f;
}

int sfs_versions_decode(const uint8_t blob[SFS_VERSIONS_BLOB_SIZE], SfsVersions *v) {
        size_t i = 0;

        sfs_versions_done(v);
        if (blob != v->blob)
                memcpy(v->blob, blob, SFS_VERSIONS_BLOB_SIZE);
        sha256_buffer_hex(v->blob, SFS_VERSIONS_BLOB_SIZE, v->sha256);

        v->written_size = 0;
        for (size_t j = SFS_VERSIONS_BLOB_SIZE; j > 0; j--)
                if (v->blob[j - 1] != SFS_VERSIONS_FILL_BYTE) {
                        v->written_size = (uint32_t) j;
                        break;
                }

        while (i < v->written_size && v->n_strings < SFS_MAX_STRINGS) {
                size_t start = i;
                SfsString *t;

                while (i < v->written_size && blob_printable(v->blob[i]))
                        i++;
                if (i - start < SFS_MIN_STRING) {
                        i++;
                        continue;
                }
                t = realloc(v->strings, (v->n_strings + 1) * sizeof *t);
                if (!t)
                        return -ENOMEM;
                v->strings = t;
                t[v->n_strings].offset = (uint32_t) start;
                t[v->n_strings].text = strndup((const char *) v->blob + start, i - start);
                if (!t[v->n_strings].text)
                        return -ENOMEM;
                v->n_strings++;
        }
        return 0;
}

int sfs_get_versions(int fd, SfsVersions *ret, SfsResult *ret_result) {
        _cleanup_free_ struct sfs_user_get_fw_versions *b = NULL;
        SfsResult res = {};
        int r;

        b = malloc(sizeof *b);
        if (!b)
                return -ENOMEM;
        memset(b, 0, sizeof *b);
        r = sfs_ioctl(fd, SFSIOCFWVERS, b);
        res.error = r;
        if (r == 0 || r == -EIO) {
                res.has_status = true;
                res.status = b->sfs_status;
                res.extended_status = b->sfs_extended_status;
        }
        if (ret_result)
                *ret_result = res;
        if (r < 0)
                return r;
        r = sfs_versions_decode(b->blob, ret);
        if (r < 0)
                return r;
        ret->status = b->sfs_status;
        ret->extended_status = b->sfs_extended_status;
        return 0;
}

int sfs_update_package(int fd, const char *payload_name, SfsResult *ret) {
        struct sfs_user_update_package u = {};
        size_t l = strlen(payload_name);
        int r;

        if (l == 0 || l >= SFS_PAYLOAD_NAME_SIZE)
                return -EINVAL;
        memcpy(u.payload_name, payload_name, l);
        r = sfs_ioctl(fd, SFSIOCUPDATEPKG, &u);
        *ret = (SfsResult) {
                .error = r,
                .has_status = r == 0 || r == -EIO,
                .status = (r == 0 || r == -EIO) ? u.sfs_status : 0,
                .extended_status = (r == 0 || r == -EIO) ? u.sfs_extended_status : 0,
        };
        return r;
}

const char *sfs_status_name(uint32_t status) {
        return status == 0 ? "success" : NULL;
}

const char *sfs_status_to_string(uint32_t status, char *buf, size_t size) {
        const char *n = sfs_status_name(status);

        if (n)
                return n;
        snprintf(buf, size, "0x%08x", status);
        return buf;
}

static const struct {
        int error;
        const char *name;
        const char *meaning;
} sfs_errnos[] = {
        { EIO,       "EIO",       "the PSP returned a firmware status (see the SFS status)" },
        { EPERM,     "EPERM",     "the package signature is invalid" },
        { EACCES,    "EACCES",    "the request is not authorised by the firmware" },
        { EAGAIN,    "EAGAIN",    "the request is invalid in the firmware's current state" },
        { ENFILE,    "ENFILE",    "the firmware reported an overflow" },
        { EBUSY,     "EBUSY",     "the PSP mailbox is busy or in recovery" },
        { ETIMEDOUT, "ETIMEDOUT", "the PSP did not answer within 10 seconds" },
        { ENODEV,    "ENODEV",    "there is no PSP master with SFS support" },
        { ENOENT,    "ENOENT",    "the kernel could not load amd/<payload> from the firmware search path" },
        { E2BIG,     "E2BIG",     "the package is larger than the 2 MiB SFS command buffer allows" },
        { EINVAL,    "EINVAL",    "the kernel refused the request (payload name not NUL-terminated or unknown command)" },
        { EFAULT,    "EFAULT",    "the kernel could not copy the request" },
        { ENOTTY,    "ENOTTY",    "the device does not implement this ioctl" },
        { ENXIO,     "ENXIO",     "the device went away" },
};

const char *sfs_errno_name(int error) {
        error = abs(error);
        for (size_t i = 0; i < ELEMENTSOF(sfs_errnos); i++)
                if (sfs_errnos[i].error == error)
                        return sfs_errnos[i].name;
        return NULL;
}

const char *sfs_errno_meaning(int error) {
        error = abs(error);
        for (size_t i = 0; i < ELEMENTSOF(sfs_errnos); i++)
                if (sfs_errnos[i].error == error)
                        return sfs_errnos[i].meaning;
        return strerror(error);
}
