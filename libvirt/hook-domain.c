/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fileio.h"
#include "hook-domain.h"

static void xml_docp(xmlDoc **d) {
        if (*d)
                xmlFreeDoc(*d);
}

static void xml_charp(xmlChar **s) {
        if (*s)
                xmlFree(*s);
}

#define _cleanup_xml_ _cleanup_(xml_charp)

static bool node_is(const xmlNode *n, const char *name) {
        return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *) name) == 0;
}

static xmlNode *child(const xmlNode *parent, const char *name) {
        for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
                if (node_is(n, name))
                        return n;
        return NULL;
}

static bool prop_is(const xmlNode *n, const char *name, const char *value) {
        _cleanup_xml_ xmlChar *v = xmlGetProp(n, (const xmlChar *) name);
        return v && xmlStrcmp(v, (const xmlChar *) value) == 0;
}

/* libvirt reads these attributes with base 0 (virXMLPropUInt): "0x06", "6", "006" (octal). */
static int parse_part(const char *s, unsigned long max, unsigned long *ret) {
        unsigned long v;
        char *end;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno != 0 || *end != '\0' || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int domain_pci_address(const char *domain, const char *bus, const char *slot, const char *function,
                       char ret[static DOMAIN_PCI_ADDRESS_MAX]) {
        unsigned long d = 0, b, s, f;

        if ((domain && parse_part(domain, 0xffffffffUL, &d) < 0) || parse_part(bus, 0xff, &b) < 0 ||
            parse_part(slot, 0x1f, &s) < 0 || parse_part(function, 0x7, &f) < 0)
                return -EINVAL;
        snprintf(ret, DOMAIN_PCI_ADDRESS_MAX, "%04lx:%02lx:%02lx.%lx", d, b, s, f);
        return 0;
}

static int add_warning(Domain *d, const char *fmt, ...) _printf_(2, 3);
static int add_warning(Domain *d, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return strv_extend(&d->warnings, s) < 0 ? -ENOMEM : 0;
}

/* <source><address domain= bus= slot= function=/></source>: the host side. The sibling
 * <address> directly under the device is the guest's slot and is never read. */
static int add_source_address(Domain *d, const xmlNode *dev, const char *what) {
        _cleanup_xml_ xmlChar *dom = NULL, *bus = NULL, *slot = NULL, *fn = NULL;
        const xmlNode *addr = child(child(dev, "source"), "address");
        char a[DOMAIN_PCI_ADDRESS_MAX];

        if (!addr)
                return add_warning(d, "a %s has no <source><address>; it is not checked", what);
        dom = xmlGetProp(addr, (const xmlChar *) "domain");
        bus = xmlGetProp(addr, (const xmlChar *) "bus");
        slot = xmlGetProp(addr, (const xmlChar *) "slot");
        fn = xmlGetProp(addr, (const xmlChar *) "function");
        if (domain_pci_address((char *) dom, (char *) bus, (char *) slot, (char *) fn, a) < 0)
                return add_warning(d, "a %s has a source address that is not a PCI address "
                                   "(domain, bus 0-0xff, slot 0-0x1f, function 0-7); it is not checked", what);
        if (strv_contains(d->hostdevs, a))
                return 0;
        return strv_extend(&d->hostdevs, a) < 0 ? -ENOMEM : 0;
}

static int parse_devices(Domain *d, const xmlNode *devices) {
        int r;

        for (const xmlNode *n = devices ? devices->children : NULL; n; n = n->next) {
                if (node_is(n, "hostdev") && prop_is(n, "mode", "subsystem") && prop_is(n, "type", "pci"))
                        r = add_source_address(d, n, "<hostdev type='pci'>");
                else if (node_is(n, "interface") && prop_is(n, "type", "hostdev"))
                        r = add_source_address(d, n, "<interface type='hostdev'>");
                else
                        continue;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* <policy> is hex, with or without 0x (libvirt: virXPathULongHex). */
static int parse_sev_policy(const xmlNode *ls, uint64_t *ret) {
        _cleanup_xml_ xmlChar *text = NULL;
        const xmlNode *p = child(ls, "policy");
        char *s, *end;

        *ret = 0;
        if (!p)
                return 0;
        text = xmlNodeGetContent(p);
        s = (char *) text;
        while (s && isspace((unsigned char) *s))
                s++;
        if (isempty(s) || !isxdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        *ret = strtoull(s, &end, 16);
        while (isspace((unsigned char) *end))
                end++;
        return errno != 0 || *end != '\0' ? -EINVAL : 0;
}

static int parse_launch_security(Domain *d, const xmlNode *ls) {
        _cleanup_xml_ xmlChar *type = NULL;
        uint64_t policy;

        d->launch_security = LAUNCH_SECURITY_NONE;
        if (!ls)
                return 0;
        type = xmlGetProp(ls, (const xmlChar *) "type");
        if (type && xmlStrcmp(type, (const xmlChar *) "sev-snp") == 0)
                d->launch_security = LAUNCH_SECURITY_SEV_SNP;
        else if (type && xmlStrcmp(type, (const xmlChar *) "sev") == 0) {
                if (parse_sev_policy(ls, &policy) < 0) {
                        /* Assume the stricter pool: an ES guest cannot use a plain SEV ASID. */
                        d->launch_security = LAUNCH_SECURITY_SEV_ES;
                        return add_warning(d, "<launchSecurity type='sev'> has a <policy> that is not a hex "
                                           "number; checked as SEV-ES");
                }
                d->launch_security = policy & SEV_POLICY_ES ? LAUNCH_SECURITY_SEV_ES : LAUNCH_SECURITY_SEV;
        } else
                d->launch_security = LAUNCH_SECURITY_OTHER;
        return 0;
}

static int parse_vcpus(Domain *d, const xmlNode *root) {
        _cleanup_xml_ xmlChar *text = NULL;
        const xmlNode *v = child(root, "vcpu");
        unsigned long n;
        char *s;

        if (!v)
                return 0;
        text = xmlNodeGetContent(v);
        s = (char *) text;
        while (s && isspace((unsigned char) *s))
                s++;
        if (s)
                strstrip_trailing(s);
        if (parse_part(s, 0xffffffffUL, &n) < 0)
                return add_warning(d, "<vcpu> is not a number; the vCPU count is not checked");
        d->vcpus = (unsigned) n;
        return 0;
}

static void parse_cpu_features(Domain *d, const xmlNode *cpu) {
        for (const xmlNode *n = cpu ? cpu->children : NULL; n; n = n->next)
                if (node_is(n, "feature") && prop_is(n, "name", "x2apic") &&
                    (prop_is(n, "policy", "disable") || prop_is(n, "policy", "forbid")))
                        d->x2apic_disabled = true;
}

int domain_parse(const char *xml, size_t size, Domain **ret, char **ret_error) {
        _cleanup_(domain_freep) Domain *d = NULL;
        _cleanup_(xml_docp) xmlDoc *doc = NULL;
        const xmlNode *root;
        int r;

        if (size > INT_MAX)
                return error_message_set(ret_error, EINVAL, "the domain XML is too large");
        /* No network, no DTD, no entity expansion (XML_PARSE_NOENT is *not* set), no huge nodes. */
        doc = xmlReadMemory(xml, (int) size, "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
        if (!doc) {
                const xmlError *e = xmlGetLastError();
                _cleanup_free_ char *why = e && e->message ? strdup(e->message) : NULL;
                if (why)
                        strstrip_trailing(why);
                return error_message_set(ret_error, EINVAL, "the domain XML does not parse%s%s (line %d)",
                                         why ? ": " : "", strempty(why), e ? e->line : 0);
        }
        root = xmlDocGetRootElement(doc);
        if (!node_is(root, "domain"))
                return error_message_set(ret_error, EINVAL, "the XML is not a libvirt <domain>");
        d = calloc(1, sizeof(Domain));
        if (!d)
                return -ENOMEM;
        const xmlNode *name = child(root, "name");
        if (name) {
                _cleanup_xml_ xmlChar *text = xmlNodeGetContent(name);
                d->name = strdup(text ? (const char *) text : "");
                if (!d->name)
                        return -ENOMEM;
        }
        r = parse_devices(d, child(root, "devices"));
        if (r >= 0)
                r = parse_launch_security(d, child(root, "launchSecurity"));
        if (r >= 0)
                r = parse_vcpus(d, root);
        if (r < 0)
                return r;
        parse_cpu_features(d, child(root, "cpu"));
        *ret = TAKE_PTR(d);
        return 0;
}
