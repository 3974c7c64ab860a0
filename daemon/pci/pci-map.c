/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "pci-map.h"

static size_t hash64(uint64_t k) {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdULL;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53ULL;
        k ^= k >> 33;
        return (size_t) k;
}

PciMap *pci_map_new(void) {
        return calloc(1, sizeof(PciMap));
}

void pci_map_free(PciMap *m) {
        if (!m)
                return;
        free(m->keys);
        free(m->values);
        free(m);
}

static int map_resize(PciMap *m, size_t n) {
        uint64_t *keys = calloc(n, sizeof(uint64_t));
        void **values = calloc(n, sizeof(void *));
        if (!keys || !values) {
                free(keys);
                free(values);
                return -ENOMEM;
        }
        for (size_t i = 0; i < m->n_buckets; i++) {
                if (!m->values[i])
                        continue;
                size_t j = hash64(m->keys[i]) & (n - 1);
                while (values[j])
                        j = (j + 1) & (n - 1);
                keys[j] = m->keys[i];
                values[j] = m->values[i];
        }
        free(m->keys);
        free(m->values);
        m->keys = keys;
        m->values = values;
        m->n_buckets = n;
        return 0;
}

int pci_map_put(PciMap *m, uint64_t key, void *value) {
        if (!value)
                return -EINVAL;
        if ((m->n_items + 1) * 2 > m->n_buckets) {
                int r = map_resize(m, m->n_buckets ? m->n_buckets * 2 : 64);
                if (r < 0)
                        return r;
        }
        size_t j = hash64(key) & (m->n_buckets - 1);
        while (m->values[j]) {
                if (m->keys[j] == key) {
                        m->values[j] = value;
                        return 0;
                }
                j = (j + 1) & (m->n_buckets - 1);
        }
        m->keys[j] = key;
        m->values[j] = value;
        m->n_items++;
        return 0;
}

static size_t map_find(const PciMap *m, uint64_t key) {
        if (m->n_buckets == 0)
                return SIZE_MAX;
        size_t j = hash64(key) & (m->n_buckets - 1);
        while (m->values[j]) {
                if (m->keys[j] == key)
                        return j;
                j = (j + 1) & (m->n_buckets - 1);
        }
        return SIZE_MAX;
}

void *pci_map_get(const PciMap *m, uint64_t key) {
        size_t j = map_find(m, key);
        return j == SIZE_MAX ? NULL : m->values[j];
}

void *pci_map_remove(PciMap *m, uint64_t key) {
        size_t j = map_find(m, key);
        if (j == SIZE_MAX)
                return NULL;
        void *v = m->values[j];
        size_t mask = m->n_buckets - 1;

        /* Backward-shift deletion keeps probe chains intact without tombstones. */
        m->values[j] = NULL;
        for (size_t i = (j + 1) & mask; m->values[i]; i = (i + 1) & mask) {
                size_t h = hash64(m->keys[i]) & mask;
                bool move = (j <= i) ? (h <= j || h > i) : (h <= j && h > i);
                if (move) {
                        m->keys[j] = m->keys[i];
                        m->values[j] = m->values[i];
                        m->values[i] = NULL;
                        j = i;
                }
        }
        m->n_items--;
        return v;
}

size_t pci_map_size(const PciMap *m) {
        return m ? m->n_items : 0;
}

bool pci_map_iterate(const PciMap *m, size_t *i, uint64_t *ret_key, void **ret_value) {
        for (; *i < m->n_buckets; (*i)++)
                if (m->values[*i]) {
                        if (ret_key)
                                *ret_key = m->keys[*i];
                        if (ret_value)
                                *ret_value = m->values[*i];
                        (*i)++;
                        return true;
                }
        return false;
}
