"""Bundled reference data (police forces, regions) and the converted sample practices."""
