/* SPDX-License-Identifier: MIT */
/*
 * A BSD-style driver on ccdma's bus_dma(9) front-end (<ccdma/busdma.h>):
 * OpenBSD's and NetBSD's calls with a ccdma_ prefix, returning POSITIVE
 * errno values as BSD does.
 *
 * What it shows:
 *   - a root tag from the device and a child tag narrowed to the
 *     controller's scatter-gather limits (2 KiB segments, no segment
 *     crossing 4 KiB, at most 8 segments);
 *   - dmamem (ccdma_bus_dmamem_alloc / _map) for the command block the
 *     device reads and writes, read back ONCE into private memory;
 *   - a map created with ALLOCNOW (its bounce memory reserved up front, so
 *     loads never fail for lack of memory), loaded with an iovec;
 *   - the sync protocol: PREWRITE before the device reads, POSTWRITE after;
 *     PREREAD before it writes, POSTREAD after (the copy back).
 *
 * The device is a small disk controller played in this program through
 * the device-side accessor (ccdma_dev_read / ccdma_dev_write): it walks
 * the segments of map->dm_segs[] that the driver wrote into the command
 * block, by DMA address only.
 *
 * Build: cc bsd_driver.c $(pkg-config --cflags --libs ccdma)
 * Run:   ./bsd_driver          (exit 0: the data came back; 1: failure)
 */
#include <ccdma/busdma.h>
#include <stdio.h>
#include <string.h>

#define MAXSEGS 8
#define SECTOR 512

/* The controller's command block, in dmamem. */
struct cmd {
	uint32_t op;               /* 1 write to disk, 2 read from disk */
	uint32_t nsegs;
	uint64_t lba;
	struct { uint64_t addr; uint32_t len, pad; } sg[MAXSEGS];
	uint32_t status;           /* the device writes 1 when done */
};

static struct ccdma_dev *dev;
static unsigned char disk[64 * SECTOR]; /* the device's own storage */

/* ---- the device ------------------------------------------------------- */

static void device_doorbell(ccdma_bus_addr_t cmd_dma)
{
	struct cmd c;
	uint64_t pos;
	uint32_t i, ok = 1;

	if (ccdma_dev_read(dev, cmd_dma, &c, sizeof(c)) || c.nsegs > MAXSEGS)
		return;
	pos = c.lba * SECTOR;
	for (i = 0; i < c.nsegs && ok; i++) {
		if (pos + c.sg[i].len > sizeof(disk))
			ok = 0;
		else if (c.op == 1)
			ok = !ccdma_dev_read(dev, c.sg[i].addr, disk + pos, c.sg[i].len);
		else
			ok = !ccdma_dev_write(dev, c.sg[i].addr, disk + pos, c.sg[i].len);
		pos += c.sg[i].len;
	}
	c.status = ok ? 1 : 2;
	ccdma_dev_write(dev, cmd_dma + offsetof(struct cmd, status), &c.status,
			sizeof(c.status));
}

/* ---- the driver ------------------------------------------------------- */

struct softc {
	ccdma_bus_dma_tag_t tag, sgtag;
	ccdma_bus_dma_segment_t cmdseg;
	struct cmd *cmd;           /* dmamem: the device may change it */
	ccdma_bus_dmamap_t map;
};

static int xfer(struct softc *sc, uint32_t op, uint64_t lba, struct ccdma_iovec *iov,
		int iovcnt)
{
	ccdma_bus_dmamap_t m = sc->map;
	uint32_t status;
	int err, i;

	err = ccdma_bus_dmamap_load_iovec(sc->sgtag, m, iov, iovcnt, CCDMA_BUS_DMA_NOWAIT);
	if (err)
		return err;
	ccdma_bus_dmamap_sync(sc->sgtag, m, 0, m->dm_mapsize,
			      op == 1 ? CCDMA_BUS_DMASYNC_PREWRITE : CCDMA_BUS_DMASYNC_PREREAD);
	memset(sc->cmd, 0, sizeof(*sc->cmd));
	sc->cmd->op = op;
	sc->cmd->lba = lba;
	sc->cmd->nsegs = (uint32_t)m->dm_nsegs;
	for (i = 0; i < m->dm_nsegs; i++) {
		sc->cmd->sg[i].addr = m->dm_segs[i].ds_addr;
		sc->cmd->sg[i].len = (uint32_t)m->dm_segs[i].ds_len;
	}
	device_doorbell(sc->cmdseg.ds_addr);
	status = __atomic_load_n(&sc->cmd->status, __ATOMIC_ACQUIRE); /* once */
	ccdma_bus_dmamap_sync(sc->sgtag, m, 0, m->dm_mapsize,
			      op == 1 ? CCDMA_BUS_DMASYNC_POSTWRITE : CCDMA_BUS_DMASYNC_POSTREAD);
	printf("%s lba %llu: %zu bytes in %d segment(s)\n", op == 1 ? "write" : "read ",
	       (unsigned long long)lba, m->dm_mapsize, m->dm_nsegs);
	ccdma_bus_dmamap_unload(sc->sgtag, m);
	return status == 1 ? 0 : 5 /* EIO */;
}

static int attach(struct softc *sc)
{
	struct ccdma_bus_dma_tag_config sg = {
		.maxsegsz = 2048, .boundary = 4096, .nsegments = MAXSEGS,
	};
	ccdma_caddr_t kva;
	int rsegs, err;

	if ((err = ccdma_bus_dma_tag_create(dev, NULL, NULL, &sc->tag)) ||
	    (err = ccdma_bus_dma_tag_create(NULL, sc->tag, &sg, &sc->sgtag)))
		return err;
	if ((err = ccdma_bus_dmamem_alloc(sc->tag, sizeof(struct cmd), 64, 0, &sc->cmdseg,
					  1, &rsegs, CCDMA_BUS_DMA_NOWAIT)) ||
	    (err = ccdma_bus_dmamem_map(sc->tag, &sc->cmdseg, 1, sizeof(struct cmd), &kva,
					CCDMA_BUS_DMA_NOWAIT)))
		return err;
	sc->cmd = (struct cmd *)(void *)kva;
	return ccdma_bus_dmamap_create(sc->sgtag, MAXSEGS * 2048, MAXSEGS, 0, 0,
				       CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_ALLOCNOW,
				       &sc->map);
}

static void detach(struct softc *sc)
{
	ccdma_bus_dmamap_destroy(sc->sgtag, sc->map);
	ccdma_bus_dmamem_unmap(sc->tag, sc->cmd, sizeof(struct cmd));
	ccdma_bus_dmamem_free(sc->tag, &sc->cmdseg, 1);
	ccdma_bus_dma_tag_destroy(sc->sgtag);
	ccdma_bus_dma_tag_destroy(sc->tag);
}

int main(void)
{
	static unsigned char hdr[SECTOR], body[5 * SECTOR], back[6 * SECTOR];
	struct ccdma_iovec out[2] = { { hdr, sizeof(hdr) }, { body, sizeof(body) } };
	struct ccdma_iovec in[1] = { { back, sizeof(back) } };
	struct softc sc;
	int err;

	if (ccdma_dev_create(NULL, &dev))
		return 1;
	if ((err = attach(&sc)))
		return fprintf(stderr, "attach: error %d\n", err), 1;
	memset(hdr, 'H', sizeof(hdr));
	memset(body, 'B', sizeof(body));
	if ((err = xfer(&sc, 1, 3, out, 2)) || (err = xfer(&sc, 2, 3, in, 1)))
		return fprintf(stderr, "transfer: error %d\n", err), 1;
	if (memcmp(back, hdr, sizeof(hdr)) || memcmp(back + sizeof(hdr), body, sizeof(body)))
		return fprintf(stderr, "the data read back differs\n"), 1;
	detach(&sc);
	if (ccdma_dev_destroy(dev))
		return 1;
	printf("bsd_driver: ok\n");
	return 0;
}
