/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/ioctl.h>

#include "psp-sev.h"
#include "sev-status.h"

int sev_status_decode(const void *buf, size_t size, SevStatus *ret) {
        struct hwsec_sev_user_data_status raw;

        if (!buf || size != sizeof raw)
                return -EBADMSG;
        memcpy(&raw, buf, sizeof raw);

        *ret = (SevStatus) {
                .api_major = raw.api_major,
                .api_minor = raw.api_minor,
                .state = raw.state,
                .flags = le32toh(raw.flags),
                .build = raw.build,
                .guest_count = le32toh(raw.guest_count),
        };
        ret->owner = ret->flags & HWSEC_SEV_STATUS_FLAGS_OWNER;
        ret->config_es = ret->flags & HWSEC_SEV_STATUS_FLAGS_CONFIG_ES;
        ret->flags_unknown = ret->flags & ~(HWSEC_SEV_STATUS_FLAGS_OWNER | HWSEC_SEV_STATUS_FLAGS_CONFIG_ES);
        return 0;
}

int snp_status_decode(const void *buf, size_t size, SnpStatus *ret) {
        struct hwsec_sev_user_data_snp_status raw;
        uint32_t f;

        if (!buf || size != sizeof raw)
                return -EBADMSG;
        memcpy(&raw, buf, sizeof raw);

        f = le32toh(raw.feature_flags);
        *ret = (SnpStatus) {
                .api_major = raw.api_major,
                .api_minor = raw.api_minor,
                .state = raw.state,
                .is_rmp_initialized = raw.rmp_flags & HWSEC_SNP_IS_RMP_INITIALIZED,
                .rmp_flags_reserved = raw.rmp_flags & HWSEC_SNP_RMP_FLAGS_RESERVED,
                .build_id = le32toh(raw.build_id),
                .mask_chip_id = f & HWSEC_SNP_MASK_CHIP_ID,
                .mask_chip_key = f & HWSEC_SNP_MASK_CHIP_KEY,
                .vlek_en = f & HWSEC_SNP_VLEK_EN,
                .feature_info = f & HWSEC_SNP_FEATURE_INFO,
                .rapl_dis = f & HWSEC_SNP_RAPL_DIS,
                .ciphertext_hiding_cap = f & HWSEC_SNP_CIPHERTEXT_HIDING_CAP,
                .ciphertext_hiding_en = f & HWSEC_SNP_CIPHERTEXT_HIDING_EN,
                .flags_reserved = f & HWSEC_SNP_FEATURE_FLAGS_RESERVED,
                .guest_count = le32toh(raw.guest_count),
                .current_tcb = le64toh(raw.current_tcb_version),
                .reported_tcb = le64toh(raw.reported_tcb_version),
        };
        return 0;
}

const char *sev_state_to_string(uint8_t state) {
        switch (state) {
        case HWSEC_SEV_STATE_UNINIT:
                return "uninit";
        case HWSEC_SEV_STATE_INIT:
                return "init";
        case HWSEC_SEV_STATE_WORKING:
                return "working";
        default:
                return "invalid";
        }
}

const char *snp_state_to_string(uint8_t state) {
        return state == 0 ? "uninit" : "init";
}

bool snp_status_initialized(const SnpStatus *s) {
        return s->state != 0;
}

static const struct {
        const char *name;
        const char *sentence;
} sev_ret_table[] = {
        [HWSEC_SEV_RET_SUCCESS] = { "SUCCESS", "The command succeeded." },
        [HWSEC_SEV_RET_INVALID_PLATFORM_STATE] = { "INVALID_PLATFORM_STATE", "The platform is not in a state that allows this command; check the SEV/SNP state and initialise the platform first." },
        [HWSEC_SEV_RET_INVALID_GUEST_STATE] = { "INVALID_GUEST_STATE", "The guest is not in a state that allows this command." },
        [HWSEC_SEV_RET_INVALID_CONFIG] = { "INVALID_CONFIG", "The platform configuration is invalid (the kernel spells it SEV_RET_INAVLID_CONFIG)." },
        [HWSEC_SEV_RET_INVALID_LEN] = { "INVALID_LEN", "A buffer passed to the firmware has the wrong length." },
        [HWSEC_SEV_RET_ALREADY_OWNED] = { "ALREADY_OWNED", "The platform is already owned; reset it before taking ownership again." },
        [HWSEC_SEV_RET_INVALID_CERTIFICATE] = { "INVALID_CERTIFICATE", "A certificate passed to the firmware is invalid." },
        [HWSEC_SEV_RET_POLICY_FAILURE] = { "POLICY_FAILURE", "The request violates the guest or platform policy." },
        [HWSEC_SEV_RET_INACTIVE] = { "INACTIVE", "The guest is not active." },
        [HWSEC_SEV_RET_INVALID_ADDRESS] = { "INVALID_ADDRESS", "An address passed to the firmware is invalid." },
        [HWSEC_SEV_RET_BAD_SIGNATURE] = { "BAD_SIGNATURE", "A signature did not verify." },
        [HWSEC_SEV_RET_BAD_MEASUREMENT] = { "BAD_MEASUREMENT", "A measurement did not match." },
        [HWSEC_SEV_RET_ASID_OWNED] = { "ASID_OWNED", "The ASID is already owned by another guest." },
        [HWSEC_SEV_RET_INVALID_ASID] = { "INVALID_ASID", "The ASID is invalid or outside the range for this guest type." },
        [HWSEC_SEV_RET_WBINVD_REQUIRED] = { "WBINVD_REQUIRED", "A WBINVD must be run on all cores before this command." },
        [HWSEC_SEV_RET_DFFLUSH_REQUIRED] = { "DFFLUSH_REQUIRED", "A DF_FLUSH must be issued before this command." },
        [HWSEC_SEV_RET_INVALID_GUEST] = { "INVALID_GUEST", "The guest handle is invalid." },
        [HWSEC_SEV_RET_INVALID_COMMAND] = { "INVALID_COMMAND", "The firmware does not know this command; a newer SEV firmware may be needed." },
        [HWSEC_SEV_RET_ACTIVE] = { "ACTIVE", "The guest is still active." },
        [HWSEC_SEV_RET_HWSEV_RET_PLATFORM] = { "HWSEV_RET_PLATFORM", "The hardware reported a platform error; check the BIOS memory-encryption settings." },
        [HWSEC_SEV_RET_HWSEV_RET_UNSAFE] = { "HWSEV_RET_UNSAFE", "The hardware reported an unsafe condition; the platform must be reset." },
        [HWSEC_SEV_RET_UNSUPPORTED] = { "UNSUPPORTED", "The firmware does not support this request." },
        [HWSEC_SEV_RET_INVALID_PARAM] = { "INVALID_PARAM", "A parameter passed to the firmware is invalid." },
        [HWSEC_SEV_RET_RESOURCE_LIMIT] = { "RESOURCE_LIMIT", "The firmware ran out of a resource (for example ASIDs)." },
        [HWSEC_SEV_RET_SECURE_DATA_INVALID] = { "SECURE_DATA_INVALID", "The firmware's secure data is invalid; a platform reset may be needed." },
        [HWSEC_SEV_RET_INVALID_PAGE_SIZE] = { "INVALID_PAGE_SIZE", "A page has the wrong size for this command." },
        [HWSEC_SEV_RET_INVALID_PAGE_STATE] = { "INVALID_PAGE_STATE", "A page is in the wrong RMP state for this command." },
        [HWSEC_SEV_RET_INVALID_MDATA_ENTRY] = { "INVALID_MDATA_ENTRY", "A metadata entry is invalid." },
        [HWSEC_SEV_RET_INVALID_PAGE_OWNER] = { "INVALID_PAGE_OWNER", "A page is owned by someone else in the RMP." },
        [HWSEC_SEV_RET_AEAD_OFLOW] = { "AEAD_OFLOW", "An AEAD counter overflowed." },
        [HWSEC_SEV_RET_EXIT_RING_BUFFER] = { "EXIT_RING_BUFFER", "The firmware left ring-buffer mode." },
        [HWSEC_SEV_RET_RMP_INIT_REQUIRED] = { "RMP_INIT_REQUIRED", "The RMP must be initialised first (SNP_INIT)." },
        [HWSEC_SEV_RET_BAD_SVN] = { "BAD_SVN", "A security version number is too low (anti-rollback)." },
        [HWSEC_SEV_RET_BAD_VERSION] = { "BAD_VERSION", "A version is not acceptable to the firmware." },
        [HWSEC_SEV_RET_SHUTDOWN_REQUIRED] = { "SHUTDOWN_REQUIRED", "The platform must be shut down (no guests running) first." },
        [HWSEC_SEV_RET_UPDATE_FAILED] = { "UPDATE_FAILED", "The firmware update failed." },
        [HWSEC_SEV_RET_RESTORE_REQUIRED] = { "RESTORE_REQUIRED", "A restore of the firmware state is required." },
        [HWSEC_SEV_RET_RMP_INITIALIZATION_FAILED] = { "RMP_INITIALIZATION_FAILED", "RMP initialisation failed; check the BIOS SNP memory coverage settings." },
        [HWSEC_SEV_RET_INVALID_KEY] = { "INVALID_KEY", "A key is invalid." },
};

const char *sev_ret_to_name(uint32_t code) {
        if (code >= ELEMENTSOF(sev_ret_table))
                return NULL;
        return sev_ret_table[code].name;
}

const char *sev_ret_describe(uint32_t code) {
        if (code >= ELEMENTSOF(sev_ret_table) || !sev_ret_table[code].sentence)
                return "The firmware returned a status code that the SEV API does not define.";
        return sev_ret_table[code].sentence;
}

static void set(SevError *e, const char *name, const char *fmt, ...) _printf_(3, 4);
static void set(SevError *e, const char *name, const char *fmt, ...) {
        va_list ap;

        snprintf(e->name, sizeof e->name, "%s", name);
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
}

void sev_error_set(SevError *e, SevQueryKind kind, int error, uint32_t fw_code) {
        const char *what = kind == SEV_QUERY_SNP ? "SNP_PLATFORM_STATUS" : "SEV_PLATFORM_STATUS";
        const char *name;

        *e = (SevError) { .error = error < 0 ? error : -error, .fw_code = fw_code };

        switch (-e->error) {
        case 0:
                return;
        case EIO:
                fw_code &= HWSEC_SEV_RET_MASK;
                e->fw_code = fw_code;
                if (fw_code == 0) {
                        set(e, "FIRMWARE_ERROR", "%s failed with an I/O error but the firmware reported no status code; check the kernel log for ccp messages.", what);
                        return;
                }
                name = sev_ret_to_name(fw_code);
                if (name)
                        set(e, name, "%s: the firmware answered SEV_RET_%s (0x%" PRIx32 "). %s",
                            what, name, fw_code, sev_ret_describe(fw_code));
                else
                        set(e, "UNKNOWN_FIRMWARE_STATUS", "%s: the firmware answered status 0x%" PRIx32 ", which the SEV API does not define.",
                            what, fw_code);
                return;
        case EINVAL:
                if (kind == SEV_QUERY_SNP)
                        set(e, "SNP_NOT_INITIALIZED", "SNP not initialised on this kernel: SNP_PLATFORM_STATUS was refused (EINVAL). Enable SEV-SNP in the BIOS, keep the IOMMU on and load kvm_amd with sev_snp=1.");
                else
                        set(e, "INVALID_REQUEST", "The kernel refused %s as invalid (EINVAL); the ccp driver may be too old for this request.", what);
                return;
        case ENODEV:
                set(e, "NO_SEV_DEVICE", "%s: the PSP has no SEV function or the ccp driver has no SEV device (ENODEV); check that SEV is enabled in the BIOS and that ccp is loaded.", what);
                return;
        case ENOENT:
                set(e, "NO_DEVICE_NODE", "/dev/sev does not exist; load the ccp module on a host whose BIOS enables SEV.");
                return;
        case EACCES:
        case EPERM:
                set(e, "ACCESS_DENIED", "Opening /dev/sev was denied (%s); hwsecd needs read access to /dev/sev (run it as root, or check DeviceAllow= in its unit).",
                    -e->error == EPERM ? "EPERM" : "EACCES");
                return;
        case ETIMEDOUT:
                set(e, "TIMED_OUT", "%s timed out: the PSP did not answer within ccp's psp_cmd_timeout; the kernel treats the PSP as dead until the next reboot.", what);
                return;
        case ENOTTY:
                set(e, "NOT_SUPPORTED", "The kernel does not support %s on /dev/sev (ENOTTY); a newer kernel is needed.", what);
                return;
        case EBADMSG:
                set(e, "MALFORMED_ANSWER", "%s returned an answer that could not be decoded.", what);
                return;
        case EBUSY:
                set(e, "BUSY", "The PSP is busy (EBUSY); try again.");
                return;
        default: {
                const char *en = strerrorname_np(-e->error);
                char nm[48];

                snprintf(nm, sizeof nm, "ERRNO_%s", en ?: "UNKNOWN");
                set(e, nm, "%s failed: %s (%s).", what, strerrordesc_np(-e->error) ?: "unknown error", en ?: "unnamed errno");
                return;
        }
        }
}

static int issue(int fd, uint32_t cmd, void *data, uint32_t *ret_fw) {
        struct hwsec_sev_issue_cmd arg = {
                .cmd = cmd,
                .data = (uint64_t) (uintptr_t) data,
        };

        *ret_fw = 0;
        if (ioctl(fd, HWSEC_SEV_ISSUE_CMD, &arg) < 0) {
                int r = -errno;
                *ret_fw = arg.error;
                return r;
        }
        return 0;
}

void sev_query_platform(const char *dev_path, SevPlatform *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct hwsec_sev_user_data_status st = {};
        struct hwsec_sev_user_data_snp_status snp = {};
        uint32_t fw;
        int r;

        *ret = (SevPlatform) {};

        fd = open(dev_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                ret->open_error = r;
                sev_error_set(&ret->sev_error, SEV_QUERY_SEV, r, 0);
                sev_error_set(&ret->snp_error, SEV_QUERY_SNP, r, 0);
                return;
        }

        r = issue(fd, HWSEC_SEV_PLATFORM_STATUS, &st, &fw);
        if (r >= 0)
                r = sev_status_decode(&st, sizeof st, &ret->sev);
        if (r < 0)
                sev_error_set(&ret->sev_error, SEV_QUERY_SEV, r, fw);
        else
                ret->sev_valid = true;

        r = issue(fd, HWSEC_SNP_PLATFORM_STATUS, &snp, &fw);
        if (r >= 0)
                r = snp_status_decode(&snp, sizeof snp, &ret->snp);
        if (r < 0)
                sev_error_set(&ret->snp_error, SEV_QUERY_SNP, r, fw);
        else
                ret->snp_valid = true;
}

static void add_hex(json_object *o, const char *key, uint64_t v) {
        char buf[24];

        snprintf(buf, sizeof buf, "0x%" PRIx64, v);
        json_object_object_add(o, key, json_object_new_string(buf));
}

static void add_version(json_object *o, uint8_t major, uint8_t minor) {
        char buf[16];

        snprintf(buf, sizeof buf, "%u.%u", major, minor);
        json_object_object_add(o, "api_version", json_object_new_string(buf));
}

json_object *sev_status_to_json(const SevStatus *s) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        add_version(o, s->api_major, s->api_minor);
        json_object_object_add(o, "build", json_object_new_int(s->build));
        json_object_object_add(o, "state", json_object_new_string(sev_state_to_string(s->state)));
        json_object_object_add(o, "state_raw", json_object_new_int(s->state));
        add_hex(o, "flags", s->flags);
        json_object_object_add(o, "owner", json_object_new_boolean(s->owner));
        json_object_object_add(o, "config_es", json_object_new_boolean(s->config_es));
        if (s->flags_unknown)
                add_hex(o, "flags_unknown", s->flags_unknown);
        json_object_object_add(o, "guest_count", json_object_new_int64(s->guest_count));
        return o;
}

json_object *snp_status_to_json(const SnpStatus *s, TcbLayout layout) {
        json_object *o = json_object_new_object();
        TcbVersion t;

        if (!o)
                return NULL;
        add_version(o, s->api_major, s->api_minor);
        json_object_object_add(o, "build_id", json_object_new_int64(s->build_id));
        json_object_object_add(o, "state", json_object_new_string(snp_state_to_string(s->state)));
        json_object_object_add(o, "state_raw", json_object_new_int(s->state));
        json_object_object_add(o, "is_rmp_initialized", json_object_new_boolean(s->is_rmp_initialized));
        json_object_object_add(o, "mask_chip_id", json_object_new_boolean(s->mask_chip_id));
        json_object_object_add(o, "mask_chip_key", json_object_new_boolean(s->mask_chip_key));
        json_object_object_add(o, "vlek_en", json_object_new_boolean(s->vlek_en));
        json_object_object_add(o, "feature_info", json_object_new_boolean(s->feature_info));
        json_object_object_add(o, "rapl_dis", json_object_new_boolean(s->rapl_dis));
        json_object_object_add(o, "ciphertext_hiding_cap", json_object_new_boolean(s->ciphertext_hiding_cap));
        json_object_object_add(o, "ciphertext_hiding_en", json_object_new_boolean(s->ciphertext_hiding_en));
        if (s->rmp_flags_reserved)
                add_hex(o, "rmp_flags_reserved", s->rmp_flags_reserved);
        if (s->flags_reserved)
                add_hex(o, "flags_reserved", s->flags_reserved);
        json_object_object_add(o, "guest_count", json_object_new_int64(s->guest_count));
        (void) tcb_decode(s->current_tcb, layout, &t);
        json_object_object_add(o, "current_tcb", tcb_to_json(&t));
        (void) tcb_decode(s->reported_tcb, layout, &t);
        json_object_object_add(o, "reported_tcb", tcb_to_json(&t));
        json_object_object_add(o, "tcb_committed", json_object_new_boolean(s->current_tcb == s->reported_tcb));
        return o;
}
