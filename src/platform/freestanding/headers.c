/* SPDX-License-Identifier: MIT */
/*
 * Every header the freestanding core may include, compiled on its own by
 * the freestanding check (cmake/freestanding.cmake), so that headers no
 * core file includes yet (byteorder.h, for the virtio layer) are held to
 * the same rule: freestanding C headers only.
 */
#include <ccdma/busdma.h>
#include <ccdma/common.h>
#include <ccdma/dma.h>
#include <ccdma/platform.h>
#include <ccdma/pool.h>

#include "platform/byteorder.h"
#include "platform/os.h"

_Static_assert(sizeof(ccdma_le64_t) == 8 && sizeof(ccdma_le16_t) == 2,
	       "device-shared fields keep their size");
