"""SHACL shapes that every load into practicebank is validated against (Turtle files)."""
