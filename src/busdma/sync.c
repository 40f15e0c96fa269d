/* SPDX-License-Identifier: MIT */
/*
 * bus_dmamap_sync: the copies between a transfer's memory and its bounce
 * memory, over any window of the transfer.
 *
 *   PREWRITE            memory -> bounce (the device will read)
 *   PREREAD             clear the bounce (the device will write; bytes it
 *                       does not write must not be an earlier transfer's)
 *   PREREAD|PREWRITE    memory -> bounce (covers the clearing)
 *   POSTREAD            bounce -> memory (the device wrote)
 *   POSTWRITE           nothing
 *
 * With the ownership checker on, the map remembers the PREREAD window that
 * no POSTREAD has covered yet; unloading with such a window is reported
 * (missing-postread): the device's data never reached the buffer.
 */
#include "busdma/busdma_internal.h"

#define PRE_OPS (CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_PREWRITE)
#define POST_OPS (CCDMA_BUS_DMASYNC_POSTREAD | CCDMA_BUS_DMASYNC_POSTWRITE)

/* Checker bookkeeping of the PREREAD window not yet POSTREAD. */
static void track_read(struct ccdma_bus_dmamap *m, size_t lo, size_t hi,
		       unsigned ops, const char *file, int line)
{
	if (ops & CCDMA_BUS_DMASYNC_PREREAD) {
		if (m->_dm_rd_hi <= m->_dm_rd_lo) {
			m->_dm_rd_lo = lo;
			m->_dm_rd_hi = hi;
		} else {
			if (lo < m->_dm_rd_lo)
				m->_dm_rd_lo = lo;
			if (hi > m->_dm_rd_hi)
				m->_dm_rd_hi = hi;
		}
		m->_dm_rd_file = file;
		m->_dm_rd_line = line;
	}
	if ((ops & CCDMA_BUS_DMASYNC_POSTREAD) && m->_dm_rd_hi > m->_dm_rd_lo) {
		/* Trim what this window covers from either end; a hole in
		 * the middle leaves the whole window pending. */
		if (lo <= m->_dm_rd_lo && hi >= m->_dm_rd_hi)
			m->_dm_rd_lo = m->_dm_rd_hi = 0;
		else if (lo <= m->_dm_rd_lo && hi > m->_dm_rd_lo)
			m->_dm_rd_lo = hi;
		else if (lo < m->_dm_rd_hi && hi >= m->_dm_rd_hi)
			m->_dm_rd_hi = lo;
	}
}

/* Copy (or clear) window [lo, hi) of the transfer for `ops`. */
static void sync_bounced(struct ccdma_bus_dma_tag *t, struct ccdma_bus_dmamap *m,
			 size_t lo, size_t hi, unsigned ops)
{
	size_t pos = 0, copied = 0;
	int i;

	for (i = 0; i < m->dm_nsegs && pos < hi; i++) {
		const ccdma_bus_dma_segment_t *s = &m->dm_segs[i];
		size_t end = pos + s->ds_len, a, n;

		if (end > lo && s->_ds_bounce_va) {
			a = (lo > pos ? lo : pos) - pos;
			n = (hi < end ? hi : end) - pos - a;
			if (ops & CCDMA_BUS_DMASYNC_PREWRITE)
				ccdma_memcpy((void *)(s->_ds_bounce_va + a),
					     (const void *)(s->_ds_va + a), n);
			else if (ops & CCDMA_BUS_DMASYNC_PREREAD)
				ccdma_memset((void *)(s->_ds_bounce_va + a), 0, n);
			else if (ops & CCDMA_BUS_DMASYNC_POSTREAD)
				ccdma_memcpy((void *)(s->_ds_va + a),
					     (const void *)(s->_ds_bounce_va + a), n);
			copied += n;
		}
		pos = end;
	}
	if (copied && (ops & (CCDMA_BUS_DMASYNC_PREWRITE | CCDMA_BUS_DMASYNC_POSTREAD)))
		ccdma_pool_count_copy(t->dev->pool, (ops & CCDMA_BUS_DMASYNC_PREWRITE) != 0,
				      copied);
}

int ccdma_bus_dmamap_sync_at(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
			     ccdma_bus_size_t off, ccdma_bus_size_t len, int ops,
			     const char *file, int line)
{
	unsigned o = (unsigned)ops;
	const char *why = NULL;

	if (unlikely(!t || !m || m->_dm_tag != t)) {
		ccdma_err("bus_dmamap_sync at %s:%d: NULL tag or map, or a map of "
			  "another tag", file ? file : "?", line);
		return EINVAL;
	}
	if (unlikely(!m->_dm_loaded))
		why = "the map is not loaded";
	else if (unlikely(!o || (o & ~(unsigned)(PRE_OPS | POST_OPS))))
		why = "ops is 0 or has unknown bits";
	else if (unlikely((o & PRE_OPS) && (o & POST_OPS)))
		why = "PRE and POST operations in one call (the device cannot "
		      "both be about to use the buffer and be done with it)";
	else if (unlikely(!len || off >= m->dm_mapsize || len > m->dm_mapsize - off))
		why = "the window is empty or outside the loaded transfer";
	if (unlikely(why != NULL)) {
		ccdma_err("dev %s: bus_dmamap_sync(%zu, %zu, ops %#x) at %s:%d: %s "
			  "(transfer of %zu bytes)", t->dev->name, off, len, o,
			  file ? file : "?", line, why, m->dm_mapsize);
		if (t->dev->dbg && m->_dm_loaded && len &&
		    (off >= m->dm_mapsize || len > m->dm_mapsize - off))
			ccdma_chk_report(CCDMA_DBG_SYNC_OUTSIDE, file, line,
					 m->_dm_load_file, m->_dm_load_line,
					 m->dm_nsegs ? m->dm_segs[0].ds_addr : 0, len,
					 "dev %s: bus_dmamap_sync window %zu+%zu outside "
					 "the %zu-byte transfer", t->dev->name, off, len,
					 m->dm_mapsize);
		return EINVAL;
	}
	/* Nothing bounced: nothing to copy (POSTWRITE never copies). */
	if (m->_dm_bounce && o != CCDMA_BUS_DMASYNC_POSTWRITE)
		sync_bounced(t, m, off, off + len, o);
	if (unlikely(t->dev->dbg))
		track_read(m, off, off + len, o, file, line);
	return 0;
}
