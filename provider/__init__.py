"""Processing provider: the generic task algorithm, the GP type table, connections, cache."""
