"""Readers and converters: CSV, JSON and RDF input turned into triples, and the load pipeline.

They build on the core (:mod:`practicebank.store`, :mod:`practicebank.formats`,
:mod:`practicebank.validation`, …) and never on the endpoint or the CLI.
"""
