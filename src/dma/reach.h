/* SPDX-License-Identifier: MIT */
/*
 * What a driver inside the library (src/virtio) asks the dma layer when it
 * bounces through memory of its own (virtio-blk's persistent slots)
 * instead of a streaming mapping.  Internal: not installed.
 */
#ifndef CCDMA_DMA_REACH_H
#define CCDMA_DMA_REACH_H

#include <ccdma/dma.h>
#include <stdbool.h>

/* Whether ccdma_map_single() of [ptr, ptr + size) would bounce: the device
 * cannot reach the buffer as it is (private memory in confidential mode,
 * outside the DMA mask, a force-bounce device).  false for a bad range or
 * pool memory outside a live allocation (a map would fail). */
bool ccdma_dev_would_bounce(struct ccdma_dev *d, const void *ptr, size_t size);

/* Count a copy the caller made in its own bounce memory as the dma layer
 * counts its bounces: the pool's bounce counters (stats
 * bounced_bytes_to/from_device, copies) and the trace point ccdma:bounce. */
void ccdma_dev_count_bounce(struct ccdma_dev *d, bool to_device, size_t mapped,
			    size_t copied);

#endif /* CCDMA_DMA_REACH_H */
