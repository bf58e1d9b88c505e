"""Benchmarks that seed their own data and print figures (`python -m bench --help`)."""
