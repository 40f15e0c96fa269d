# busdma: tags, segment construction, loads, edge cases.
ccdma_add_test(busdma_segs)
ccdma_add_test(busdma_tag)
ccdma_add_test(busdma_efbig)
ccdma_add_test(busdma_edge)
ccdma_add_test(busdma_badargs)
