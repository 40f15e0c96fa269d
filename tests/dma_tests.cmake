# dma layer: devices, translations, streaming, coherent memory, chunk lists.
