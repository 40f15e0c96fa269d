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
 * With the ownership checker on, the map remembers the PREREAD windows that
 * no POSTREAD has covered yet; unloading with such a window is reported
 * (missing-postread): the device's data never reached the buffer.
 */
#include "busdma/busdma_internal.h"

#define PRE_OPS (CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_PREWRITE)
#define POST_OPS (CCDMA_BUS_DMASYNC_POSTREAD | CCDMA_BUS_DMASYNC_POSTWRITE)

/*
 * Checker bookkeeping: the PREREAD windows no POSTREAD has covered yet,
 * kept exactly as disjoint intervals, in the map's four inline slots and,
 * when more are pending, in an array that doubles as needed (the checker
 * is a debugging aid; a map keeps its array until it is destroyed).  Only
 * when that array cannot grow (out of memory) are two neighbours joined,
 * or a POSTREAD that would split an interval leaves it whole: both err
 * towards reporting, never towards silence.
 */
static bool rd_room(struct ccdma_bus_dmamap *m)
{
	ccdma_bus_size_t (*a)[2];
	int cap;

	if (m->_dm_rd_n < m->_dm_rd_cap)
		return true;
	cap = m->_dm_rd_cap * 2;
	a = ccdma_os_calloc((size_t)cap, sizeof(a[0]));
	if (!a)
		return false;
	ccdma_memcpy(a, m->_dm_rd, (size_t)m->_dm_rd_n * sizeof(a[0]));
	if (m->_dm_rd != m->_dm_rd_inl)
		ccdma_os_free(m->_dm_rd);
	m->_dm_rd = a;
	m->_dm_rd_cap = cap;
	return true;
}

static void rd_remove(struct ccdma_bus_dmamap *m, int i)
{
	m->_dm_rd_n--;
	m->_dm_rd[i][0] = m->_dm_rd[m->_dm_rd_n][0];
	m->_dm_rd[i][1] = m->_dm_rd[m->_dm_rd_n][1];
}

static void rd_add(struct ccdma_bus_dmamap *m, size_t lo, size_t hi)
{
	size_t gap, best_gap = SIZE_MAX;
	int i, best = 0;

	for (i = 0; i < m->_dm_rd_n;) {
		size_t a = m->_dm_rd[i][0], b = m->_dm_rd[i][1];

		if (b >= lo && a <= hi) {
			lo = a < lo ? a : lo;
			hi = b > hi ? b : hi;
			rd_remove(m, i);
			i = 0;      /* the union may now touch another */
		} else {
			i++;
		}
	}
	if (!rd_room(m)) {
		for (i = 0; i < m->_dm_rd_n; i++) {
			gap = m->_dm_rd[i][0] > hi ? m->_dm_rd[i][0] - hi :
			      lo - m->_dm_rd[i][1];
			if (gap < best_gap) {
				best_gap = gap;
				best = i;
			}
		}
		lo = m->_dm_rd[best][0] < lo ? m->_dm_rd[best][0] : lo;
		hi = m->_dm_rd[best][1] > hi ? m->_dm_rd[best][1] : hi;
		rd_remove(m, best);
		rd_add(m, lo, hi);
		return;
	}
	m->_dm_rd[m->_dm_rd_n][0] = lo;
	m->_dm_rd[m->_dm_rd_n][1] = hi;
	m->_dm_rd_n++;
}

static void rd_sub(struct ccdma_bus_dmamap *m, size_t lo, size_t hi)
{
	int i, n = m->_dm_rd_n;

	for (i = 0; i < n;) {
		size_t a = m->_dm_rd[i][0], b = m->_dm_rd[i][1];

		if (hi <= a || lo >= b) {
			i++;
		} else if (lo <= a && hi >= b) {
			rd_remove(m, i);
			n--;
		} else if (lo <= a) {
			m->_dm_rd[i++][0] = hi;
		} else if (hi >= b) {
			m->_dm_rd[i++][1] = lo;
		} else if (rd_room(m)) {
			m->_dm_rd[i++][1] = lo;
			m->_dm_rd[m->_dm_rd_n][0] = hi;
			m->_dm_rd[m->_dm_rd_n][1] = b;
			m->_dm_rd_n++;
		} else {
			i++;
		}
	}
}

static void track_read(struct ccdma_bus_dmamap *m, size_t lo, size_t hi,
		       unsigned ops, const char *file, int line)
{
	if (ops & CCDMA_BUS_DMASYNC_PREREAD) {
		rd_add(m, lo, hi);
		m->_dm_rd_file = file;
		m->_dm_rd_line = line;
	}
	if (ops & CCDMA_BUS_DMASYNC_POSTREAD)
		rd_sub(m, lo, hi);
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
				ccdma_copy_to_device((void *)(s->_ds_bounce_va + a),
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
		ccdma_dev_bounced(t->dev, (ops & CCDMA_BUS_DMASYNC_PREWRITE) != 0,
				  m->dm_mapsize, copied);
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
					 "loaded at", m->_dm_load_file, m->_dm_load_line,
					 NULL, 0, m->dm_nsegs ? m->dm_segs[0].ds_addr : 0,
					 m->dm_mapsize,
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
