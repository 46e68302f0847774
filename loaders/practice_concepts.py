"""Values of a practice's controlled columns, linked to SKOS concepts or reported.

A value is found by any label or the notation of a concept in the bundled vocabularies. For
the schemes whose notations the model fixes (docs/model-v2-spec.md) it is also found by its
slug, so a file may use such a concept before the vocabularies list it. A value the source
hedges ("Possibly …") or that maps to no concept is not recorded: it is reported with the
values that would have been understood, so the person fixing the file knows what to write.
"""

from __future__ import annotations

from rdflib import URIRef

from practicebank.namespaces import PB, concept, slugify
from practicebank.problems import WARNING

from .concepts import clean, is_hedged
from .practice_cells import SLUG
from .practice_file import PracticeFile

#: The notations the model fixes, used when the bundled vocabularies do not list a scheme's
#: concept yet; labels are still matched through the vocabularies.
FIXED_NOTATIONS = {
    "participation-role": ("lead", "co-lead", "partner", "funder", "evaluator",
                           "commissioner", "delivery"),
    "award-outcome": ("winner", "runner-up", "commended", "finalist", "shortlisted", "entry"),
    "tilley-category": ("crime-and-disorder-reduction", "organisational-support",
                        "partnership"),
    "inspection-programme": ("peel", "thematic", "spotlight"),
    "source-kind": ("primary", "secondary"),
}


def find_concept(file: PracticeFile, scheme_name: str, value: str) -> URIRef | None:
    """A concept of ``scheme_name`` by label or notation; failing that, for the schemes
    whose notations the model fixes, by the slug of the value."""
    found = file.concepts.find(scheme_name, value)
    if found is None and slugify(clean(value)) in FIXED_NOTATIONS.get(scheme_name, ()):
        found = concept(scheme_name, slugify(clean(value)))
    return found


def known_values(file: PracticeFile, scheme_name: str) -> str:
    """The values a scheme understands, for the message about one it does not."""
    return "; ".join(file.concepts.labels(scheme_name) or FIXED_NOTATIONS.get(scheme_name, ()))


def link_concept(file: PracticeFile, n: int, subject: URIRef, prop: URIRef, scheme_name: str,
                 fieldname: str, value: str) -> URIRef | None:
    """``subject prop concept`` for the concept ``value`` names; None (reported) if the
    value is hedged or names none."""
    if is_hedged(value):
        file.problem(WARNING, f"\"{value}\" is uncertain in the source; not recorded.",
                     n, fieldname, value, subject)
        return None
    found = find_concept(file, scheme_name, value)
    if found is None:
        file.problem(WARNING, f"\"{value}\" maps to no concept of the {scheme_name} scheme; "
                     f"not recorded. Known values: {known_values(file, scheme_name)}.", n,
                     fieldname, value, subject)
        return None
    file.triples.add((subject, prop, found))
    return found


def fact_concept(file: PracticeFile, n: int, scheme_name: str, fieldname: str,
                 value: str | None, practice: URIRef) -> URIRef | None:
    """The concept a fact's value names (a role, an award outcome, …), for the caller to
    state; None when the value is absent, None (reported) when it names none."""
    if value is None:
        return None
    found = find_concept(file, scheme_name, value)
    if found is None:
        file.problem(WARNING, f"\"{value}\" maps to no concept of the {scheme_name} "
                     f"scheme; not recorded. Known values: {known_values(file, scheme_name)}.",
                     n, fieldname, value, practice)
    return found


def link_intervention_type(file: PracticeFile, n: int, practice: URIRef, value: str) -> None:
    """``pb:interventionType``: a concept of the intervention-type scheme by label or
    notation. A slug the bundled vocabularies do not list is linked as it is, for the
    store to describe (the Crime Reduction Toolkit corpus); validation checks it."""
    found = file.concepts.find("intervention-type", value)
    if found is None and SLUG.match(value.strip()):
        found = concept("intervention-type", value.strip())
    if found is None:
        file.problem(WARNING, f"\"{value}\" is not an intervention type we know; write its "
                     "slug (e.g. improved-street-lighting) or its label. Not recorded.",
                     n, "intervention_type", value, practice)
        return
    file.triples.add((practice, PB.interventionType, found))
