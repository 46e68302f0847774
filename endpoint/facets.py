"""The facet index behind /practices, and the SPARQL query each selection is equivalent to.

Faceted browsing asks, on every page, how many practices each of a few hundred facet values
would leave under the current selection. Asking the store that (one COUNT per value) costs
seconds on 100,000 practices; so the index is built once per commit (``PerCommit``), from
one ``source()`` scan per predicate, and answers with bit arithmetic on Python ints:

* the scans read each predicate's pairs as N-Triples keys through :mod:`.store_scan`
  (Oxigraph writes them as TSV, in Rust): half the time of one Python term per quad, which
  on 100,000 practices was most of the build;
* practices are numbered 0..n-1 **in title order** (so the title order is the bit order);
* every facet value has a bitmap, bit *i* set when practice *i* has the value;
* the selection is the AND over facets of the OR over the values chosen in each;
* the count shown beside a value is ``(selection without its own facet & bitmap).bit_count()``
  (a facet's own choices do not zero its siblings: choosing "Promising" still shows how many
  "Worked" practices there are, so a second rating can be added).

Every facet is one row of :data:`FACETS`: how its values are read from the scans (Python)
and the SPARQL pattern that reads the same values, so that :func:`as_sparql` writes the
query giving the same practices in the same order (tests hold the two together).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from practicebank.namespaces import BASE

from .descriptions import LABELS, Source, best_label
from .store_scan import iri_of, is_node, lexical, pairs, typed

PB = BASE + "def/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
DCTERMS = "http://purl.org/dc/terms/"
#: The rating scale of the practice bank's "Does it work?" filter.
DOES_IT_WORK = BASE + "concept/does-it-work"
#: A node's key, as :mod:`.store_scan` reads it: ``<iri>``, ``_:id`` or a literal's N-Triples.
Key = str
Values = dict[Key, set[Key]]  # a practice -> the values it has in one facet


def key_of(iri: str) -> Key:
    return f"<{iri}>"


def is_iri(key: Key) -> bool:
    return key.startswith("<")


class Scan:
    """The store's quads read one predicate at a time, each predicate once (a full scan
    costs about the same as a handful of lookups on a remote store, and far less than
    100,000 of them on any store)."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.forward: dict[str, Values] = {}
        self.backward: dict[str, Values] = {}

    def out(self, predicate: str) -> Values:
        """subject -> set of objects, for every triple with ``predicate`` (as keys)."""
        if predicate not in self.forward:
            found: Values = {}
            for subject, obj in pairs(self.src, ox.NamedNode(predicate)):
                values = found.get(subject)
                if values is None:
                    found[subject] = {obj}
                else:
                    values.add(obj)
            self.forward[predicate] = found
        return self.forward[predicate]

    def inverse(self, predicate: str) -> Values:
        """object -> set of subjects, for every triple with ``predicate``."""
        if predicate not in self.backward:
            found: dict = {}
            for subject, objects in self.out(predicate).items():
                for o in objects:
                    found.setdefault(o, set()).add(subject)
            self.backward[predicate] = found
        return self.backward[predicate]

    def of_type(self, class_iri: str) -> set[Key]:
        return set(typed(self.src, ox.NamedNode(class_iri)))


# -- reading each facet's values (Python), beside its SPARQL pattern ---------------------------


def union(*maps: dict) -> dict:
    merged: dict = {}
    for m in maps:
        for key, values in m.items():
            merged.setdefault(key, set()).update(values)
    return merged


def then(first: dict, second: dict) -> dict:
    """The path ``first/second``: each key's values followed one step further."""
    return {key: {v for mid in mids for v in second.get(mid, ())}
            for key, mids in first.items()}


def current(scan: Scan, assessments: dict, scale: str | None = None) -> Values:
    """The rating value of each key's current assessments: those no other assessment
    supersedes (pb:supersedes points from the newer to the older), on ``scale`` if given."""
    superseded = {o for objects in scan.out(PB + "supersedes").values() for o in objects}
    scales, values = scan.out(PB + "ratingScale"), scan.out(PB + "ratingValue")
    wanted = key_of(scale) if scale else None
    found: Values = {}
    for key, items in assessments.items():
        for a in items:
            if a in superseded or (wanted is not None and wanted not in scales.get(a, ())):
                continue
            found.setdefault(key, set()).update(values.get(a, ()))
    return found


def read_rating(scan: Scan) -> Values:
    assessments = union(scan.out(PB + "rating"), scan.inverse(PB + "assessedPractice"))
    return current(scan, assessments, DOES_IT_WORK)


def read_force(scan: Scan) -> Values:
    forces = scan.of_type(PB + "PoliceForce")
    return {p: orgs & forces for p, orgs in scan.out(PB + "organisation").items()}


def read_region(scan: Scan) -> Values:
    return union(scan.out(PB + "region"),
                 then(scan.out(PB + "organisation"), scan.out(PB + "region")))


def read_recognition(scan: Scan) -> Values:
    recognitions = union(scan.out(PB + "recognition"), scan.inverse(PB + "recognises"))
    return then(recognitions, scan.out(PB + "recognitionSource"))


def read_partner_type(scan: Scan) -> Values:
    kinds = union(scan.out(PB + "partnerType"), scan.out(ORG + "classification"))
    return union(scan.out(PB + "partnerType"), then(scan.out(PB + "partner"), kinds))


def read_year(scan: Scan) -> Values:
    return {p: {lexical(d)[:4] for d in dates if not is_node(d)}
            for p, dates in scan.out(PB + "startDate").items()}


def read_toolkit_effect(scan: Scan) -> Values:
    toolkit = scan.of_type(PB + "EMMIEAssessment")
    by_type = {t: items & toolkit
               for t, items in scan.inverse(PB + "assessedInterventionType").items()}
    return then(scan.out(PB + "interventionType"), current(scan, by_type))


def scheme(name: str) -> Callable[[Scan], set]:
    """The concepts of one of our schemes (``concept/{name}``): a facet's possible values,
    so that a link naming one that no practice has yet gives an empty list, not a 400."""
    def members(scan: Scan) -> set:
        return scan.inverse(SKOS + "inScheme").get(key_of(BASE + "concept/" + name), set())
    return members


def police_forces(scan: Scan) -> set:
    return scan.of_type(PB + "PoliceForce")


def direct(predicate: str) -> Callable[[Scan], Values]:
    def read(scan: Scan) -> Values:
        return scan.out(predicate)
    return read


@dataclass(frozen=True)
class Facet:
    """One filter of the practice bank: its heading, its URL parameter, how its values are
    read (``read``, from the scans) and the same reading in SPARQL (``pattern``: a group
    pattern binding ``?practice`` and ``?{param}``, with the prefixes pb, skos, org)."""

    name: str
    param: str
    read: Callable[[Scan], Values]
    pattern: str
    how: str
    hierarchy: str | None = None  # the property whose closure a chosen value takes in
    literal: bool = False  # values are literals (their text), not IRIs
    newest_first: bool = False  # list the values in reverse order (years)
    variable: str | None = None  # the pattern's value variable, when not the parameter
    vocabulary: Callable[[Scan], set] | None = None  # every value it may have, used or not

    @property
    def var(self) -> str:
        return "?" + (self.variable or self.param)


#: The facets, in the order the page shows them (the practice bank's own filters first).
FACETS: tuple[Facet, ...] = (
    Facet("Does it work?", "rating", read_rating,
          "?practice pb:rating|^pb:assessedPractice ?assessment .\n"
          f"?assessment pb:ratingScale <{DOES_IT_WORK}> ;\n"
          "            pb:ratingValue ?rating .\n"
          "FILTER NOT EXISTS { ?newer pb:supersedes ?assessment }",
          "the current \"Does it work?\" rating: of the practice's assessments on that scale "
          "(pb:rating or pb:assessedPractice), the ones no other assessment supersedes "
          "(pb:supersedes), their pb:ratingValue", vocabulary=scheme("does-it-work")),
    Facet("Purpose", "purpose", direct(PB + "purpose"), "?practice pb:purpose ?purpose",
          "pb:purpose", vocabulary=scheme("purpose")),
    Facet("Topic", "topic", direct(PB + "topic"),
          "?practice pb:topic/skos:broader* ?topic",
          "pb:topic; a broader topic (skos:broader) includes practices with a narrower one",
          hierarchy=SKOS + "broader", vocabulary=scheme("topic")),
    Facet("Stage of practice", "stage", direct(PB + "stage"), "?practice pb:stage ?stage",
          "pb:stage", vocabulary=scheme("stage")),
    Facet("Police force", "force", read_force,
          "?practice pb:organisation ?force .\n?force a pb:PoliceForce",
          "pb:organisation, when it is a pb:PoliceForce", vocabulary=police_forces),
    Facet("Region", "region", read_region,
          "?practice pb:region|pb:organisation/pb:region ?region",
          "the practice's pb:region, or the pb:region of an organisation that ran it",
          vocabulary=scheme("region")),
    Facet("Recognised by", "recognition", read_recognition,
          "?practice pb:recognition|^pb:recognises ?record .\n"
          "?record pb:recognitionSource ?recognition",
          "pb:recognitionSource of the practice's pb:Recognition records "
          "(pb:recognition or pb:recognises)", vocabulary=scheme("recognised-practice")),
    Facet("Target group", "target", direct(PB + "targetGroup"),
          "?practice pb:targetGroup ?targetGroup", "pb:targetGroup", variable="targetGroup",
          vocabulary=scheme("target-group")),
    Facet("Partner type", "partner", read_partner_type,
          "?practice pb:partnerType|pb:partner/(pb:partnerType|org:classification)"
          " ?partnerType",
          "pb:partnerType of the practice (v1 data), or of its partners "
          "(pb:partner, then pb:partnerType or org:classification)",
          variable="partnerType", vocabulary=scheme("partner-type")),
    Facet("Start year", "year", read_year,
          "?practice pb:startDate ?startDate .\nBIND(SUBSTR(STR(?startDate), 1, 4) AS ?year)",
          "the first four characters of pb:startDate (xsd:gYear, gYearMonth or date)",
          literal=True, newest_first=True),
    Facet("Intervention type", "intervention", direct(PB + "interventionType"),
          "?practice pb:interventionType ?intervention", "pb:interventionType",
          vocabulary=scheme("intervention-type")),
    Facet("Toolkit effect", "effect", read_toolkit_effect,
          "?practice pb:interventionType ?type .\n"
          "?toolkit a pb:EMMIEAssessment ;\n"
          "         pb:assessedInterventionType ?type ;\n"
          "         pb:ratingValue ?effect .\n"
          "FILTER NOT EXISTS { ?newer pb:supersedes ?toolkit }",
          "the effect (pb:ratingValue) of the Crime Reduction Toolkit's current "
          "pb:EMMIEAssessment of the practice's pb:interventionType",
          vocabulary=scheme("emmie-effect")),
)
BY_PARAM = {f.param: f for f in FACETS}


# -- the index ---------------------------------------------------------------------------------


@dataclass
class FacetValue:
    key: Key  # the concept's key (<iri>), or the literal's text
    slug: str  # in URLs: the concept's local name (its full IRI when two share one)
    label: str
    bits: int
    children: list[str] = field(default_factory=list)  # slugs of narrower values


@dataclass
class FacetIndex:
    """Everything /practices needs, for one commit."""

    practices: list[str]  # IRIs, numbered in title order
    titles: list[str | None]
    starts: list[str | None]
    position: dict[str, int]
    values: dict[str, dict[str, FacetValue]]  # facet parameter -> slug -> value, in display order
    roots: dict[str, list[str]]  # facet parameter -> top-level slugs (the tree's roots)
    of_practice: dict[str, list[tuple[str, ...]]]  # facet parameter -> labels per practice
    date_order: list[int]  # newest start first, undated last; title order among equals
    date_rank: list[int]  # each practice's place in date_order
    text_cache: dict[str, int] = field(default_factory=dict)  # q -> bitmap (browse.py)

    @property
    def everything(self) -> int:
        return (1 << len(self.practices)) - 1

    def bits_of(self, iris: Iterable[str]) -> int:
        """The bitmap of these practices (ones the index does not hold are left out)."""
        found = (self.position.get(iri) for iri in iris)
        return bitmap((i for i in found if i is not None), len(self.practices))


def bitmap(numbers: Iterable[int], size: int) -> int:
    """The int with bits ``numbers`` set (built as bytes: or-ing bit by bit into an int
    copies the whole int each time)."""
    packed = bytearray((size + 7) // 8)
    for i in numbers:
        packed[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(packed, "little")


def local_name(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def title_key(title: str | None, iri: str) -> tuple:
    """SPARQL's ``ORDER BY LCASE(?title) STR(?practice)``: unbound titles first."""
    return (0, "", iri) if title is None else (1, title.lower(), iri)


def build(src: Source) -> FacetIndex:
    """The index of every practice in ``src`` (one scan per predicate)."""
    scan = Scan(src)
    members = [p for p in scan.of_type(PB + "Practice") if is_iri(p)]
    titles_of = scan.out(DCTERMS + "title")
    starts_of = scan.out(PB + "startDate")

    def first(values: set | None) -> str | None:
        texts = [lexical(v) for v in values or () if not is_node(v)]
        return min(texts) if texts else None

    rows = sorted(((first(titles_of.get(p)), iri_of(p), p) for p in members),
                  key=lambda row: title_key(row[0], row[1]))
    practices = [row[1] for row in rows]
    position = {iri: i for i, iri in enumerate(practices)}
    number = {row[2]: i for i, row in enumerate(rows)}
    titles = [row[0] for row in rows]
    starts = [first(starts_of.get(row[2])) for row in rows]
    dated = sorted((i for i in range(len(rows)) if starts[i] is not None),
                   key=lambda i: starts[i], reverse=True)  # stable: title order among equals
    date_order = dated + [i for i in range(len(rows)) if starts[i] is None]
    date_rank = [0] * len(rows)
    for place, i in enumerate(date_order):
        date_rank[i] = place

    labels = LabelReader(src)
    values: dict[str, dict[str, FacetValue]] = {}
    roots: dict[str, list[str]] = {}
    of_practice: dict[str, list[tuple[str, ...]]] = {}
    for facet in FACETS:
        per_practice = facet.read(scan)
        positions: dict = {}  # value -> numbers of its practices (a bitmap per add is O(n))
        for practice, found in per_practice.items():
            i = number.get(practice)
            if i is None:
                continue
            for v in found:
                if facet.literal or is_iri(v):
                    positions.setdefault(v, []).append(i)
        direct_bits = {v: bitmap(numbers, len(rows)) for v, numbers in positions.items()}
        broader = scan.out(facet.hierarchy) if facet.hierarchy else {}
        bits = closed(direct_bits, broader)
        for v in facet.vocabulary(scan) if facet.vocabulary else ():
            if is_iri(v):
                bits.setdefault(v, 0)
        found_values = {v: FacetValue(v, "", v if facet.literal else labels.label(v), b)
                        for v, b in bits.items()}
        slugs = unique_slugs(list(found_values), facet.literal)
        for v, fv in found_values.items():
            fv.slug = slugs[v]
        order = labels.ordering(found_values, facet)
        values[facet.param] = {found_values[v].slug: found_values[v] for v in order}
        roots[facet.param] = tree(found_values, order, broader)
        if facet.param in LISTED:
            per_row = [()] * len(rows)
            for practice, found in per_practice.items():
                i = number.get(practice)
                if i is not None:
                    per_row[i] = tuple(sorted(found_values[v].label for v in found
                                              if v in found_values))
            of_practice[facet.param] = per_row
    return FacetIndex(practices, titles, starts, position, values, roots, of_practice,
                      date_order, date_rank)


#: Facets whose values each practice row of a download names.
LISTED = ("rating", "force", "region")


def closed(direct_bits: dict, broader: dict) -> dict:
    """Each value's bitmap with those of every value narrower than it added (``broader``
    followed transitively, as ``skos:broader*``); values only reached as broader ones are
    included."""
    if not broader:
        return dict(direct_bits)
    bits: dict = {}
    for v, b in direct_bits.items():
        seen, todo = set(), [v]
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            bits[node] = bits.get(node, 0) | b
            todo.extend(x for x in broader.get(node, ()) if is_iri(x))
    return bits


def unique_slugs(keys: list, literal: bool) -> dict:
    """Local names, or full IRIs for those that would be ambiguous."""
    if literal:
        return {k: k for k in keys}
    names = [local_name(iri_of(k)) for k in keys]
    seen = Counter(names)
    return {k: (iri_of(k) if seen[n] > 1 else n) for k, n in zip(keys, names, strict=True)}


def tree(found: dict, order: list, broader: dict) -> list[str]:
    """The roots of the values' tree, and each value's children (in display order)."""
    roots = []
    for v in order:
        parents = [p for p in broader.get(v, ()) if p in found and p != v]
        if parents:
            for p in parents:
                found[p].children.append(found[v].slug)
        else:
            roots.append(found[v].slug)
    return roots


class LabelReader:
    """Labels and scale order of facet values (a few hundred lookups at most)."""

    def __init__(self, src: Source) -> None:
        self.src = src

    def label(self, key: Key) -> str:
        node = ox.NamedNode(iri_of(key))
        triples = [q.triple for p in LABELS[:3] for q in self.src.quads(node, p, None, 4)]
        found = best_label(triples)
        return found.value if found else local_name(node.value)

    def scale_order(self, key: Key) -> float:
        for q in self.src.quads(ox.NamedNode(iri_of(key)), ox.NamedNode(PB + "order"), None, 1):
            try:
                return float(q.object.value)
            except ValueError:
                return math.inf
        return math.inf

    def ordering(self, found: dict[object, FacetValue], facet: Facet) -> list:
        """Display order: a scale's own order (pb:order) where it has one, then labels."""
        if facet.literal:
            return sorted(found, reverse=facet.newest_first)
        return sorted(found, key=lambda v: (self.scale_order(v), found[v].label.lower(),
                                            iri_of(v)))


# -- selections --------------------------------------------------------------------------------


@dataclass
class Selection:
    bits: int  # the practices selected
    total: int
    counts: dict[str, dict[str, int]]  # facet parameter -> slug -> count


def select(index: FacetIndex, chosen: dict[str, list[str]],
           restriction: int | None = None) -> Selection:
    """The practices with, in every facet, at least one chosen value (and in
    ``restriction``, the text search's bitmap), with every value's count under the
    selection without its own facet."""
    base = index.everything if restriction is None else restriction & index.everything
    per_facet = {param: or_all(index.values[param][slug].bits for slug in slugs)
                 for param, slugs in chosen.items() if slugs}
    selected = and_all(per_facet.values(), base)
    counts = {}
    for param, values in index.values.items():
        others = selected if param not in per_facet else and_all(
            (b for p, b in per_facet.items() if p != param), base)
        counts[param] = {slug: (others & v.bits).bit_count() for slug, v in values.items()}
    return Selection(selected, selected.bit_count(), counts)


def resolve(index: FacetIndex, param: str, text: str) -> str | None:
    """The slug of the value ``text`` names in facet ``param`` (its slug, or its full IRI),
    or None when the facet has no such value."""
    values = index.values[param]
    if text in values:
        return text
    return next((slug for slug, v in values.items()
                 if is_iri(v.key) and iri_of(v.key) == text), None)


def or_all(bitmaps: Iterable[int]) -> int:
    out = 0
    for b in bitmaps:
        out |= b
    return out


def and_all(bitmaps: Iterable[int], start: int) -> int:
    for b in bitmaps:
        start &= b
    return start


def members(index: FacetIndex, bits: int, sort: str, stop: int | None = None
            ) -> Iterator[int]:
    """The selected practices' numbers in ``sort`` order ("title" or "date"); ``stop``
    says how many the caller will take at most (it chooses how the date order is found)."""
    text = format(bits, "b")[::-1]  # text[i] == "1" when bit i is set
    if sort == "title":  # numbers are in title order: walk the set bits
        yield from set_bits(text)
        return
    total, n = bits.bit_count(), len(index.practices)
    wanted = total if stop is None else min(stop, total)
    # Walking the date order finds ``wanted`` members after about wanted * n / total steps;
    # sorting the members costs about total * log(total): take the cheaper (a walk step
    # costs a fraction of a sort step).
    if total and wanted * n / total > 4 * total * max(1, total.bit_length()) / 8:
        yield from sorted(set_bits(text), key=index.date_rank.__getitem__)
    else:
        size = len(text)
        for i in index.date_order:
            if i < size and text[i] == "1":
                yield i


def set_bits(text: str) -> Iterator[int]:
    i = text.find("1")
    while i != -1:
        yield i
        i = text.find("1", i + 1)


def page_of(index: FacetIndex, bits: int, sort: str, start: int, size: int) -> list[int]:
    return list(itertools.islice(members(index, bits, sort, start + size), start,
                                 start + size))


# -- the same list in SPARQL -------------------------------------------------------------------

#: ORDER BY clauses, by sort parameter (the index's orders are these, in Python).
ORDER_BY = {
    "title": "ORDER BY LCASE(?title) STR(?practice)",
    "date": "ORDER BY DESC(?start) LCASE(?title) STR(?practice)",
}
SORTS = tuple(ORDER_BY)


def as_sparql(index: FacetIndex, chosen: dict[str, list[str]], sort: str = "title",
              text: str | None = None, text_pattern: str | None = None) -> str:
    """The SELECT giving the practices of this selection in this order (with the title and
    start date the list shows): ``chosen`` maps facet parameters to slugs the index holds;
    ``text_pattern`` is the text search's group pattern over ``?practice``."""
    lines = [
        "PREFIX pb:      <https://w3id.org/practicebank/def/>",
        "PREFIX dcterms: <http://purl.org/dc/terms/>",
        "PREFIX skos:    <http://www.w3.org/2004/02/skos/core#>",
        "PREFIX org:     <http://www.w3.org/ns/org#>",
        *(TEXT_PREFIXES if text_pattern else ()),
        "",
        "SELECT ?practice ?title ?start",
        "WHERE {",
        "  # Every practice, with one title and one start date (the first, in code point",
        "  # order: two sources may give two).",
        "  { SELECT ?practice (MIN(STR(?aTitle)) AS ?title) (MIN(STR(?aStart)) AS ?start)",
        "    WHERE { ?practice a pb:Practice .",
        "            FILTER(isIRI(?practice))",
        "            OPTIONAL { ?practice dcterms:title ?aTitle }",
        "            OPTIONAL { ?practice pb:startDate ?aStart } }",
        "    GROUP BY ?practice }",
    ]
    for facet in FACETS:
        slugs = chosen.get(facet.param) or []
        if not slugs:
            continue
        picked = [index.values[facet.param][s] for s in slugs]
        names = " or ".join(v.label for v in picked)
        terms = " ".join(sparql_term(v.key) for v in picked)
        lines.append(f"  # {facet.name}: {one_line(names)}")
        pattern = facet.pattern if facet.pattern.endswith("}") else facet.pattern + " ."
        body = pattern.replace("\n", "\n                  ")
        lines.append("  FILTER EXISTS { " + body)
        lines.append(f"                  VALUES {facet.var} {{ {terms} }} }}")
    if text_pattern:
        lines.append(f"  # Text search: {one_line(text or '')}")
        lines.append("  " + text_pattern.strip().replace("\n", "\n  "))
    lines.append("}")
    lines.append(ORDER_BY[sort])
    return "\n".join(lines) + "\n"


#: The further prefixes the text search's pattern uses (text_index.sparql_restriction).
TEXT_PREFIXES = (
    "PREFIX prov:    <http://www.w3.org/ns/prov#>",
    "PREFIX rdfs:    <http://www.w3.org/2000/01/rdf-schema#>",
    "PREFIX schema:  <https://schema.org/>",
)


def sparql_term(key: Key) -> str:
    """A facet value in SPARQL: an IRI's key as the IRI, a literal facet's text as a
    string."""
    if is_iri(key):
        return str(ox.NamedNode(iri_of(key)))
    return str(ox.Literal(key))


def one_line(text: str) -> str:
    """Text safe in a SPARQL comment (no line breaks), and short."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 120 else flat[:119] + "…"
