# dma layer: the ownership checker, one deliberately buggy driver per report.
