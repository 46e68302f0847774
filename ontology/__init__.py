"""The practicebank OWL ontology and SKOS concept schemes, as Turtle files.

Read them with ``importlib.resources.files("practicebank.ontology")``; see
``practicebank.resources`` for the helpers that do so.
"""
