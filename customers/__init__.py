"""End customers: master data, name matching and region data, the gram index of names, and
who may see which customer (deals and leads both use it)."""
