"""Convert the corpus gathered from the public record (``data/corpus/*.csv``) to RDF.

Five sources, one graph each (docs/model-v2-spec.md, section 7): Tilley award entries, Police
STAR Fund projects, Crime Reduction Toolkit assessments, practice-bank entries and practice
that HMICFRS inspections noted. A row is a record with the web page(s) it came from and the
day they were read; each page is described once per graph (``<url> a foaf:Document ;
pb:dateRead …``), so every fact leads to a page and to when it was seen. Only facts,
identifiers, links and our own one-sentence summaries are stored, never page text, and no
person's name (the CSVs hold none; their notes say so).

A corpus practice whose title's slug is that of one of the sample practices (its title, an
alternate name or its IRI) takes that practice's IRI, so that sources join up. Labels become
concepts through tables (award outcomes, Toolkit effect labels, evidence-quality words and
scores, inspection programmes, topic words), not if-chains: a new label is one more line. A
value no table knows is reported with its row and column and left out.

``SOURCES`` says how to recognise each file by its headings; the reader table
(:mod:`.readers`) tries these before the general practices CSV, so ``practicebank load`` and
``serve --demo`` (through :data:`practicebank.resources.CORPUS`) convert them the same way.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SKOS, XSD

from practicebank.namespaces import ID, PB, SCHEMA, concept, scheme, slugify
from practicebank.problems import ERROR, WARNING, Problem
from practicebank.resources import CORPUS, SAME_PRACTICE, SAMPLE, Bundle, bundle_graph

from .concepts import ConceptIndex, bundled_index, clean, normalise, split_values
from .conversion import Conversion, ReadContext
from .organisations import OrganisationIndex, bundled_organisations
from .practices_csv import convert_practices, heading_key, parse_date

Row = Mapping[str, str]  # one CSV row, keyed by heading_key of its headings, cells stripped

_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_YEAR = re.compile(r"^\d{4}$")
_ROUND = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2})$")  # "2023/24", as the STAR Fund writes it

COLLEGE = ID["organisation/college-of-policing"]
HMICFRS = ID["organisation/hmicfrs"]
HOME_OFFICE = ID["organisation/home-office"]
OPCSA = ID["organisation/opcsa"]

#: The Home Office ran the Tilley awards until 2012 (tilley-awards.notes.md); who ran the
#: 2019 relaunch is not stated by the pages read, so later awards name no awarding body.
LAST_HOME_OFFICE_TILLEY = 2012

#: Tilley outcomes as the CSV writes them -> concept of the award-outcome scheme.
AWARD_OUTCOMES: dict[str, str] = {
    "winner": "winner",
    "runner-up": "runner-up",
    "commended": "commended",
    "certificate of merit": "commended",
    "finalist": "finalist",
    "shortlisted": "shortlisted",
    "entry": "entry",
}

#: Tilley category labels that are not the slug of their concept's notation.
TILLEY_CATEGORIES: dict[str, str] = {
    "partnership projects": "partnership",
    "effective partnerships": "partnership",
}

#: Toolkit effect labels (new site; the old site's icons were transcribed to these, see
#: crime-reduction-toolkit.notes.md) -> notation of the emmie-effect concept. "No impact
#: (some studies suggest a decrease)" is point 3 of the eight: some evidence of a reduction,
#: no significant effect overall.
TOOLKIT_EFFECTS: dict[str, str] = {
    "overall reduction": "1",
    "overall reduction, some rises": "2",
    "some reduction": "3",
    "no impact (some studies suggest a decrease)": "3",
    "mixed findings": "4",
    "overall rise": "8",
}

#: The Toolkit's evidence-quality words (new site) and 0-4 scores (old site, "0 (icon
#: empty)" included): the notes find 4 = Very strong ... 1 = Low on pages showing both.
EVIDENCE_QUALITY: dict[str, str] = {
    "very strong": "very-strong",
    "strong": "strong",
    "moderate": "moderate",
    "low": "low",
    "limited": "low",
    "no information": "no-information",
    "4": "very-strong",
    "3": "strong",
    "2": "moderate",
    "1": "low",
    "0": "no-information",
}

#: EMMIE dimension (notation of the emmie-dimension concept) -> the CSV column of its quality.
EMMIE_DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("effect", "effect_quality"),
    ("mechanism", "mechanism"),
    ("moderators", "moderators"),
    ("implementation", "implementation"),
    ("economic-cost", "economic_cost"),
)

#: EMMIE dimension -> the CSV column of our one-sentence summary of what the Toolkit found
#: for it (blank where the stored page did not show that dimension's text).
EMMIE_SUMMARIES: dict[str, str] = {
    "effect": "effect_summary",
    "mechanism": "mechanism_summary",
    "moderators": "moderators_summary",
    "implementation": "implementation_summary",
    "economic-cost": "economic_cost_summary",
}

#: Inspection programme cells ("PEEL spotlight", "PEEL 2021/22") -> inspection-programme
#: concept; the first pattern that matches wins, so a PEEL spotlight is a spotlight.
INSPECTION_PROGRAMMES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bspotlight\b", re.IGNORECASE), "spotlight"),
    (re.compile(r"\bthematic\b", re.IGNORECASE), "thematic"),
    (re.compile(r"^PEEL\b", re.IGNORECASE), "peel"),
)

#: Words of a topic hint that clearly name a data.police.uk crime category (pb:crimeProblem).
#: Hints that span categories ("acquisitive crime", "domestic abuse", "retail crime") name
#: none: a crime problem is written only where the category is plain.
CRIME_PROBLEM_WORDS: tuple[tuple[str, str], ...] = (
    ("burglary", "burglary"),
    ("robbery", "robbery"),
    ("vehicle crime", "vehicle-crime"),
    ("criminal damage", "criminal-damage-arson"),
    ("graffiti", "criminal-damage-arson"),
    ("anti-social behaviour", "anti-social-behaviour"),
    ("antisocial behaviour", "anti-social-behaviour"),
    ("violence", "violent-crime"),
    ("assaults", "violent-crime"),
    ("drug supply", "drugs"),
)

#: Words of a topic hint that name a concept of the topic scheme, besides the concepts'
#: own labels (which match as they are). A concept the vocabulary lacks is not written.
TOPIC_WORDS: tuple[tuple[str, str], ...] = (
    ("anti-social behaviour", "anti-social-behaviour"),
    ("antisocial behaviour", "anti-social-behaviour"),
    ("domestic abuse", "violence-against-women-and-girls"),
    ("violence against women", "violence-against-women-and-girls"),
    ("knife crime", "knife-crime"),
    ("mental health", "vulnerability-and-safeguarding"),
    ("missing persons", "vulnerability-and-safeguarding"),
    ("missing children", "vulnerability-and-safeguarding"),
    ("vulnerability", "vulnerability-and-safeguarding"),
    ("ethics", "ethics-and-values"),
    ("workforce", "organisation-including-workforce"),
    ("staff wellbeing", "organisation-including-workforce"),
    ("officer wellbeing", "organisation-including-workforce"),
    ("street drinking", "drugs-and-alcohol"),
    ("alcohol", "drugs-and-alcohol"),
    ("drug", "drugs-and-alcohol"),
    ("road safety", "road-safety"),
    ("motorcycle casualties", "road-safety"),
    ("acquisitive crime", "acquisitive-crime"),
)

#: Who took part: (CSV column, participation role, the shortcut property also written).
PARTICIPATION: tuple[tuple[str, str, URIRef], ...] = (
    ("lead_organisation", "lead", PB.organisation),
    ("partners", "partner", PB.partner),
)


@dataclass(frozen=True)
class RecognitionKind:
    """A kind of recognition: its recognised-practice concept and the class of its records."""

    source: str     # notation in the recognised-practice scheme, and the IRI's segment
    cls: URIRef


TILLEY = RecognitionKind("tilley-award", PB.TilleyAward)
STAR_FUND = RecognitionKind("police-star-fund", PB.StarFundGrant)
HMICFRS_MENTION = RecognitionKind("hmicfrs", PB.HMICFRSInspectionMention)


# -- shared helpers --------------------------------------------------------------------------

def page_urls(cell: str | None) -> tuple[list[str], list[str]]:
    """The web addresses in a source cell ("url ; url"), and the parts that are not one."""
    good, bad = [], []
    for part in split_values(cell):
        (good if _URL.match(part) else bad).append(part)
    return good, bad


def keyed(row: Mapping[str, str | None]) -> dict[str, str]:
    """A CSV row keyed as the tables here name columns ("Date read" -> date_read), with its
    cells stripped; what the headings and the reader's matcher agree on."""
    return {heading_key(k): (v or "").strip() for k, v in row.items() if k}


def round_slug(text: str) -> str | None:
    """"2023/24" -> "2023-24" (the star-fund-round notation); None if it is not a round."""
    match = _ROUND.match(text)
    return f"{match.group(1)}-{match.group(2)}" if match else None


def node_slug(iri: URIRef) -> str:
    """The last segment of an IRI under id/: the slug its kind was minted with."""
    return str(iri).rsplit("/", 1)[-1]


def find(table: Mapping[str, str], value: str) -> str | None:
    """``value`` looked up in one of the tables above, both sides normalised (case, dashes,
    quotes and spaces do not count)."""
    return next((v for k, v in table.items() if normalise(k) == normalise(value)), None)


def mentions(text: str, words: str) -> bool:
    """Whether ``words`` occur in ``text`` as whole words (both normalised)."""
    return re.search(rf"(?<![\w-]){re.escape(normalise(words))}(?![\w-])", normalise(text)) \
        is not None


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def sample_practices() -> dict[str, tuple[URIRef, str]]:
    """Slug -> (IRI, title) of the bundled sample practices, keyed by the slug of each title
    and alternate name and by the IRI's own slug: a corpus row with one of these slugs is
    the same practice, and takes its IRI and title."""
    g = bundle_graph(SAMPLE)
    found: dict[str, tuple[URIRef, str]] = {}
    for practice in g.subjects(RDF.type, PB.Practice):
        title = str(g.value(practice, DCTERMS.title) or "")
        names = [*g.objects(practice, DCTERMS.title), *g.objects(practice, SCHEMA.alternateName)]
        for key in (node_slug(practice), *(slugify(str(n)) for n in names)):
            found.setdefault(key, (practice, title))
    return found


@lru_cache(maxsize=1)
def same_practices() -> dict[str, tuple[URIRef, str]]:
    """Slug of a corpus title -> (IRI, title) of the practice it is, where the titles differ
    too much for their slugs to agree (``data/corpus/same-practice.csv``, each with why)."""
    with SAME_PRACTICE.path().open(encoding="utf-8", newline="") as f:
        return {slugify(row["title"]): (ID[f"practice/{row['practice']}"], row["practice_title"])
                for row in csv.DictReader(f)}


class CorpusWriter:
    """What the corpus converters share: the output and its problems, and the nodes that
    several rows may name (pages, practices, organisations, reports), each written once."""

    def __init__(self, *, file: str, graph_name: str, title: str | None,
                 out: Conversion | None = None, concepts: ConceptIndex | None = None,
                 organisations: OrganisationIndex | None = None) -> None:
        self.file = file
        self.out = out or Conversion()
        self.g = self.out.triples
        self.concepts = concepts or bundled_index()
        self.organisations = organisations or bundled_organisations()
        self.known = {**sample_practices(), **same_practices()}
        self.written: set[URIRef] = set()  # nodes already described in this graph
        if title is not None:
            self.out.describe_dataset(graph_name, title)

    def problem(self, severity: str, message: str, row: int, column: str, value: str = "",
                focus: URIRef | None = None) -> None:
        self.out.problems.append(Problem(severity, message, self.file, row, column,
                                         focus=str(focus) if focus is not None else None,
                                         value=value or None))

    def first_time(self, node: URIRef, row: int, column: str | None = None) -> bool:
        """True the first time ``node`` is met (describe it then); remembers its row."""
        if node in self.written:
            return False
        self.written.add(node)
        self.out.add_row(node, row, column)
        return True

    # -- pages -------------------------------------------------------------------------

    def sources(self, n: int, row: Row) -> list[URIRef]:
        """The pages a row came from, each described once with the day it was read; a row
        naming none is reported (every corpus record must name its page)."""
        urls, bad = page_urls(row.get("source_url"))
        for part in bad:
            self.problem(WARNING, "Not a web address; ignored.", n, "source_url", part)
        if not urls:
            self.problem(WARNING, "The row names no source page (source_url); every corpus "
                         "record must, so the row was not converted.", n, "source_url")
            return []
        return self.pages(n, urls, row.get("date_read", ""))

    def pages(self, n: int, urls: list[str], read: str) -> list[URIRef]:
        """Describe each page as a foaf:Document read on ``read`` (an ISO date)."""
        try:
            day = Literal(date.fromisoformat(read).isoformat(), datatype=XSD.date)
        except ValueError:
            day = None
            self.problem(WARNING, "Not a date (expected e.g. 2026-12-01); the pages of this "
                         "row have no date read.", n, "date_read", read)
        pages = [URIRef(u) for u in urls]
        for page in pages:
            if self.first_time(page, n, "source_url"):
                self.g.add((page, RDF.type, FOAF.Document))
                if day is not None:
                    self.g.add((page, PB.dateRead, day))
        return pages

    # -- practices and who took part -----------------------------------------------------------

    def practice(self, n: int, row: Row, pages: list[URIRef]) -> tuple[URIRef, str] | None:
        """The practice a row is about: its IRI (a sample practice's when the slugs agree),
        title, summary and pages. A practice met again in the same file gains only pages."""
        title = row.get("title", "")
        if not slugify(title):
            self.problem(WARNING, "The row has no title; not converted.", n, "title", title)
            return None
        slug = slugify(title)
        known = self.known.get(slug)
        practice, canonical = known or (ID[f"practice/{slug}"], title)
        slug = node_slug(practice)
        if self.first_time(practice, n, "title"):
            self.g.add((practice, RDF.type, PB.Practice))
            self.g.add((practice, DCTERMS.identifier, Literal(slug)))
            # A practice described elsewhere keeps its one title (the same triple here), and
            # this source's name for it becomes an alternate name; its summary stays there.
            self.g.add((practice, DCTERMS.title, Literal(canonical, lang="en")))
            if slugify(canonical) != slugify(title):
                self.g.add((practice, SCHEMA.alternateName, Literal(title, lang="en")))
            if (summary := row.get("summary")) and known is None:
                self.g.add((practice, DCTERMS.abstract, Literal(summary, lang="en")))
        for page in pages:
            self.g.add((practice, PROV.wasDerivedFrom, page))
        return practice, slug

    def organisation(self, n: int, name: str, column: str) -> URIRef:
        """A force or known body by its name, else a new organisation minted from it."""
        found = self.organisations.find(name)
        if found is not None:
            return found
        org = OrganisationIndex.mint(name)
        if self.first_time(org, n, column):
            self.g.add((org, RDF.type, PB.Organisation))
            self.g.add((org, SKOS.prefLabel, Literal(name, lang="en")))
        return org

    def participants(self, n: int, practice: URIRef, slug: str, row: Row) -> None:
        """Lead and partners as qualified attributions (PROV) with their roles, plus the
        pb:organisation / pb:partner shortcuts that simple queries use."""
        for column, role, shortcut in PARTICIPATION:
            for name in split_values(row.get(column)):
                org = self.organisation(n, name, column)
                node = ID[f"participation/{slug}/{node_slug(org)}"]
                self.g.add((practice, PROV.qualifiedAttribution, node))
                self.g.add((node, RDF.type, PROV.Attribution))
                self.g.add((node, RDF.type, PB.Participation))
                self.g.add((node, PROV.agent, org))
                self.g.add((node, PROV.hadRole, concept("participation-role", role)))
                self.g.add((practice, shortcut, org))

    def themes(self, practice: URIRef, cell: str | None) -> None:
        """Crime problems and topics that a topic hint clearly names; the rest is left out."""
        for hint in split_values(cell):
            own_label = self.concepts.find("topic", hint)
            topics = {own_label} if own_label is not None else set()
            topics |= {self.concepts.find("topic", t) for w, t in TOPIC_WORDS if mentions(hint, w)}
            problems = {self.concepts.find("crime-category", c)
                        for w, c in CRIME_PROBLEM_WORDS if mentions(hint, w)}
            for prop, found in ((PB.topic, topics), (PB.crimeProblem, problems)):
                for value in found - {None}:
                    self.g.add((practice, prop, value))

    # -- recognitions ------------------------------------------------------------------

    def recognition(self, n: int, practice: URIRef, slug: str, kind: RecognitionKind,
                    key: str | None, pages: list[URIRef], column: str) -> URIRef:
        """``id/recognition/{practice}/{source}/{key}`` (the v1 form without a key), linked
        both ways with its practice, typed with its source's class."""
        path = f"recognition/{slug}/{kind.source}" + (f"/{key}" if key else "")
        node = ID[path]
        self.out.add_row(node, n, column)
        g = self.g
        g.add((practice, PB.recognition, node))
        g.add((node, RDF.type, PB.Recognition))
        g.add((node, RDF.type, kind.cls))
        g.add((node, PB.recognises, practice))
        g.add((node, PB.recognitionSource, concept("recognised-practice", kind.source)))
        for page in pages:
            g.add((node, PROV.wasDerivedFrom, page))
        return node

    def lookup(self, n: int, table: Mapping[str, str], value: str, column: str,
               what: str) -> str | None:
        """``value`` through one of the tables above; a value it lacks is reported."""
        found = find(table, value)
        if found is None:
            known = "; ".join(sorted(table))
            self.problem(WARNING, f"\"{value}\" is not a {what} we know; not recorded. "
                         f"Known values: {known}.", n, column, value)
        return found


#: Converts one row (keyed) of a corpus file, numbered as the file counts.
RowConverter = Callable[[CorpusWriter, int, Row], None]


def convert_rows(rows: Iterable[Mapping[str, str | None]], convert_row: RowConverter, *,
                 file: str, graph_name: str, title: str) -> Conversion:
    """Run ``convert_row`` on every row (numbered as the file counts: headings are row 1)."""
    writer = CorpusWriter(file=file, graph_name=graph_name, title=title)
    for number, row in enumerate(rows, start=2):
        convert_row(writer, number, keyed(row))
    return writer.out


# -- Tilley awards ----------------------------------------------------------------------------

def tilley_row(w: CorpusWriter, n: int, row: Row) -> None:
    """An entry to the Tilley awards: the practice, and an award for its year with its
    category and outcome (winner, runner-up, … entry)."""
    year = row.get("year", "")
    if not _YEAR.match(year):
        w.problem(WARNING, "Not a year (expected e.g. 2003); the row was not converted.",
                  n, "year", year)
        return
    pages = w.sources(n, row)
    found = w.practice(n, row, pages) if pages else None
    if found is None:
        return
    practice, slug = found
    award = w.recognition(n, practice, slug, TILLEY, year, pages, "year")
    w.g.add((award, PB.awardYear, Literal(year, datatype=XSD.gYear)))
    w.g.add((award, DCTERMS.date, Literal(year, datatype=XSD.gYear)))
    if int(year) <= LAST_HOME_OFFICE_TILLEY:
        w.g.add((award, PB.recognisedBy, HOME_OFFICE))
    if category := row.get("category"):
        notation = find(TILLEY_CATEGORIES, category) or slugify(category)
        w.g.add((award, PB.awardCategory, concept("tilley-category", notation)))
    if outcome := row.get("outcome"):
        if found_outcome := w.lookup(n, AWARD_OUTCOMES, outcome, "outcome", "Tilley outcome"):
            w.g.add((award, PB.awardOutcome, concept("award-outcome", found_outcome)))
    w.participants(n, practice, slug, row)
    w.themes(practice, row.get("topic_hint"))


def convert_tilley(rows: Iterable[Mapping[str, str | None]], *, file: str,
                   graph_name: str = "corpus-tilley") -> Conversion:
    """Tilley award entries (tilley-awards.csv) to practices with their awards."""
    return convert_rows(rows, tilley_row, file=file, graph_name=graph_name,
                        title="Tilley award entries from the public record")


# -- Police STAR Fund ---------------------------------------------------------------------------

def star_fund_row(w: CorpusWriter, n: int, row: Row) -> None:
    """A STAR Fund project: the practice and a grant for its round ("undated" when the pages
    did not say which), with its amount in pounds where a page gave one."""
    pages = w.sources(n, row)
    found = w.practice(n, row, pages) if pages else None
    if found is None:
        return
    practice, slug = found
    text = row.get("round", "")
    key = round_slug(text)
    if text and key is None:
        w.problem(WARNING, "Not a funding round (expected e.g. 2023/24); recorded as undated.",
                  n, "round", text)
    grant = w.recognition(n, practice, slug, STAR_FUND, key or "undated", pages, "round")
    if key:  # the rounds that name a year are the OPCSA-run ones (2021/22 on)
        w.g.add((grant, PB.fundingRound, concept("star-fund-round", key)))
        w.g.add((grant, PB.recognisedBy, OPCSA))
    if amount := row.get("amount_gbp"):
        star_amount(w, n, grant, amount)
    w.participants(n, practice, slug, row)
    w.themes(practice, row.get("theme"))


def star_amount(w: CorpusWriter, n: int, grant: URIRef, text: str) -> None:
    """``{grant}/amount``: a schema:MonetaryAmount in GBP (the CSV's column is pounds)."""
    try:
        value = Decimal(text.replace(",", "").lstrip("£"))
    except InvalidOperation:
        w.problem(WARNING, "Not an amount of pounds (expected e.g. 109145 or 255266.88); "
                  "not recorded.", n, "amount_gbp", text, grant)
        return
    amount = URIRef(f"{grant}/amount")
    w.g.add((grant, SCHEMA.amount, amount))
    w.g.add((amount, RDF.type, SCHEMA.MonetaryAmount))
    w.g.add((amount, SCHEMA.value, Literal(str(value), datatype=XSD.decimal)))
    w.g.add((amount, SCHEMA.currency, Literal("GBP")))


def convert_star_fund(rows: Iterable[Mapping[str, str | None]], *, file: str,
                      graph_name: str = "corpus-star-fund") -> Conversion:
    """Police STAR Fund projects (star-fund.csv) to practices with their grants."""
    return convert_rows(rows, star_fund_row, file=file, graph_name=graph_name,
                        title="Police STAR Fund projects from the public record")


# -- Crime Reduction Toolkit ----------------------------------------------------------------------

def toolkit_row(w: CorpusWriter, n: int, row: Row) -> None:
    """The Toolkit's assessment of an intervention type: its effect on the emmie-effect
    scale, and the quality of evidence for each of the five EMMIE dimensions, each with our
    summary of the Toolkit's finding where the row gives one."""
    slug = row.get("slug") or slugify(row.get("title", ""))
    effect = row.get("effect", "")
    value = find(TOOLKIT_EFFECTS, effect)
    if value is None:
        known = "; ".join(sorted(TOOLKIT_EFFECTS))
        w.problem(ERROR, f"\"{effect}\" is not a Toolkit effect label we know. Use one of: "
                  f"{known}.", n, "effect", effect)
        return
    pages = w.sources(n, row)
    if not slug or not pages:
        return
    g = w.g
    assessment = ID[f"assessment/toolkit/{slug}"]
    if not w.first_time(assessment, n, "slug"):
        w.problem(ERROR, f"The intervention type \"{slug}\" is assessed by an earlier row "
                  "too; give each row its own slug.", n, "slug", slug)
        return
    g.add((assessment, RDF.type, PB.RatingAssessment))
    g.add((assessment, RDF.type, PB.EMMIEAssessment))
    g.add((assessment, PB.assessedInterventionType, concept("intervention-type", slug)))
    g.add((assessment, PB.ratingScale, scheme("emmie-effect")))
    g.add((assessment, PB.ratingValue, concept("emmie-effect", value)))
    g.add((assessment, PB.assessedBy, COLLEGE))
    if summary := row.get("summary"):
        g.add((assessment, DCTERMS.abstract, Literal(summary, lang="en")))
    for page in pages:
        g.add((assessment, PROV.wasDerivedFrom, page))
    for dimension, column in EMMIE_DIMENSIONS:
        rating = URIRef(f"{assessment}/{dimension}")
        g.add((assessment, PB.emmieRating, rating))
        g.add((rating, RDF.type, PB.EMMIERating))
        g.add((rating, PB.emmieDimension, concept("emmie-dimension", dimension)))
        if cell := clean(row.get(column, "")):  # "0 (icon empty)" is a score of 0
            if quality := w.lookup(n, EVIDENCE_QUALITY, cell, column, "quality of evidence"):
                g.add((rating, PB.evidenceQuality, concept("evidence-quality", quality)))
        if text := row.get(EMMIE_SUMMARIES[dimension]):
            g.add((rating, DCTERMS.description, Literal(text, lang="en")))


def convert_toolkit(rows: Iterable[Mapping[str, str | None]], *, file: str,
                    graph_name: str = "corpus-toolkit") -> Conversion:
    """Crime Reduction Toolkit pages (crime-reduction-toolkit.csv) to EMMIE assessments."""
    return convert_rows(rows, toolkit_row, file=file, graph_name=graph_name,
                        title="Crime Reduction Toolkit assessments from the public record")


# -- HMICFRS ------------------------------------------------------------------------------------

def hmicfrs_row(w: CorpusWriter, n: int, row: Row) -> None:
    """Practice an HMICFRS inspection noted: the practice, a mention keyed by its report
    (or the report's year; the v1 IRI when neither is known), and the report itself."""
    pages = w.sources(n, row)
    found = w.practice(n, row, pages) if pages else None
    if found is None:
        return
    practice, slug = found
    day = hmicfrs_date(w, n, row.get("report_date", ""))
    report = inspection_report(w, n, row, day, pages)
    key = node_slug(report) if report is not None else (str(day)[:4] if day else None)
    mention = w.recognition(n, practice, slug, HMICFRS_MENTION, key, pages, "report_title")
    w.g.add((mention, PB.recognisedBy, HMICFRS))
    if report is not None:
        w.g.add((mention, PB.inspectionReport, report))
    if day is not None:
        w.g.add((mention, DCTERMS.date, day))
    w.participants(n, practice, slug, row)
    w.themes(practice, row.get("topic_hint"))


def hmicfrs_date(w: CorpusWriter, n: int, text: str) -> Literal | None:
    """A report date as precise as the CSV gives it (xsd:date, gYearMonth or gYear)."""
    if not text:
        return None
    day = parse_date(text)
    if day is None:
        w.problem(WARNING, "Not a date (expected e.g. 2022-08-11, 2022-11 or 2022); not "
                  "recorded.", n, "report_date", text)
    return day


def inspection_report(w: CorpusWriter, n: int, row: Row, day: Literal | None,
                      pages: list[URIRef]) -> URIRef | None:
    """``id/report/{slug of its title}``, described the first time a row names it."""
    title = row.get("report_title", "")
    if not slugify(title):
        return None
    report = ID[f"report/{slugify(title)}"]
    g = w.g
    for page in pages:
        g.add((report, PROV.wasDerivedFrom, page))
    if not w.first_time(report, n, "report_title"):
        return report
    g.add((report, RDF.type, PB.InspectionReport))
    g.add((report, DCTERMS.title, Literal(title, lang="en")))
    if day is not None:
        g.add((report, DCTERMS.date, day))
    urls, bad = page_urls(row.get("report_url"))
    for url in urls:
        g.add((report, SCHEMA.url, URIRef(url)))
    for part in bad:
        w.problem(WARNING, "Not a web address; ignored.", n, "report_url", part)
    if programme := row.get("programme"):
        notation = next((c for p, c in INSPECTION_PROGRAMMES if p.search(programme)), None)
        if notation is None:
            w.problem(WARNING, f"\"{programme}\" names no inspection programme we know "
                      "(PEEL, spotlight, thematic); not recorded.", n, "programme", programme)
        else:
            g.add((report, PB.inspectionProgramme, concept("inspection-programme", notation)))
    return report


def convert_hmicfrs(rows: Iterable[Mapping[str, str | None]], *, file: str,
                    graph_name: str = "corpus-hmicfrs") -> Conversion:
    """Practice noted by HMICFRS (hmicfrs-practice.csv) to practices, mentions and reports."""
    return convert_rows(rows, hmicfrs_row, file=file, graph_name=graph_name,
                        title="Practice noted in HMICFRS inspections, from the public record")


# -- practice bank -------------------------------------------------------------------------------

def convert_practice_bank(headings: list[str], rows: Iterable[Mapping[str, str | None]], *,
                          file: str, graph_name: str = "corpus-practice-bank") -> Conversion:
    """Practice-bank entries (practice-bank.csv has the practices CSV's columns plus
    date_read): converted by the practices converter itself, so they are exactly what
    ``practicebank load`` makes of such rows, plus the pages read and when."""
    read: list[tuple[int, str | None, str]] = []

    def noting(rows: Iterable[Mapping[str, str | None]]) -> Iterator[Mapping[str, str | None]]:
        for number, row in enumerate(rows, start=2):
            cells = keyed(row)
            read.append((number, cells.get("source_url"), cells.get("date_read", "")))
            yield row

    out = convert_practices(headings, noting(rows), file=file, graph_name=graph_name)
    writer = CorpusWriter(file=file, graph_name=graph_name, title=None, out=out)
    for number, cell, day in read:
        writer.pages(number, page_urls(cell)[0], day)  # the converter warned of the rest
    return out


# -- the sources, for the reader table ---------------------------------------------------------

Convert = Callable[[list[str], Iterable[Mapping[str, str | None]], ReadContext], Conversion]


@dataclass(frozen=True)
class CorpusSource:
    """One corpus file: the bundle it ships as, and how a reader knows and converts it."""

    bundle: Bundle
    reader: str                  # the reader's name in load reports and provenance
    headings: frozenset[str]     # headings (as heading_key gives them) such a file has
    convert: Convert

    def matches(self, headings: list[str]) -> bool:
        return self.headings <= {heading_key(h) for h in headings}


def _bundle(graph: str) -> Bundle:
    return next(b for b in CORPUS if b.graph == graph)


#: Tried in order, before the general practices CSV (which needs only a title).
SOURCES: tuple[CorpusSource, ...] = (
    CorpusSource(
        _bundle("corpus-tilley"), "corpus-tilley-csv",
        frozenset({"year", "outcome", "title", "date_read"}),
        lambda headings, rows, ctx: convert_tilley(rows, file=ctx.file,
                                                   graph_name=ctx.graph_name)),
    CorpusSource(
        _bundle("corpus-star-fund"), "corpus-star-fund-csv",
        frozenset({"round", "title", "amount_gbp", "date_read"}),
        lambda headings, rows, ctx: convert_star_fund(rows, file=ctx.file,
                                                      graph_name=ctx.graph_name)),
    CorpusSource(
        _bundle("corpus-toolkit"), "corpus-toolkit-csv",
        frozenset({"slug", "effect", *(column for _, column in EMMIE_DIMENSIONS)}),
        lambda headings, rows, ctx: convert_toolkit(rows, file=ctx.file,
                                                    graph_name=ctx.graph_name)),
    CorpusSource(
        _bundle("corpus-hmicfrs"), "corpus-hmicfrs-csv",
        frozenset({"title", "report_title", "report_date", "date_read"}),
        lambda headings, rows, ctx: convert_hmicfrs(rows, file=ctx.file,
                                                    graph_name=ctx.graph_name)),
    CorpusSource(
        _bundle("corpus-practice-bank"), "corpus-practice-bank-csv",
        frozenset({"title", "does_it_work", "date_read"}),
        lambda headings, rows, ctx: convert_practice_bank(headings, rows, file=ctx.file,
                                                          graph_name=ctx.graph_name)),
)


__all__ = [
    "SOURCES", "CorpusSource", "convert_hmicfrs", "convert_practice_bank", "convert_star_fund",
    "convert_tilley", "convert_toolkit", "sample_practices",
]
