# busdma: bounce memory (ALLOCNOW, NOWAIT), sync, dmamem, isolation, checker, threads.
