"""Partners, tier policies, stock commitments and orders, partner signals."""
