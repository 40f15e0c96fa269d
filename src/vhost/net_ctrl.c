/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net control queue served by the vhost-user front-end
 * (net_ctrl.h).  The ring is the driver's: in-process, but read like any
 * device reads a ring, through the dma layer's device accessor, and never
 * trusted further than that.
 */
#include "vhost/net_ctrl.h"

#include "platform/os.h"
#include "virtio/virtio_ring.h"

#define CTRL_MQ 4u
#define CTRL_MQ_VQ_PAIRS_SET 0u
#define NET_OK 0u
#define NET_ERR 1u
#define CMD_MAX 64u

/* One chain: its readable bytes (up to CMD_MAX) into cmd, the writable
 * byte that follows them into *ack.  0, or -1 when malformed. */
static int read_chain(struct vh_ctrl *c, struct ccdma_dev *dev, unsigned head,
		      uint8_t *cmd, uint32_t *cmd_len, uint8_t **ack)
{
	const struct ccdma_vring_desc *ring = c->l.desc;
	unsigned i = head, n = 0;

	*cmd_len = 0;
	*ack = NULL;
	for (;;) {
		struct ccdma_vring_desc d;
		uint16_t flags;
		uint32_t len;
		void *p;

		if (i >= c->num || ++n > c->num)
			return -1;
		ccdma_memcpy(&d, &ring[i], sizeof(d));
		flags = ccdma_le16_to_cpu(d.flags);
		len = ccdma_le32_to_cpu(d.len);
		if (!len || (flags & CCDMA_VRING_DESC_F_INDIRECT) || *ack ||
		    ccdma_dev_access(dev, ccdma_le64_to_cpu(d.addr), len,
				     flags & CCDMA_VRING_DESC_F_WRITE ?
				     CCDMA_ACCESS_WRITE : CCDMA_ACCESS_READ, &p))
			return -1;
		if (flags & CCDMA_VRING_DESC_F_WRITE) {
			*ack = p;
		} else {
			uint32_t take = len < CMD_MAX - *cmd_len ? len :
					CMD_MAX - *cmd_len;

			ccdma_memcpy(cmd + *cmd_len, p, take);
			*cmd_len += take;
		}
		if (!(flags & CCDMA_VRING_DESC_F_NEXT))
			break;
		i = ccdma_le16_to_cpu(d.next);
	}
	return *ack && *cmd_len >= 2 ? 0 : -1;
}

static uint8_t run(const uint8_t *cmd, uint32_t len, unsigned pairs,
		   vh_ctrl_enable_fn enable, void *arg)
{
	unsigned want, i;

	if (cmd[0] != CTRL_MQ || cmd[1] != CTRL_MQ_VQ_PAIRS_SET || len < 4)
		return NET_ERR;
	want = (unsigned)cmd[2] | (unsigned)cmd[3] << 8;
	if (want < 1 || want > pairs)
		return NET_ERR;
	for (i = 0; i < pairs; i++)
		if (enable(arg, i, i < want))
			return NET_ERR;
	return NET_OK;
}

unsigned vh_net_ctrl_serve(struct vh_ctrl *c, struct ccdma_dev *dev,
			   unsigned pairs, vh_ctrl_enable_fn enable, void *arg)
{
	struct ccdma_vring_avail *avail = c->l.avail;
	struct ccdma_vring_used *used = c->l.used;
	uint16_t end;
	unsigned done = 0;

	if (!c->started)
		return 0;
	end = ccdma_vring_ld16(&avail->idx, __ATOMIC_ACQUIRE);
	while (c->last_avail != end && done < c->num) {
		uint16_t head = ccdma_vring_ld16(&avail->ring[c->last_avail % c->num],
						 __ATOMIC_RELAXED);
		uint8_t cmd[CMD_MAX], *ack, r = NET_ERR;
		uint32_t len, wrote = 0;
		struct ccdma_vring_used_elem *e;

		c->last_avail++;
		if (read_chain(c, dev, head, cmd, &len, &ack) == 0) {
			r = run(cmd, len, pairs, enable, arg);
			*ack = r;
			wrote = 1;
		}
		c->commands++;
		if (r != NET_OK)
			c->refused++;
		e = &used->ring[c->used_idx % c->num];
		e->id = ccdma_cpu_to_le32(head);
		e->len = ccdma_cpu_to_le32(wrote);
		c->used_idx++;
		ccdma_vring_st16(&used->idx, c->used_idx, __ATOMIC_RELEASE);
		done++;
	}
	return done;
}
