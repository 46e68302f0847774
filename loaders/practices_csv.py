"""Convert practice-bank records in CSV to RDF.

Accepts the columns of the sample file (``title, does_it_work, purpose_focus, …``) and the
headings of the practice-bank listing (``Title | Summary | Does it work? | Focus | Purpose |
Organisation``); see ``COLUMNS`` and docs/loading.md. Real records are messy: placeholders
such as "(blank in listing)" or "(n/a)" mean absent, values carry notes in brackets, several
values share a cell separated by ";". A value in a controlled column that maps to no concept
is reported with its row and column: an error for the rating, a warning elsewhere. Personal
data columns (contact, e-mail, telephone) are dropped with a warning.

Version 2 of the columns (all optional, so a version 1 file reads as before) adds dated
ratings with their assessor and history, recognitions with their facts (Tilley year,
category and outcome; STAR Fund round and amount; HMICFRS report; smarter-practice review),
participation with roles, the intervention type, the cost, and links between practices.
Every organisation named takes part through a ``prov:Attribution`` with its roles, beside
the ``pb:organisation``/``pb:partner`` shortcuts; links that the model declares symmetric or
inverse are written both ways.

This module reads the file: headings to fields, rows to practices, and the plain fields of a
practice. Each other concern has its own module, writing through one
:class:`~.practice_file.PracticeFile`: :mod:`.practice_ratings`,
:mod:`.practice_recognitions`, :mod:`.participation`, :mod:`.practice_links`,
:mod:`.practice_money`, :mod:`.practice_notes`, :mod:`.practice_dates` and
:mod:`.practice_concepts`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF

from practicebank.namespaces import ID, PB, SCHEMA, concept, slugify
from practicebank.problems import ERROR, WARNING, Problem
from practicebank.resources import VOCABULARIES, bundle_graph

from .concepts import ConceptIndex, as_values, bundled_index, clean, is_absent
from .conversion import Conversion
from .organisations import OrganisationIndex, bundled_organisations
from .participation import add_participation
from .practice_cells import COLLEGE_PAGE, WEB_ADDRESS, json_text
from .practice_concepts import FIXED_NOTATIONS, link_concept, link_intervention_type
from .practice_dates import add_practice_date, parse_date
from .practice_file import PracticeFile
from .practice_links import PracticeLinks
from .practice_money import add_cost
from .practice_notes import add_note_facts
from .practice_ratings import add_ratings
from .practice_recognitions import add_recognitions, recognition_classes
from .practice_resources import add_resources

#: Our field -> the headings it may have in a file (compared after ``heading_key``).
COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "rating": ("does_it_work", "rating"),
    "purpose": ("purpose_focus", "purpose", "focus"),
    "organisation": ("organisation", "organization"),
    "topics": ("topics", "topic"),
    "stage": ("stage_of_practice", "stage"),
    "recognition": ("recognised_practice", "recognized_practice", "recognition"),
    "region": ("region",),
    "scale": ("scale_of_initiative", "scale"),
    "target_group": ("target_group", "target_groups"),
    "partners": ("partners", "partner_types"),
    "partner_organisations": ("partner_organisations", "partner_organizations"),
    "source_url": ("source_url", "source_urls", "url"),
    "source_type": ("source_type",),
    "summary": ("summary_paraphrase", "summary"),
    "also_known_as": ("also_known_as", "alternative_name"),
    "start_date": ("start_date",),
    "completion_date": ("completion_date", "end_date"),
    "first_published": ("first_published",),
    "notes": ("notes",),
    # -- version 2 ------------------------------------------------------------------------
    "rating_date": ("rating_date", "rated_on", "assessment_date"),
    "rated_by": ("rated_by", "assessed_by"),
    "ratings": ("ratings", "rating_history"),
    "lead_organisations": ("lead_organisations", "lead_organizations", "lead_organisation",
                           "lead_organization"),
    "intervention_type": ("intervention_type", "intervention_types"),
    "cost_gbp": ("cost_gbp",),
    "cost_covers": ("cost_covers",),
    "cost_period": ("cost_period",),
    "resources": ("resources", "resources_used"),
    "tilley_year": ("tilley_year",),
    "tilley_category": ("tilley_category",),
    "tilley_outcome": ("tilley_outcome",),
    "star_round": ("star_round", "star_fund_round"),
    "star_amount_gbp": ("star_amount_gbp", "star_amount"),
    "hmicfrs_report_title": ("hmicfrs_report_title",),
    "hmicfrs_report_url": ("hmicfrs_report_url",),
    "hmicfrs_report_date": ("hmicfrs_report_date",),
    "hmicfrs_programme": ("hmicfrs_programme", "hmicfrs_program"),
    "review_date": ("review_date",),
    "reviewed_by": ("reviewed_by",),
    "adapted_from": ("adapted_from",),
    "replicates": ("replicates",),
    "same_intervention_as": ("same_intervention_as",),
    "succeeded_by": ("succeeded_by",),
    "succeeds": ("succeeds",),
}
#: Headings that carry personal data: never read, reported once per file.
PERSONAL_COLUMNS = frozenset(
    {"contact", "contact_name", "email", "email_address", "e_mail", "phone", "telephone"}
)
REQUIRED = frozenset({"title"})

#: Controlled fields: (our field, property, concept scheme).
MULTI_VALUED = (
    ("purpose", PB.purpose, "purpose"),
    ("topics", PB.topic, "topic"),
    ("target_group", PB.targetGroup, "target-group"),
    ("partners", PB.partnerType, "partner-type"),
)
SINGLE_VALUED = (
    ("stage", PB.stage, "stage"),
    ("scale", PB.scale, "scale"),
    ("region", PB.region, "region"),
)
#: A practice's own dates: (our field, property).
PRACTICE_DATES = (
    ("start_date", PB.startDate),
    ("completion_date", PB.endDate),
    ("first_published", DCTERMS.issued),
)


def heading_key(heading: str) -> str:
    """"Does it work?" -> "does_it_work"."""
    return re.sub(r"[^a-z0-9]+", "_", heading.casefold()).strip("_")


def map_headings(headings: Iterable[str]) -> dict[str, str]:
    """Our field -> the file's heading, for the headings we know."""
    found: dict[str, str] = {}
    keys = {heading_key(h): h for h in headings}
    for fieldname, accepted in COLUMNS.items():
        for key in accepted:
            if key in keys:
                found.setdefault(fieldname, keys[key])
                break
    return found



class PracticeConverter:
    """Turns one file's rows (or JSON records) into practices; keeps the problems it meets."""

    def __init__(
        self,
        *,
        file: str,
        concepts: ConceptIndex | None = None,
        organisations: OrganisationIndex | None = None,
        vocabularies: Graph | None = None,
    ) -> None:
        self.file = PracticeFile(file, concepts or bundled_index(),
                                 organisations or bundled_organisations())
        vocab = vocabularies if vocabularies is not None else bundle_graph(VOCABULARIES)
        self.recognition_classes = recognition_classes(vocab)
        self.out = self.file.out
        #: practice slug -> the row that took it, so that a second row cannot.
        self.slugs: dict[str, int] = {}
        self.links = PracticeLinks(self.file)

    # -- the file ------------------------------------------------------------------------

    def convert(self, headings: list[str], rows: Iterable[Mapping[str, str]],
                graph_name: str) -> Conversion:
        """A CSV file's rows (from ``csv.DictReader``), numbered from 2 after the headings."""
        self.file.columns = columns = map_headings(headings)
        for heading in headings:
            if heading_key(heading) in PERSONAL_COLUMNS:
                self.out.problems.append(Problem(
                    WARNING,
                    f"Column \"{heading}\" holds personal data; it was dropped and not stored.",
                    self.file.name, None, heading,
                ))
        self.out.describe_dataset(graph_name, "Crime-reduction practices")
        for number, row in enumerate(rows, start=2):
            values = {f: row.get(h) for f, h in columns.items()}
            self.convert_row(number, values)
        self.finish()
        return self.out

    def convert_records(self, records: Iterable[tuple[int, Mapping[str, object]]],
                        graph_name: str) -> Conversion:
        """Records already keyed by our field names (JSON), numbered as the caller counts."""
        self.file.columns = {name: name for name in COLUMNS}
        self.out.describe_dataset(graph_name, "Crime-reduction practices")
        for number, record in records:
            values = {key: value if isinstance(value, list | dict) else json_text(value)
                      for key, value in record.items()}
            self.convert_row(number, values)
        self.finish()
        return self.out

    def finish(self) -> None:
        """What needs every row first: links to practices named by title or slug."""
        self.links.resolve()

    # -- one row -------------------------------------------------------------------------

    def convert_row(self, n: int, v: Mapping[str, object]) -> None:
        """One practice from ``v`` (our field names; CSV cells or JSON values)."""
        file = self.file
        g = file.triples
        title = None if is_absent(v.get("title")) else (v.get("title") or "").strip()
        urls = self.source_urls(n, v.get("source_url"))
        page_slug = next((m.group(1) for u in urls if (m := COLLEGE_PAGE.match(u))), None)
        slug = page_slug or (slugify(title) if title else f"untitled-row-{n}")
        if slug in self.slugs:
            file.problem(ERROR, f"Practice id \"{slug}\" is already used by row "
                         f"{self.slugs[slug]}; give each practice its own title or page URL.",
                         n, "title", title or "")
            return
        self.slugs[slug] = n
        if title:
            self.links.add_title(title, slug)
        practice = ID[f"practice/{slug}"]
        self.out.add_row(practice, n)
        g.add((practice, RDF.type, PB.Practice))
        g.add((practice, DCTERMS.identifier, Literal(slug)))
        if title:
            g.add((practice, DCTERMS.title, Literal(title, lang="en")))
        if not is_absent(v.get("summary")):
            g.add((practice, DCTERMS.abstract, Literal(v["summary"].strip(), lang="en")))
        for url in urls:
            g.add((practice, PROV.wasDerivedFrom, URIRef(url)))
        if page_slug:
            college = [u for u in urls if COLLEGE_PAGE.match(u)][0]
            path = college.split("/support-forces/practices/", 1)[1]
            g.add((practice, SCHEMA.url,
                   URIRef("https://www.college.police.uk/support-forces/practices/" + path)))
        if kind := (v.get("source_type") or "").split(":")[0].strip().lower():
            if kind in FIXED_NOTATIONS["source-kind"]:
                g.add((practice, PB.sourceKind, concept("source-kind", kind)))

        add_ratings(file, n, practice, slug, v, urls)
        for fieldname, prop, scheme_name in MULTI_VALUED:
            for value in as_values(v.get(fieldname)):
                link_concept(file, n, practice, prop, scheme_name, fieldname, value)
        for fieldname, prop, scheme_name in SINGLE_VALUED:
            value = v.get(fieldname)
            if not is_absent(value):
                link_concept(file, n, practice, prop, scheme_name, fieldname, value.strip())
        if v.get("intervention_type"):
            for value in as_values(v["intervention_type"]):
                link_intervention_type(file, n, practice, value)
        add_recognitions(file, n, practice, slug, v, urls, self.recognition_classes)
        if not is_absent(v.get("notes")):
            add_note_facts(file, n, practice, v["notes"])
        add_participation(file, n, practice, slug, v)
        for name in as_values(v.get("also_known_as")):
            g.add((practice, SCHEMA.alternateName, Literal(name, lang="en")))
        for fieldname, prop in PRACTICE_DATES:
            if not is_absent(v.get(fieldname)):
                add_practice_date(file, n, practice, prop, fieldname, v[fieldname])
        add_cost(file, n, practice, v)
        add_resources(file, n, practice, v)
        self.links.collect(n, practice, v)

    def source_urls(self, n: int, cell: str | None) -> list[str]:
        """The web addresses in ``source_url``; anything else is reported and ignored."""
        urls = []
        for part in (clean(p) for p in as_values(cell)):
            if WEB_ADDRESS.match(part):
                urls.append(part)
            else:
                self.file.problem(WARNING, "Not a web address; ignored.", n, "source_url", part)
        return urls


def convert_practices(headings: list[str], rows: Iterable[Mapping[str, str]], *, file: str,
                      graph_name: str = "practices") -> Conversion:
    """Convert practice rows (from ``csv.DictReader``) to RDF with their problems."""
    return PracticeConverter(file=file).convert(headings, rows, graph_name)


__all__ = ["COLUMNS", "REQUIRED", "PracticeConverter", "concept", "convert_practices",
           "heading_key", "map_headings", "parse_date"]
