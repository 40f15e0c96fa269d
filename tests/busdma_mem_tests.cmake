# busdma: bounce memory (ALLOCNOW, NOWAIT), sync, dmamem, isolation, checker, threads.
ccdma_add_test(busdma_nowait)
ccdma_add_test(busdma_allocnow)
ccdma_add_test(busdma_sync)
ccdma_add_test(busdma_dmamem)
ccdma_add_test(busdma_isolation)
ccdma_add_test(busdma_chk_postread)
ccdma_add_test(busdma_threads LABEL concurrency)
ccdma_add_test(busdma_strict)
