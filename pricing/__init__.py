"""Products, list and tier prices, special price requests."""
