"""Convert practice-bank records in CSV to RDF.

Accepts the columns of the sample file (``title, does_it_work, purpose_focus, …``) and the
headings of the practice-bank listing (``Title | Summary | Does it work? | Focus | Purpose |
Organisation``); see ``COLUMNS`` and docs/loading.md. Real records are messy: placeholders
such as "(blank in listing)" or "(n/a)" mean absent, values carry notes in brackets, several
values share a cell separated by ";". A value in a controlled column that maps to no concept
is reported with its row and column: an error for the rating, a warning elsewhere. Personal
data columns (contact, e-mail, telephone) are dropped with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS, XSD

from practicebank.namespaces import ID, PB, SCHEMA, concept, scheme, slugify
from practicebank.problems import ERROR, WARNING, Problem
from practicebank.resources import VOCABULARIES, bundle_graph

from .concepts import ConceptIndex, as_values, bundled_index, clean, is_absent, is_hedged
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
}
#: Headings that carry personal data: never read, reported once per file.
PERSONAL_COLUMNS = frozenset(
    {"contact", "contact_name", "email", "email_address", "e_mail", "phone", "telephone"}
)
REQUIRED = frozenset({"title"})

#: Which organisation gives each kind of recognition.
RECOGNISED_BY = {
    "hmicfrs": "hmicfrs",
    "smarter-practice": "college-of-policing",
    "tilley-award": "home-office",
    "police-star-fund": "opcsa",
}
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

_COLLEGE_PAGE = re.compile(
    r"^https://(?:www\.college\.police\.uk|production\.copweb\.aws\.college\.police\.uk)"
    r"/support-forces/practices/(?:smarter-practice/)?([a-z0-9-]+)/?$"
)
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
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
        return self.out

    def convert_records(self, records: Iterable[tuple[int, Mapping[str, object]]],
                        graph_name: str) -> Conversion:
        """Records already keyed by our field names (JSON), numbered as the caller counts."""
        self.columns = {name: name for name in COLUMNS}
        self.out.describe_dataset(graph_name, "Crime-reduction practices")
        for number, record in records:
            self.convert_row(number, record)
        return self.out

    # -- one row -------------------------------------------------------------------------

    def convert_row(self, n: int, v: Mapping[str, str | list[str] | None]) -> None:
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
            if kind in ("primary", "secondary"):
                g.add((practice, PB.sourceKind, Literal(kind)))

        self.rating(n, practice, slug, v.get("rating"), urls)
        for fieldname, prop, scheme_name in MULTI_VALUED:
            for value in as_values(v.get(fieldname)):
                self.link_concept(n, practice, prop, scheme_name, fieldname, value)
        for fieldname, prop, scheme_name in SINGLE_VALUED:
            value = v.get(fieldname)
            if not is_absent(value):
                self.link_concept(n, practice, prop, scheme_name, fieldname, value.strip())
        for value in as_values(v.get("recognition")):
            self.recognition(n, practice, slug, value, urls)
        self.organisation(n, practice, v.get("organisation"))
        for name in as_values(v.get("partner_organisations")):
            self.partner_organisation(n, practice, name, "partner_organisations")
        for name in as_values(v.get("also_known_as")):
            g.add((practice, SCHEMA.alternateName, Literal(name, lang="en")))
        for fieldname, prop in (("start_date", PB.startDate), ("completion_date", PB.endDate),
                                ("first_published", DCTERMS.issued)):
            if not is_absent(v.get(fieldname)):
                self.date(n, practice, prop, fieldname, v[fieldname])
        if not is_absent(v.get("notes")):
            self.notes(n, practice, v["notes"])

    def source_urls(self, n: int, cell: str | None) -> list[str]:
        urls = []
        for part in (clean(p) for p in as_values(cell)):
            if _URL.match(part):
                urls.append(part)
            else:
                self.problem(WARNING, "Not a web address; ignored.", n, "source_url", part)
        return urls

    def rating(self, n: int, practice: URIRef, slug: str, cell: str | None,
               urls: list[str]) -> None:
        if is_absent(cell):
            return
        value = cell.strip()
        rating = self.concepts.find("does-it-work", value)
        if rating is None:
            expected = "; ".join(self.concepts.labels("does-it-work"))
            self.problem(ERROR, f"\"{value}\" is not a \"Does it work?\" rating. Use one of: "
                         f"{expected} (or leave the cell empty).", n, "rating", cell, practice)
            return
        g = self.g
        assessment = ID[f"assessment/{slug}/does-it-work"]
        self.out.add_row(assessment, n, self.columns.get("rating", "rating"))
        g.add((practice, PB.rating, assessment))
        g.add((assessment, RDF.type, PB.RatingAssessment))
        g.add((assessment, PB.assessedPractice, practice))
        g.add((assessment, PB.ratingValue, rating))
        g.add((assessment, PB.ratingScale, scheme("does-it-work")))
        g.add((assessment, PB.assessedBy, RATED_BY))
        college = [u for u in urls if "college.police.uk" in u] or urls
        for url in college:
            g.add((assessment, PROV.wasDerivedFrom, URIRef(url)))

    def link_concept(self, n: int, subject: URIRef, prop: URIRef, scheme_name: str,
                     fieldname: str, value: str) -> None:
        if is_hedged(value):
            self.problem(WARNING, f"\"{value}\" is uncertain in the source; not recorded.",
                         n, fieldname, value, subject)
            return
        found = self.concepts.find(scheme_name, value)
        if found is None:
            expected = "; ".join(self.concepts.labels(scheme_name))
            self.problem(WARNING, f"\"{value}\" maps to no concept of the {scheme_name} scheme; "
                         f"not recorded. Known values: {expected}.", n, fieldname, value, subject)
            return
        self.g.add((subject, prop, found))

    def recognition(self, n: int, practice: URIRef, slug: str, value: str,
                    urls: list[str]) -> None:
        if is_hedged(value):
            self.problem(WARNING, f"\"{value}\" is uncertain in the source; not recorded.",
                         n, "recognition", value, practice)
            return
        source = self.concepts.find("recognised-practice", value)
        if source is None:
            expected = "; ".join(self.concepts.labels("recognised-practice"))
            self.problem(WARNING, f"\"{value}\" is not a recognised-practice source; not "
                         f"recorded. Known values: {expected}.", n, "recognition", value, practice)
            return
        g = self.g
        notation = str(source).rsplit("/", 1)[-1]
        node = ID[f"recognition/{slug}/{notation}"]
        self.out.add_row(node, n, self.columns.get("recognition", "recognition"))
        g.add((practice, PB.recognition, node))
        g.add((node, RDF.type, PB.Recognition))
        if cls := self.recognition_class.get(source):
            g.add((node, RDF.type, cls))
        g.add((node, PB.recognises, practice))
        g.add((node, PB.recognitionSource, source))
        if by := RECOGNISED_BY.get(notation):
            g.add((node, PB.recognisedBy, ID[f"organisation/{by}"]))
        for url in urls:
            g.add((node, PROV.wasDerivedFrom, URIRef(url)))

    def organisation(self, n: int, practice: URIRef, cell: str | None) -> None:
        if is_absent(cell) or is_hedged(cell):
            return
        name = clean(cell)
        org = self.organisations.find(name) or self.new_organisation(n, name, "organisation")
        self.g.add((practice, PB.organisation, org))

    def partner_organisation(self, n: int, practice: URIRef, name: str, fieldname: str) -> None:
        org = self.organisations.find(name) or self.new_organisation(n, name, fieldname)
        self.g.add((practice, PB.partner, org))

    def new_organisation(self, n: int, name: str, fieldname: str) -> URIRef:
        org = OrganisationIndex.mint(name)
        if str(org) not in self.out.rows:
            self.out.add_row(org, n, self.columns.get(fieldname, fieldname))
            self.g.add((org, RDF.type, PB.Organisation))
            self.g.add((org, SKOS.prefLabel, Literal(name, lang="en")))
        return org

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
        as …", "start July 2023"); the rest of a note is not stored."""
        for match in _NOTE_PARTNERS.finditer(text):
            for value in as_values(match.group(1)):
                self.link_concept(n, practice, PB.partnerType, "partner-type", "notes", value)
        for match in _NOTE_PARTNER_ORG.finditer(text):
            self.partner_organisation(n, practice, match.group(1).strip(), "notes")
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
