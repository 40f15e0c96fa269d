# busdma: tags, segment construction, loads, edge cases.
