/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small open-addressing hash map from a 64-bit key to a pointer (linear probing with
 * backward-shift deletion), so lookups, inserts and removals stay O(1) on 16k-device trees. */

#include "macro.h"

typedef struct PciMap {
        uint64_t *keys;
        void **values;          /* NULL marks an empty slot */
        size_t n_buckets;       /* power of two, or 0 */
        size_t n_items;
} PciMap;

PciMap *pci_map_new(void);
void pci_map_free(PciMap *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(PciMap *, pci_map_free);

/* value must not be NULL. Replaces an existing entry. 0 or -ENOMEM. */
int pci_map_put(PciMap *m, uint64_t key, void *value);
void *pci_map_get(const PciMap *m, uint64_t key);
/* Returns the removed value or NULL. */
void *pci_map_remove(PciMap *m, uint64_t key);
size_t pci_map_size(const PciMap *m);

/* Iteration: for (size_t i = 0; pci_map_iterate(m, &i, &k, &v); ) */
bool pci_map_iterate(const PciMap *m, size_t *i, uint64_t *ret_key, void **ret_value);
