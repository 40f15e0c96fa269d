/* SPDX-License-Identifier: MIT */
/*
 * Loads with a callback, and FreeBSD's deferred loads: a load that finds
 * no bounce memory waits on the pool's deferred-request list
 * (ccdma_pool_defer) and is retried from the grower thread each time
 * memory comes back.
 *
 * A deferred load is a heap record the map points to (_dm_defer) while it
 * is pending.  Its state, and the map's pointer to it, change only under
 * the library's global lock (deferred loads are the slow path):
 *   WAITING    on the pool's list (or about to be put back on it);
 *   RUNNING    the grower thread is trying the load;
 *   CANCELLED  unload cancelled it.
 * Unload of a WAITING load lets go of it at once.  Unload of a RUNNING one
 * marks it CANCELLED and waits (the try never blocks and runs no user
 * code) until the grower thread has seen the mark, undone the load if it
 * succeeded, and let go of the map: the callback never runs.  If unload
 * took a cancelled record off the pool's list it frees it; otherwise the
 * grower thread holds it (or is about to put it back) and frees it when it
 * sees the state.  The grower frees a record only once the map no longer
 * points to it, so unload never reaches a freed record.
 */
#include "busdma/busdma_internal.h"

enum { D_WAITING = 0, D_RUNNING, D_CANCELLED };

struct deferred_load {
	struct ccdma_pool_waiter w;   /* w.arg is this record */
	struct ccdma_bus_dma_tag *t;
	struct ccdma_bus_dmamap *m;
	void *buf;
	size_t len;
	int flags;
	ccdma_bus_dmamap_callback_t cb;
	void *cbarg;
	const char *file;
	int line;
	int state;                    /* D_* (global lock) */
};

/* The load itself, NOWAIT; the retry of a deferred load passes `retry` so
 * that the map's pending mark does not refuse it. */
static int try_load(struct deferred_load *dl, bool retry)
{
	return ccdma_busdma_load_linear(dl->t, dl->m, dl->buf, dl->len,
					dl->flags | CCDMA_BUS_DMA_NOWAIT, retry,
					"bus_dmamap_load_cb", dl->file, dl->line);
}

/* The callback, with the segments of a load that succeeded (read from
 * the map by the thread that loaded it, before the map was let go: a
 * deferred load's map may be unloaded by the driver from then on). */
static void call_back(struct deferred_load *dl, int rc,
		      ccdma_bus_dma_segment_t *segs, int nseg)
{
	if (rc)
		dl->cb(dl->cbarg, NULL, 0, rc);
	else
		dl->cb(dl->cbarg, segs, nseg, 0);
}

static void finish(struct deferred_load *dl, int rc)
{
	call_back(dl, rc, dl->m->dm_segs, dl->m->dm_nsegs);
}

/* The grower thread: memory came back since the load was deferred. */
static void retry(void *arg)
{
	struct deferred_load *dl = arg;
	struct ccdma_bus_dmamap *m = dl->m;
	ccdma_bus_dma_segment_t *segs;
	int rc, nseg;

	ccdma_os_global_lock();
	if (dl->state == D_CANCELLED) {
		ccdma_os_global_unlock();
		ccdma_os_free(dl);     /* the map let go of it */
		return;
	}
	dl->state = D_RUNNING;
	ccdma_os_global_unlock();
	rc = try_load(dl, true);
	if (rc == 0)
		/* The load filled this thread's slot cache with more than it
		 * took; the grower allocates nothing else, so give those back
		 * now, before the driver goes on. */
		ccdma_pool_thread_flush(dl->t->dev->pool);
	ccdma_os_global_lock();
	if (dl->state == D_CANCELLED) {
		/* Unload came while we tried: it waits for us to let go. */
		ccdma_os_global_unlock();
		if (rc == 0) {
			ccdma_busdma_unload_loaded(dl->t, m, dl->file, dl->line);
			ccdma_pool_thread_flush(dl->t->dev->pool);
		}
		ccdma_dbg("dev %s: bus_dmamap_load_cb at %s:%d: deferred load "
			  "cancelled while it was tried", dl->t->dev->name,
			  dl->file ? dl->file : "?", dl->line);
		ccdma_os_free(dl);
		__atomic_store_n(&m->_dm_defer, NULL, __ATOMIC_RELEASE);
		return;
	}
	if (rc == ENOMEM) {
		/* Still nothing that fits: wait for the next memory. */
		dl->state = D_WAITING;
		ccdma_os_global_unlock();
		ccdma_pool_defer(dl->t->dev->pool, &dl->w);
		return;
	}
	segs = m->dm_segs;
	nseg = m->dm_nsegs;
	__atomic_store_n(&m->_dm_defer, NULL, __ATOMIC_RELEASE);
	ccdma_os_global_unlock();
	ccdma_dbg("dev %s: bus_dmamap_load_cb at %s:%d: deferred load of %zu "
		  "bytes %s", dl->t->dev->name, dl->file ? dl->file : "?",
		  dl->line, dl->len, rc ? "failed" : "done");
	call_back(dl, rc, segs, nseg);
	ccdma_os_free(dl);
}

int ccdma_bus_dmamap_load_cb_at(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
				void *buf, ccdma_bus_size_t buflen,
				ccdma_bus_dmamap_callback_t cb, void *cbarg,
				int flags, const char *file, int line)
{
	struct deferred_load one = {
		.t = t, .m = m, .buf = buf, .len = buflen, .flags = flags,
		.cb = cb, .cbarg = cbarg, .file = file, .line = line,
	}, *dl;
	int rc;

	if (!t || !m || m->_dm_tag != t || !buf || !cb) {
		ccdma_err("bus_dmamap_load_cb at %s:%d: NULL tag, map, buffer or "
			  "callback, or a map of another tag", file ? file : "?",
			  line);
		return EINVAL;
	}
	rc = try_load(&one, false);
	if (rc != ENOMEM || (flags & CCDMA_BUS_DMA_NOWAIT)) {
		finish(&one, rc);
		return rc;
	}
	dl = ccdma_os_calloc(1, sizeof(*dl));
	if (!dl) {
		finish(&one, ENOMEM);
		return ENOMEM;
	}
	*dl = one;
	dl->w.fn = retry;
	dl->w.arg = dl;
	dl->w.size = buflen;
	dl->state = D_WAITING;
	__atomic_store_n(&m->_dm_defer, dl, __ATOMIC_RELEASE);
	if (ccdma_pool_defer(t->dev->pool, &dl->w)) {
		/* Cannot happen with a valid pool and waiter. */
		m->_dm_defer = NULL;
		ccdma_os_free(dl);
		finish(&one, ENOMEM);
		return ENOMEM;
	}
	ccdma_dbg("dev %s: bus_dmamap_load_cb at %s:%d: %zu bytes deferred until "
		  "bounce memory is free", t->dev->name, file ? file : "?", line,
		  buflen);
	return EINPROGRESS;
}

int ccdma_busdma_defer_cancel(struct ccdma_bus_dma_tag *t,
			      struct ccdma_bus_dmamap *m, const char *file,
			      int line)
{
	struct deferred_load *dl;
	const char *dfile;
	unsigned spins = 0;
	bool running;
	int dline;

	ccdma_os_global_lock();
	dl = m->_dm_defer;
	if (!dl) {
		/* Completed since the caller looked: an ordinary unload. */
		ccdma_os_global_unlock();
		return ENOENT;
	}
	dfile = dl->file ? dl->file : "?";
	dline = dl->line;
	running = dl->state == D_RUNNING;
	dl->state = D_CANCELLED;
	if (!running)
		__atomic_store_n(&m->_dm_defer, NULL, __ATOMIC_RELEASE);
	ccdma_os_global_unlock();
	if (running) {
		/* The grower thread is trying the load; it lets go of the map
		 * (undoing the load) and frees the record as soon as it is
		 * done.  Nothing there blocks. */
		while (__atomic_load_n(&m->_dm_defer, __ATOMIC_ACQUIRE)) {
			if (++spins < 1000)
				ccdma_cpu_relax();
			else
				ccdma_os_sleep_ns(10000);
		}
	} else if (ccdma_pool_defer_cancel(t->dev->pool, &dl->w) == 0) {
		/* Off the list: ours to free.  Otherwise the grower thread has
		 * taken it and frees it when it sees CANCELLED. */
		ccdma_os_free(dl);
	}
	ccdma_dbg("dev %s: bus_dmamap_unload at %s:%d: deferred load (at %s:%d) "
		  "cancelled", t->dev->name, file ? file : "?", line, dfile, dline);
	return 0;
}
