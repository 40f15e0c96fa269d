/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net control queue, served by the vhost-user front-end itself.
 * A vhost-user net back-end never sees the control queue: the VMM serves
 * it (QEMU does, and DPDK's own virtio-user front-end), and turns
 * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET into SET_VRING_ENABLE messages.  The
 * ccdma front-end is the VMM here: the driver's control queue (queue
 * 2 * pairs of a vhost device whose GET_QUEUE_NUM counts pairs) stays in
 * the front-end, and each kick is answered at once, before notify returns.
 */
#ifndef CCDMA_VHOST_NET_CTRL_H
#define CCDMA_VHOST_NET_CTRL_H

#include <ccdma/dma.h>
#include <ccdma/virtio.h>
#include <stdbool.h>

struct vh_ctrl {
	bool started;
	unsigned num;
	struct ccdma_vq_layout l;
	uint16_t last_avail, used_idx;
	uint64_t commands, refused;
};

/* Turn rings of queue pair `pair` on or off (SET_VRING_ENABLE on the
 * rings started): 0 or a negative errno. */
typedef int (*vh_ctrl_enable_fn)(void *arg, unsigned pair, bool on);

/*
 * Answer every command posted on the control queue: VQ_PAIRS_SET with
 * 1..pairs pairs enables the first ones and disables the rest (through
 * `enable`) and answers VIRTIO_NET_OK; anything else, or a chain that is
 * not readable command bytes followed by one writable ack byte reachable
 * through `dev`, is answered VIRTIO_NET_ERR (or, with no ack byte to
 * write, a used length of 0).  Returns the number of commands answered.
 */
unsigned vh_net_ctrl_serve(struct vh_ctrl *c, struct ccdma_dev *dev,
			   unsigned pairs, vh_ctrl_enable_fn enable, void *arg);

#endif /* CCDMA_VHOST_NET_CTRL_H */
