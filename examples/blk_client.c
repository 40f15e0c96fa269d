/* SPDX-License-Identifier: MIT */
/*
 * A virtio-blk client in ten lines: connect to a vhost-user-blk device
 * process (ccdma-devsim, qemu-storage-daemon) on the socket named on the
 * command line, write 64 KiB from private memory, read it back, compare.
 * In confidential mode (the default) both transfers are bounced through
 * the pool's shared memory: the device process is never sent this
 * program's private memory.
 *
 * Build: cc blk_client.c $(pkg-config --cflags --libs ccdma)
 * Run:   ccdma-devsim --socket /tmp/blk.sock --once &
 *        ./blk_client /tmp/blk.sock          (exit 0: the data came back)
 */
#include <ccdma/vhost.h>
#include <ccdma/virtio_blk.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	static char out[65536], in[65536];
	struct ccdma_vhost_config vc;
	struct ccdma_vhost *h;
	struct ccdma_vblk *blk;
	int rc;

	if (argc != 2)
		return fprintf(stderr, "usage: blk_client SOCKET\n"), 2;
	ccdma_vhost_config_init(&vc);
	vc.socket_path = argv[1];
	if ((rc = ccdma_vhost_connect(&vc, &h)))
		return fprintf(stderr, "connect: %s\n", strerror(-rc)), 1;
	if ((rc = ccdma_vblk_create(ccdma_vhost_transport(h), NULL, &blk)))
		return fprintf(stderr, "vblk_create: %s\n", strerror(-rc)), 1;
	memset(out, 0xa5, sizeof(out));
	rc = ccdma_vblk_write(blk, 0, out, sizeof(out));
	if (!rc)
		rc = ccdma_vblk_read(blk, 0, in, sizeof(in));
	ccdma_vblk_destroy(blk);
	ccdma_vhost_close(h);
	if (rc || memcmp(in, out, sizeof(in)))
		return fprintf(stderr, "I/O failed: %s\n", rc ? strerror(-rc) : "data differs"), 1;
	printf("blk_client: 64 KiB written and read back\n");
	return 0;
}
