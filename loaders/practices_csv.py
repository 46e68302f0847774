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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS, XSD

from practicebank.namespaces import ID, ORG, PB, SCHEMA, concept, scheme, slugify
from practicebank.problems import ERROR, WARNING, Problem
from practicebank.resources import VOCABULARIES, bundle_graph

from .concepts import (
    ConceptIndex,
    as_values,
    bundled_index,
    clean,
    is_absent,
    is_hedged,
    normalise,
)
from .conversion import Conversion
from .organisations import OrganisationIndex, bundled_organisations

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

#: Which organisation gives each kind of recognition (the default for smarter practice,
#: whose reviewers a record may name in ``reviewed_by``).
RECOGNISED_BY = {
    "hmicfrs": "hmicfrs",
    "smarter-practice": "college-of-policing",
    "tilley-award": "home-office",
    "police-star-fund": "opcsa",
}
#: Who gives a "Does it work?" rating when the record does not say (``rated_by``).
RATED_BY = ID["organisation/college-of-policing"]
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
#: Links between practices: (our field, property, its inverse to write too, or None).
#: pb:sameInterventionAs is symmetric, so it is its own inverse.
PRACTICE_LINKS = (
    ("adapted_from", PB.adaptedFrom, None),
    ("replicates", PB.replicates, None),
    ("same_intervention_as", PB.sameInterventionAs, PB.sameInterventionAs),
    ("succeeded_by", PB.succeededBy, PB.succeeds),
    ("succeeds", PB.succeeds, PB.succeededBy),
)
#: The notations the model fixes (docs/model-v2-spec.md), used when the bundled vocabularies
#: do not list a scheme's concept yet; labels are still matched through the vocabularies.
FIXED_NOTATIONS = {
    "participation-role": ("lead", "co-lead", "partner", "funder", "evaluator",
                           "commissioner", "delivery"),
    "award-outcome": ("winner", "runner-up", "commended", "finalist", "shortlisted", "entry"),
    "tilley-category": ("crime-and-disorder-reduction", "organisational-support",
                        "partnership"),
    "inspection-programme": ("peel", "thematic", "spotlight"),
    "source-kind": ("primary", "secondary"),
}
LEAD_ROLES = frozenset({"lead", "co-lead"})
DOES_IT_WORK = "does-it-work"

_COLLEGE_PAGE = re.compile(
    r"^https://(?:www\.college\.police\.uk|production\.copweb\.aws\.college\.police\.uk)"
    r"/support-forces/practices/(?:smarter-practice/)?([a-z0-9-]+)/?$"
)
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_YEAR = re.compile(r"^(\d{4})$")
_ROUND = re.compile(r"^(\d{4})\s*(?:/|-|to)\s*(\d{2}|\d{4})$")
_DURATION = re.compile(r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$")
#: "Name (funder; evaluator)": the bracket at the end of a participant's name.
_LAST_BRACKET = re.compile(r"^(?P<name>.*?)\s*\((?P<inner>[^()]*)\)\s*$")
# Facts that the sample's free-text notes state in a fixed form.
_NOTE_PARTNERS = re.compile(r"\bpartners?(?: shown| listed)?:\s*([^.]+)\.", re.IGNORECASE)
_NOTE_PARTNER_ORG = re.compile(r"\bpartner (?:charity|organisation):\s*([^.;]+)", re.IGNORECASE)
_NOTE_AKA = re.compile(r"\balso known as ([^.;,]+)", re.IGNORECASE)
_NOTE_START = re.compile(r"\bstart(?:ed)?\s+([A-Z][a-z]+ \d{4})")
_NOTE_PUBLISHED = re.compile(r"\bfirst published\s+(\d{1,2} [A-Z][a-z]+ \d{4})")


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


def parse_date(text: str) -> Literal | None:
    """A date as precise as written: 2024-12-17, 17 Dec 2024, 2023-07, July 2023, 2023."""
    text = text.strip()
    for fmt, datatype, shape in (
        ("%Y-%m-%d", XSD.date, "%Y-%m-%d"),
        ("%d %b %Y", XSD.date, "%Y-%m-%d"),
        ("%d %B %Y", XSD.date, "%Y-%m-%d"),
        ("%Y-%m", XSD.gYearMonth, "%Y-%m"),
        ("%B %Y", XSD.gYearMonth, "%Y-%m"),
        ("%b %Y", XSD.gYearMonth, "%Y-%m"),
        ("%Y", XSD.gYear, "%Y"),
    ):
        try:
            return Literal(datetime.strptime(text, fmt).strftime(shape), datatype=datatype)
        except ValueError:
            continue
    return None


def parse_amount(text: str) -> Decimal | None:
    """"£12,500", "12500.00" or "12 500" -> Decimal; None unless a number of at least 0."""
    cleaned = re.sub(r"[£,\s]|GBP", "", text.strip(), flags=re.IGNORECASE)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def decimal_literal(value: Decimal) -> Literal:
    """An xsd:decimal in its plain lexical form (never "1E+3")."""
    return Literal(format(value, "f"), datatype=XSD.decimal)


def _text(value: object) -> str | None:
    """A JSON scalar as the text a CSV cell would hold (numbers as written)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@dataclass
class Rating:
    """One "Does it work?" assessment of a practice, as written in the record."""

    value: str
    date: Literal | None = None
    by: str | None = None
    where: str = "rating"


@dataclass
class Participant:
    """One organisation named by a record, with the roles and partner types given to it."""

    org: URIRef
    roles: list[URIRef] = field(default_factory=list)
    types: list[URIRef] = field(default_factory=list)


class PracticeConverter:
    """Turns one CSV file's rows into practices; keeps the problems it meets."""

    def __init__(
        self,
        *,
        file: str,
        concepts: ConceptIndex | None = None,
        organisations: OrganisationIndex | None = None,
        vocabularies: Graph | None = None,
    ) -> None:
        self.file = file
        self.concepts = concepts or bundled_index()
        self.organisations = organisations or bundled_organisations()
        vocab = vocabularies if vocabularies is not None else bundle_graph(VOCABULARIES)
        self.recognition_class = dict(vocab.subject_objects(PB.recognitionClass))
        self.out = Conversion()
        self.g = self.out.triples
        self.columns: dict[str, str] = {}
        self.slugs: dict[str, int] = {}
        #: normalised title -> practice slug, for links between practices of one file.
        self.titles: dict[str, str] = {}
        #: (row, practice, field, value): links resolved once every row has been read.
        self.links: list[tuple[int, URIRef, str, str]] = []

    # -- problems ------------------------------------------------------------------------

    def problem(self, severity: str, message: str, row: int, field: str, value: str = "",
                focus: URIRef | None = None) -> None:
        self.out.problems.append(Problem(
            severity, message, self.file, row, self.columns.get(field, field),
            focus=str(focus) if focus is not None else None, value=value or None,
        ))

    # -- the file ------------------------------------------------------------------------

    def convert(self, headings: list[str], rows: Iterable[Mapping[str, str]],
                graph_name: str) -> Conversion:
        self.columns = map_headings(headings)
        for heading in headings:
            if heading_key(heading) in PERSONAL_COLUMNS:
                self.out.problems.append(Problem(
                    WARNING,
                    f"Column \"{heading}\" holds personal data; it was dropped and not stored.",
                    self.file, None, heading,
                ))
        self.out.describe_dataset(graph_name, "Crime-reduction practices")
        for number, row in enumerate(rows, start=2):
            values = {f: row.get(h) for f, h in self.columns.items()}
            self.convert_row(number, values)
        self.finish()
        return self.out

    def convert_records(self, records: Iterable[tuple[int, Mapping[str, object]]],
                        graph_name: str) -> Conversion:
        """Records already keyed by our field names (JSON), numbered as the caller counts."""
        self.columns = {name: name for name in COLUMNS}
        self.out.describe_dataset(graph_name, "Crime-reduction practices")
        for number, record in records:
            values = {key: value if isinstance(value, list | dict) else _text(value)
                      for key, value in record.items()}
            self.convert_row(number, values)
        self.finish()
        return self.out

    def finish(self) -> None:
        """What needs every row first: links to practices named by title or slug."""
        for n, practice, fieldname, value in self.links:
            self.practice_link(n, practice, fieldname, value)

    # -- one row -------------------------------------------------------------------------

    def convert_row(self, n: int, v: Mapping[str, object]) -> None:
        """One practice from ``v`` (our field names; CSV cells or JSON values)."""
        g = self.g
        title = None if is_absent(v.get("title")) else (v.get("title") or "").strip()
        urls = self.source_urls(n, v.get("source_url"))
        page_slug = next((m.group(1) for u in urls if (m := _COLLEGE_PAGE.match(u))), None)
        slug = page_slug or (slugify(title) if title else f"untitled-row-{n}")
        if slug in self.slugs:
            self.problem(ERROR, f"Practice id \"{slug}\" is already used by row "
                         f"{self.slugs[slug]}; give each practice its own title or page URL.",
                         n, "title", title or "")
            return
        self.slugs[slug] = n
        if title:
            self.titles.setdefault(normalise(title), slug)
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
            college = [u for u in urls if _COLLEGE_PAGE.match(u)][0]
            path = college.split("/support-forces/practices/", 1)[1]
            g.add((practice, SCHEMA.url,
                   URIRef("https://www.college.police.uk/support-forces/practices/" + path)))
        if kind := (v.get("source_type") or "").split(":")[0].strip().lower():
            if kind in FIXED_NOTATIONS["source-kind"]:
                g.add((practice, PB.sourceKind, concept("source-kind", kind)))

        self.ratings(n, practice, slug, v, urls)
        for fieldname, prop, scheme_name in MULTI_VALUED:
            for value in as_values(v.get(fieldname)):
                self.link_concept(n, practice, prop, scheme_name, fieldname, value)
        for fieldname, prop, scheme_name in SINGLE_VALUED:
            value = v.get(fieldname)
            if not is_absent(value):
                self.link_concept(n, practice, prop, scheme_name, fieldname, value.strip())
        if v.get("intervention_type"):
            for value in as_values(v["intervention_type"]):
                self.intervention_type(n, practice, value)
        self.recognitions(n, practice, slug, v, urls)
        self.participation(n, practice, slug, v)
        for name in as_values(v.get("also_known_as")):
            g.add((practice, SCHEMA.alternateName, Literal(name, lang="en")))
        for fieldname, prop in (("start_date", PB.startDate), ("completion_date", PB.endDate),
                                ("first_published", DCTERMS.issued)):
            if not is_absent(v.get(fieldname)):
                self.date(n, practice, prop, fieldname, v[fieldname])
        if v.get("cost_gbp") or v.get("cost_covers") or v.get("cost_period"):
            self.cost(n, practice, v)
        for fieldname, _, _ in PRACTICE_LINKS:
            if v.get(fieldname):  # (most rows have none: skip the splitting)
                for value in as_values(v[fieldname]):
                    self.links.append((n, practice, fieldname, value))

    def source_urls(self, n: int, cell: str | None) -> list[str]:
        urls = []
        for part in (clean(p) for p in as_values(cell)):
            if _URL.match(part):
                urls.append(part)
            else:
                self.problem(WARNING, "Not a web address; ignored.", n, "source_url", part)
        return urls

    # -- concepts ------------------------------------------------------------------------

    def find_concept(self, scheme_name: str, value: str) -> URIRef | None:
        """A concept of ``scheme_name`` by label or notation; failing that, for the schemes
        whose notations the model fixes, by the slug of the value."""
        found = self.concepts.find(scheme_name, value)
        if found is None and slugify(clean(value)) in FIXED_NOTATIONS.get(scheme_name, ()):
            found = concept(scheme_name, slugify(clean(value)))
        return found

    def link_concept(self, n: int, subject: URIRef, prop: URIRef, scheme_name: str,
                     fieldname: str, value: str) -> URIRef | None:
        if is_hedged(value):
            self.problem(WARNING, f"\"{value}\" is uncertain in the source; not recorded.",
                         n, fieldname, value, subject)
            return None
        found = self.find_concept(scheme_name, value)
        if found is None:
            expected = "; ".join(self.concepts.labels(scheme_name)
                                 or FIXED_NOTATIONS.get(scheme_name, ()))
            self.problem(WARNING, f"\"{value}\" maps to no concept of the {scheme_name} scheme; "
                         f"not recorded. Known values: {expected}.", n, fieldname, value, subject)
            return None
        self.g.add((subject, prop, found))
        return found

    def intervention_type(self, n: int, practice: URIRef, value: str) -> None:
        """``pb:interventionType``: a concept of the intervention-type scheme by label or
        notation. A slug the bundled vocabularies do not list is linked as it is, for the
        store to describe (the Crime Reduction Toolkit corpus); validation checks it."""
        found = self.concepts.find("intervention-type", value)
        if found is None and _SLUG.match(value.strip()):
            found = concept("intervention-type", value.strip())
        if found is None:
            self.problem(WARNING, f"\"{value}\" is not an intervention type we know; write its "
                         "slug (e.g. improved-street-lighting) or its label. Not recorded.",
                         n, "intervention_type", value, practice)
            return
        self.g.add((practice, PB.interventionType, found))

    # -- ratings -------------------------------------------------------------------------

    def ratings(self, n: int, practice: URIRef, slug: str, v: Mapping[str, object],
                urls: list[str]) -> None:
        """Every "Does it work?" assessment the record gives: ``rating`` (with
        ``rating_date`` and ``rated_by``) and the entries of ``ratings``, the same value on
        the same date counted once. They are ordered by date, an undated one (at most one)
        first; each newer one ``pb:supersedes`` the one before, so the current rating is the
        one nothing supersedes."""
        wanted: list[Rating] = []
        default_by = None if is_absent(v.get("rated_by")) else clean(v["rated_by"])
        if not is_absent(v.get("rating")):
            date = self.rating_date(n, "rating_date", v.get("rating_date"), practice)
            if date is False:
                return
            wanted.append(Rating(v["rating"].strip(), date, default_by))
        for entry in (self.rating_entries(n, v["ratings"], default_by, practice)
                      if v.get("ratings") else ()):
            if entry is None:
                return
            wanted.append(entry)
        kept: dict[tuple[str, str | None], tuple[Rating, URIRef]] = {}
        for rating in wanted:
            value = self.concepts.find(DOES_IT_WORK, rating.value)
            if value is None:
                expected = "; ".join(self.concepts.labels(DOES_IT_WORK))
                self.problem(ERROR, f"\"{rating.value}\" is not a \"Does it work?\" rating. "
                             f"Use one of: {expected} (or leave the cell empty).", n,
                             rating.where, rating.value, practice)
                return
            key = (str(value), None if rating.date is None else str(rating.date))
            kept.setdefault(key, (rating, value))
        undated = [r for (_, date), (r, _) in kept.items() if date is None]
        if len(undated) > 1:
            self.problem(ERROR, "Only one rating may be undated (it is taken as the first); "
                         "give the others a date, e.g. Promising@2021-05-01.", n, "ratings",
                         "; ".join(r.value for r in undated), practice)
            return
        dates: dict[str, str] = {}
        for (value_iri, date), (rating, _) in kept.items():
            if date is not None and dates.setdefault(date, value_iri) != value_iri:
                self.problem(ERROR, f"Two different ratings are dated {date}; a practice has "
                             "one rating per scale on a date.", n, "ratings", rating.value,
                             practice)
                return
        ordered = sorted(kept.values(), key=lambda item: (item[0].date is not None,
                                                          str(item[0].date or "")))
        previous: URIRef | None = None
        for rating, value in ordered:
            node = self.assessment(n, practice, slug, rating, value, urls)
            if previous is not None:
                self.g.add((node, PB.supersedes, previous))
            previous = node

    def rating_date(self, n: int, fieldname: str, text: object,
                    focus: URIRef) -> Literal | None | bool:
        """The date of a rating, None when absent, False (reported) when unreadable."""
        if is_absent(text):
            return None
        date = parse_date(clean(str(text)))
        if date is None:
            self.problem(ERROR, "Not a date (expected e.g. 2024-12-17, 2023-07 or 2023); a "
                         "rating's date places it in the practice's history.", n, fieldname,
                         str(text), focus)
            return False
        return date

    def rating_entries(self, n: int, cell: object, default_by: str | None,
                       practice: URIRef) -> Iterable[Rating | None]:
        """The ``ratings`` field: "Promising@2021-05-01; Worked@2023-02-10@College of
        Policing" in CSV, or a JSON array of such strings or of objects with ``rating``,
        ``date`` and ``rated_by``. None (after reporting) for an entry that cannot be read."""
        items = cell if isinstance(cell, list) else as_values(cell)
        for item in items:
            if isinstance(item, dict):
                value, date_text, by = (_text(item.get("rating")), _text(item.get("date")),
                                        _text(item.get("rated_by")))
            else:
                value, date_text, by, *rest = [*str(item).split("@"), None, None][:4]
                if rest and rest[0] is not None:
                    self.problem(ERROR, "A rating is written RATING@DATE or "
                                 "RATING@DATE@ASSESSOR.", n, "ratings", str(item), practice)
                    yield None
                    return
            if is_absent(value):
                continue
            date = self.rating_date(n, "ratings", date_text, practice)
            if date is False:
                yield None
                return
            yield Rating(value.strip(), date, clean(by) if not is_absent(by) else default_by,
                         "ratings")

    def assessment(self, n: int, practice: URIRef, slug: str, rating: Rating, value: URIRef,
                   urls: list[str]) -> URIRef:
        g = self.g
        if rating.date is None:
            node = ID[f"assessment/{slug}/{DOES_IT_WORK}"]
        else:
            node = ID[f"assessment/{slug}/{DOES_IT_WORK}/{rating.date}"]
        self.out.add_row(node, n, self.columns.get(rating.where, rating.where))
        g.add((practice, PB.rating, node))
        g.add((node, RDF.type, PB.RatingAssessment))
        g.add((node, PB.assessedPractice, practice))
        g.add((node, PB.ratingValue, value))
        g.add((node, PB.ratingScale, scheme(DOES_IT_WORK)))
        assessor = RATED_BY if rating.by is None else self.organisation_named(
            n, rating.by, "rated_by")
        g.add((node, PB.assessedBy, assessor))
        if rating.date is not None:
            g.add((node, DCTERMS.date, rating.date))
        college = [u for u in urls if "college.police.uk" in u] or urls
        for url in college:
            g.add((node, PROV.wasDerivedFrom, URIRef(url)))
        return node

    # -- recognitions --------------------------------------------------------------------

    def recognitions(self, n: int, practice: URIRef, slug: str, v: Mapping[str, object],
                     urls: list[str]) -> None:
        """The sources named in ``recognition``, and one recognition per fact given in the
        version 2 columns (several per source: the columns take lists of equal length).
        A source with facts is not also written without them."""
        with_facts = set()
        for notation, facts in (("tilley-award", self.tilley(n, v, practice)),
                                ("police-star-fund", self.star_fund(n, v, practice)),
                                ("hmicfrs", self.hmicfrs(n, v, practice)),
                                ("smarter-practice", self.smarter_practice(n, v, practice))):
            used: set[str | None] = set()
            for key, column, triples in facts:
                if key in used:
                    self.problem(WARNING, f"A second {notation} recognition "
                                 + (f"with the key \"{key}\" " if key else "without a key ")
                                 + "was left out; one per year, round, report or date.", n,
                                 column, key or "", practice)
                    continue
                used.add(key)
                with_facts.add(notation)
                node = self.recognition(n, practice, slug, concept("recognised-practice",
                                                                   notation), urls, key, column,
                                        default_by=notation != "smarter-practice")
                for prop, obj in triples(node):
                    self.g.add((node, prop, obj))
        for value in as_values(v.get("recognition")):
            if is_hedged(value):
                self.problem(WARNING, f"\"{value}\" is uncertain in the source; not recorded.",
                             n, "recognition", value, practice)
                continue
            source = self.concepts.find("recognised-practice", value)
            if source is None:
                expected = "; ".join(self.concepts.labels("recognised-practice"))
                self.problem(WARNING, f"\"{value}\" is not a recognised-practice source; not "
                             f"recorded. Known values: {expected}.", n, "recognition", value,
                             practice)
                continue
            if str(source).rsplit("/", 1)[-1] not in with_facts:
                self.recognition(n, practice, slug, source, urls, None, "recognition")

    def recognition(self, n: int, practice: URIRef, slug: str, source: URIRef, urls: list[str],
                    key: str | None, column: str, default_by: bool = True) -> URIRef:
        """``id/recognition/{practice}/{source}[/{key}]``; ``default_by``: state who gives
        this kind of recognition (``RECOGNISED_BY``)."""
        g = self.g
        notation = str(source).rsplit("/", 1)[-1]
        node = ID[f"recognition/{slug}/{notation}" + (f"/{key}" if key else "")]
        self.out.add_row(node, n, self.columns.get(column, column))
        g.add((practice, PB.recognition, node))
        g.add((node, RDF.type, PB.Recognition))
        if cls := self.recognition_class.get(source):
            g.add((node, RDF.type, cls))
        g.add((node, PB.recognises, practice))
        g.add((node, PB.recognitionSource, source))
        if default_by and (by := RECOGNISED_BY.get(notation)):
            g.add((node, PB.recognisedBy, ID[f"organisation/{by}"]))
        for url in urls:
            g.add((node, PROV.wasDerivedFrom, URIRef(url)))
        return node

    def columns_of(self, n: int, v: Mapping[str, object], fields: tuple[str, ...],
                   practice: URIRef) -> list[tuple[str | None, ...]]:
        """Parallel list columns (``tilley_year``, ``tilley_outcome``, …) as rows: each
        column holds one value per recognition, or one value for all of them."""
        if not any(v.get(f) for f in fields):
            return []
        lists = {f: as_values(v.get(f)) for f in fields}
        count = max((len(values) for values in lists.values()), default=0)
        for f, values in lists.items():
            if len(values) not in (0, 1, count):
                self.problem(WARNING, f"Give one value, or one per recognition ({count}); the "
                             "values after the first were ignored.", n, f,
                             "; ".join(values), practice)
                lists[f] = values[:1]
        return [tuple((values[i] if len(values) > 1 else (values[0] if values else None))
                      for values in lists.values()) for i in range(count)]

    def tilley(self, n: int, v: Mapping[str, object], practice: URIRef):
        for year, category, outcome in self.columns_of(
                n, v, ("tilley_year", "tilley_category", "tilley_outcome"), practice):
            if year is not None and not _YEAR.match(year):
                self.problem(WARNING, "A Tilley award year is four digits, e.g. 2009; not "
                             "recorded.", n, "tilley_year", year, practice)
                year = None
            category_iri = self.fact_concept(n, "tilley-category", "tilley_category", category,
                                             practice)
            outcome_iri = self.fact_concept(n, "award-outcome", "tilley_outcome", outcome,
                                            practice)

            def triples(node, year=year, category_iri=category_iri, outcome_iri=outcome_iri):
                if year:
                    yield PB.awardYear, Literal(year, datatype=XSD.gYear)
                    yield DCTERMS.date, Literal(year, datatype=XSD.gYear)
                if category_iri is not None:
                    yield PB.awardCategory, category_iri
                if outcome_iri is not None:
                    yield PB.awardOutcome, outcome_iri
            if year or category_iri is not None or outcome_iri is not None:
                yield year, "tilley_year", triples

    def star_fund(self, n: int, v: Mapping[str, object], practice: URIRef):
        for round_text, amount_text in self.columns_of(
                n, v, ("star_round", "star_amount_gbp"), practice):
            round_iri = None
            if round_text is not None:
                round_iri = self.concepts.find("star-fund-round", round_text)
                if round_iri is None and (m := _ROUND.match(clean(round_text))):
                    round_iri = concept("star-fund-round", f"{m.group(1)}-{m.group(2)[-2:]}")
                if round_iri is None:
                    self.problem(WARNING, "A STAR Fund round is a financial year such as "
                                 "2023/24; not recorded.", n, "star_round", round_text, practice)
            amount = self.amount(n, "star_amount_gbp", amount_text, practice)
            if round_iri is None and amount is None:
                continue
            key = str(round_iri).rsplit("/", 1)[-1] if round_iri is not None else None

            def triples(node, round_iri=round_iri, amount=amount):
                if round_iri is not None:
                    yield PB.fundingRound, round_iri
                if amount is not None:
                    money = URIRef(f"{node}/amount")
                    yield SCHEMA.amount, money
                    self.money(money, amount)
            yield key, "star_round", triples

    def hmicfrs(self, n: int, v: Mapping[str, object], practice: URIRef):
        for title, url, date_text, programme in self.columns_of(
                n, v, ("hmicfrs_report_title", "hmicfrs_report_url", "hmicfrs_report_date",
                       "hmicfrs_programme"), practice):
            if url is not None and not _URL.match(url):
                self.problem(WARNING, "Not a web address; ignored.", n, "hmicfrs_report_url",
                             url, practice)
                url = None
            slug = slugify(title) if title else (
                slugify(url.rstrip("/").rsplit("/", 1)[-1]) if url else None)
            if not slug:
                continue
            report = ID[f"report/{slug}"]
            date = self.fact_date(n, "hmicfrs_report_date", date_text, practice)
            programme_iri = self.fact_concept(n, "inspection-programme", "hmicfrs_programme",
                                              programme, practice)
            self.out.add_row(report, n, self.columns.get("hmicfrs_report_title",
                                                         "hmicfrs_report_title"))
            g = self.g
            g.add((report, RDF.type, PB.InspectionReport))
            g.add((report, RDF.type, SCHEMA.Report))
            if title:
                g.add((report, DCTERMS.title, Literal(title, lang="en")))
            if url:
                g.add((report, SCHEMA.url, URIRef(url)))
            if date is not None:
                g.add((report, DCTERMS.date, date))
            if programme_iri is not None:
                g.add((report, PB.inspectionProgramme, programme_iri))

            def triples(node, report=report, date=date):
                yield PB.inspectionReport, report
                if date is not None:
                    yield DCTERMS.date, date
            yield slug, "hmicfrs_report_title", triples

    def smarter_practice(self, n: int, v: Mapping[str, object], practice: URIRef):
        if not v.get("reviewed_by") and not v.get("review_date"):
            return
        reviewers = [self.organisation_named(n, clean(name), "reviewed_by")
                     for name in as_values(v.get("reviewed_by")) if not is_hedged(name)]
        dates = [d for d in (self.fact_date(n, "review_date", text, practice)
                             for text in as_values(v.get("review_date"))) if d is not None]
        if not dates and reviewers:
            dates = [None]
        for date in dates:
            def triples(node, date=date):
                if date is not None:
                    yield DCTERMS.date, date
                for org in reviewers or [ID[f"organisation/{RECOGNISED_BY['smarter-practice']}"]]:
                    yield PB.recognisedBy, org
            yield (str(date) if date is not None else None), "review_date", triples

    def fact_concept(self, n: int, scheme_name: str, fieldname: str, value: str | None,
                     practice: URIRef) -> URIRef | None:
        if value is None:
            return None
        found = self.find_concept(scheme_name, value)
        if found is None:
            known = "; ".join(self.concepts.labels(scheme_name)
                              or FIXED_NOTATIONS.get(scheme_name, ()))
            self.problem(WARNING, f"\"{value}\" maps to no concept of the {scheme_name} "
                         f"scheme; not recorded. Known values: {known}.", n, fieldname, value,
                         practice)
        return found

    def fact_date(self, n: int, fieldname: str, text: str | None,
                  practice: URIRef) -> Literal | None:
        if text is None or is_absent(text):
            return None
        date = parse_date(clean(text))
        if date is None:
            self.problem(WARNING, "Not a date (expected e.g. 2024-12-17, 2023-07 or 2023); "
                         "not recorded.", n, fieldname, text, practice)
        return date

    # -- money ---------------------------------------------------------------------------

    def amount(self, n: int, fieldname: str, text: str | None,
               focus: URIRef) -> Decimal | None:
        if text is None or is_absent(text):
            return None
        value = parse_amount(text)
        if value is None:
            self.problem(WARNING, "Not an amount of pounds (expected e.g. 12500 or £12,500); "
                         "not recorded.", n, fieldname, text, focus)
        return value

    def money(self, node: URIRef, value: Decimal, covers: str | None = None,
              period: str | None = None) -> None:
        """A ``schema:MonetaryAmount`` in pounds."""
        g = self.g
        g.add((node, RDF.type, SCHEMA.MonetaryAmount))
        g.add((node, SCHEMA.value, decimal_literal(value)))
        g.add((node, SCHEMA.currency, Literal("GBP")))
        if covers:
            g.add((node, DCTERMS.description, Literal(covers, lang="en")))
        if period:
            g.add((node, PB.period, Literal(period, datatype=XSD.duration)
                   if _DURATION.match(period) else Literal(period)))

    def cost(self, n: int, practice: URIRef, v: Mapping[str, object]) -> None:
        """``cost_gbp`` (with ``cost_covers`` and ``cost_period``) -> ``pb:cost``."""
        value = self.amount(n, "cost_gbp", v.get("cost_gbp"), practice)
        if value is None:
            if not is_absent(v.get("cost_covers")) or not is_absent(v.get("cost_period")):
                self.problem(WARNING, "A cost needs its amount (cost_gbp); what it covers was "
                             "not recorded.", n, "cost_gbp", "", practice)
            return
        node = URIRef(f"{practice}/cost")
        self.out.add_row(node, n, self.columns.get("cost_gbp", "cost_gbp"))
        self.g.add((practice, PB.cost, node))
        covers = None if is_absent(v.get("cost_covers")) else v["cost_covers"].strip()
        period = None if is_absent(v.get("cost_period")) else v["cost_period"].strip()
        self.money(node, value, covers, period)

    # -- who took part -------------------------------------------------------------------

    def participation(self, n: int, practice: URIRef, slug: str,
                      v: Mapping[str, object]) -> None:
        """Organisations and their roles: ``organisation`` and ``lead_organisations`` lead,
        ``partner_organisations`` (and partners named in the notes) are partners, unless a
        bracket after the name gives roles or partner types: "Home Office (funder)",
        "Autism Guernsey (Voluntary/not for profit organisation; delivery)"."""
        found: dict[URIRef, Participant] = {}
        sources = [("organisation", "lead", self.items(v.get("organisation"))),
                   ("lead_organisations", "lead", self.items(v.get("lead_organisations"))),
                   ("partner_organisations", "partner",
                    self.items(v.get("partner_organisations")))]
        if not is_absent(v.get("notes")):
            self.notes(n, practice, v["notes"])
            sources.append(("notes", "partner", [m.group(1).strip() for m in
                                                 _NOTE_PARTNER_ORG.finditer(v["notes"])]))
        for fieldname, default_role, items in sources:
            for item in items:
                if isinstance(item, dict):
                    person = self.participant_object(n, fieldname, item, practice)
                else:
                    person = self.participant_text(n, fieldname, item, practice)
                if person is None:
                    continue
                if not person.roles:
                    person.roles.append(concept("participation-role", default_role))
                known = found.setdefault(person.org, Participant(person.org))
                known.roles += [r for r in person.roles if r not in known.roles]
                known.types += [t for t in person.types if t not in known.types]
        g = self.g
        for person in found.values():
            node = ID[f"participation/{slug}/{str(person.org).rsplit('/', 1)[-1]}"]
            self.out.add_row(node, n)
            g.add((practice, PROV.qualifiedAttribution, node))
            g.add((node, RDF.type, PROV.Attribution))
            g.add((node, RDF.type, PB.Participation))
            g.add((node, PROV.agent, person.org))
            for role in person.roles:
                g.add((node, PROV.hadRole, role))
            lead = any(str(r).rsplit("/", 1)[-1] in LEAD_ROLES for r in person.roles)
            g.add((practice, PB.organisation if lead else PB.partner, person.org))
            for kind in person.types:
                g.add((person.org, PB.partnerType, kind))
                g.add((person.org, ORG.classification, kind))

    @staticmethod
    def items(value: object) -> list:
        return value if isinstance(value, list) else as_values(value)

    def participant_text(self, n: int, fieldname: str, text: object,
                         practice: URIRef) -> Participant | None:
        if is_absent(text) or is_hedged(str(text)):
            return None
        name, roles, types = str(text).strip(), [], []
        if match := _LAST_BRACKET.match(name):
            tokens = [t.strip() for t in re.split(r"[;,]", match.group("inner")) if t.strip()]
            for token in tokens:
                if (role := self.find_concept("participation-role", token)) is not None:
                    roles.append(role)
                elif (kind := self.concepts.find("partner-type", token)) is not None:
                    types.append(kind)
            if roles or types:
                name = match.group("name")
                unknown = len(tokens) - len(roles) - len(types)
                if unknown:
                    self.problem(WARNING, f"Some of \"{match.group('inner')}\" are neither "
                                 "participation roles (lead, co-lead, partner, funder, "
                                 "evaluator, commissioner, delivery) nor partner types; they "
                                 "were ignored.", n, fieldname, str(text), practice)
        name = clean(name)
        if not name:
            return None
        return Participant(self.organisation_named(n, name, fieldname), roles, types)

    def participant_object(self, n: int, fieldname: str, item: Mapping[str, object],
                           practice: URIRef) -> Participant | None:
        """A JSON participant: ``{"name": …, "roles": […], "partner_types": […]}``."""
        name = _text(item.get("name"))
        if is_absent(name) or is_hedged(name):
            return None
        person = Participant(self.organisation_named(n, clean(name), fieldname))
        for role in self.items(item.get("roles")):
            if (found := self.fact_concept(n, "participation-role", fieldname, role,
                                           practice)) is not None:
                person.roles.append(found)
        for kind in self.items(item.get("partner_types")):
            if (found := self.fact_concept(n, "partner-type", fieldname, kind,
                                           practice)) is not None:
                person.types.append(found)
        return person

    def organisation_named(self, n: int, name: str, fieldname: str) -> URIRef:
        """The known organisation called ``name``, or a new ``id/organisation/{slug}``."""
        return self.organisations.find(name) or self.new_organisation(n, name, fieldname)

    def new_organisation(self, n: int, name: str, fieldname: str) -> URIRef:
        org = OrganisationIndex.mint(name)
        if str(org) not in self.out.rows:
            self.out.add_row(org, n, self.columns.get(fieldname, fieldname))
            self.g.add((org, RDF.type, PB.Organisation))
            self.g.add((org, SKOS.prefLabel, Literal(name, lang="en")))
        return org

    # -- links between practices ---------------------------------------------------------

    def practice_link(self, n: int, practice: URIRef, fieldname: str, value: str) -> None:
        """A practice named by its College page, slug or title: one of this file's
        practices if it has that title, else ``id/practice/{slug}`` for the store to hold."""
        text = value.strip()
        page = _COLLEGE_PAGE.match(clean(text))
        slug = (page.group(1) if page else self.titles.get(normalise(text))
                or self.titles.get(normalise(clean(text)))
                or (text if _SLUG.match(text) else slugify(text)))
        if not slug:
            return
        other = ID[f"practice/{slug}"]
        if other == practice:
            self.problem(WARNING, "A practice cannot be linked to itself; not recorded.", n,
                         fieldname, value, practice)
            return
        prop, inverse = next((p, i) for f, p, i in PRACTICE_LINKS if f == fieldname)
        self.g.add((practice, prop, other))
        if inverse is not None:
            self.g.add((other, inverse, practice))

    # -- dates and notes -----------------------------------------------------------------

    def date(self, n: int, practice: URIRef, prop: URIRef, fieldname: str, text: str) -> None:
        value = parse_date(clean(text))
        if value is None:
            self.problem(WARNING, "Not a date (expected e.g. 2024-12-17, 2023-07, July 2023 or "
                         "2023); not recorded.", n, fieldname, text, practice)
            return
        if prop == DCTERMS.issued and value.datatype != XSD.date:
            return
        self.g.add((practice, prop, value))

    def notes(self, n: int, practice: URIRef, text: str) -> None:
        """Pick up the facts that notes state in a fixed form ("Partners: …", "also known
        as …", "start July 2023"); the rest of a note is not stored. A partner organisation
        named in a note ("Partner charity: X") is taken by :meth:`participation`."""
        for match in _NOTE_PARTNERS.finditer(text):
            for value in as_values(match.group(1)):
                self.link_concept(n, practice, PB.partnerType, "partner-type", "notes", value)
        for match in _NOTE_AKA.finditer(text):
            self.g.add((practice, SCHEMA.alternateName, Literal(match.group(1).strip(), lang="en")))
        for regex, prop in ((_NOTE_START, PB.startDate), (_NOTE_PUBLISHED, DCTERMS.issued)):
            if match := regex.search(text):
                self.date(n, practice, prop, "notes", match.group(1))


def convert_practices(headings: list[str], rows: Iterable[Mapping[str, str]], *, file: str,
                      graph_name: str = "practices") -> Conversion:
    """Convert practice rows (from ``csv.DictReader``) to RDF with their problems."""
    return PracticeConverter(file=file).convert(headings, rows, graph_name)


__all__ = ["COLUMNS", "REQUIRED", "convert_practices", "concept", "parse_date"]
