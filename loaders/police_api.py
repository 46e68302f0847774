"""data.police.uk force data: the forces list (``/api/forces``) and one force's details
(``/api/forces/{id}``), linked to the reference forces (``graph/reference``).

Nothing here creates a force: the reference table (forces.csv) does that. The forces list
confirms each force's data.police.uk id, links the force to its API record
(``rdfs:seeAlso``) and keeps the API's name as an alternative label where it differs. A
force's details add its web site (``schema:url``) and its engagement channels (social media
pages, ``rdfs:seeAlso``). The ``description`` is prose from the force and is not stored.
The ``telephone`` field, and any list of people (``/people``: senior officers), are personal
or contact data: dropped with a warning naming the field.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rdflib import Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from practicebank.namespaces import ID, PB, POLICE_API, SCHEMA
from practicebank.personal import dropped_field, is_personal_field
from practicebank.problems import ERROR, WARNING, Problem
from practicebank.resources import FORCES, bundle_graph

from .conversion import Conversion, ReadContext, json_locate

FORCE_ID = re.compile(r"^[a-z]+(-[a-z]+)*$")
URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
DETAIL_FIELDS = {"url", "telephone", "engagement_methods", "description"}


@lru_cache(maxsize=1)
def reference_names() -> dict[str, str]:
    """data.police.uk id -> the reference force's preferred name."""
    g = bundle_graph(FORCES)
    return {str(pid): str(g.value(force, SKOS.prefLabel))
            for force, pid in g.subject_objects(PB.policeUkId)}


def is_forces_list(document: object) -> bool:
    return (isinstance(document, list) and bool(document)
            and all(isinstance(item, dict) and {"id", "name"} <= set(item)
                    and "title" not in item for item in document))


def is_force_detail(document: object) -> bool:
    return (isinstance(document, dict) and {"id", "name"} <= set(document)
            and bool(DETAIL_FIELDS & set(document)))


def is_people_list(document: object) -> bool:
    """``/api/forces/{id}/people``: senior officers, with names and biographies."""
    return (isinstance(document, list) and bool(document)
            and all(isinstance(item, dict) and "name" in item and "rank" in item
                    for item in document))


def convert_forces_list(document: list, ctx: ReadContext) -> Conversion:
    out = _conversion(ctx, "data.police.uk forces")
    for number, item in enumerate(document, start=1):
        force = _force(out, ctx, number, item)
        if force is None:
            continue
        pid = item["id"]
        out.triples.add((force, PB.policeUkId, Literal(pid)))
        out.triples.add((force, RDFS.seeAlso, URIRef(POLICE_API + pid)))
        name = item.get("name")
        if isinstance(name, str) and name.strip() and name.strip() != reference_names()[pid]:
            out.triples.add((force, SKOS.altLabel, Literal(name.strip(), lang="en")))
    return out


def convert_force_detail(document: dict, ctx: ReadContext) -> Conversion:
    out = _conversion(ctx, f"data.police.uk details of {document.get('id')}")
    for key in document:
        if is_personal_field(key):
            out.problems.append(dropped_field(key, ctx.file, pointer=f"/{key}"))
    force = _force(out, ctx, None, document)
    if force is None:
        return out
    out.triples.add((force, RDFS.seeAlso, URIRef(POLICE_API + document["id"])))
    url = document.get("url")
    if isinstance(url, str) and URL.match(url.strip()):
        out.triples.add((force, SCHEMA.url, URIRef(url.strip())))
    elif url:
        out.problems.append(Problem(WARNING, "Not a web address; ignored.", ctx.file,
                                    column="url", value=str(url), pointer="/url"))
    methods = document.get("engagement_methods") or []
    for index, method in enumerate(methods if isinstance(methods, list) else []):
        link = method.get("url") if isinstance(method, dict) else None
        if isinstance(link, str) and URL.match(link.strip()):
            out.triples.add((force, RDFS.seeAlso, URIRef(link.strip())))
        elif link:
            out.problems.append(Problem(
                WARNING, "Not a web address; ignored.", ctx.file, column="engagement_methods",
                value=str(link), pointer=f"/engagement_methods/{index}/url"))
    return out


def _conversion(ctx: ReadContext, title: str) -> Conversion:
    out = Conversion(locate=json_locate)
    out.describe_dataset(ctx.graph_name, title, URIRef("https://data.police.uk/docs/"))
    return out


def _force(out: Conversion, ctx: ReadContext, number: int | None, item: dict) -> URIRef | None:
    """The reference force an API record is about, or None (with a problem) if none."""
    where = json_locate(number, "id") if number is not None else {"column": "id",
                                                                   "pointer": "/id"}
    pid = item.get("id")
    if not isinstance(pid, str) or not FORCE_ID.match(pid):
        out.problems.append(Problem(
            ERROR, "Not a data.police.uk force id (lower-case words joined by hyphens, such "
            "as avon-and-somerset).", ctx.file, value=None if pid is None else str(pid),
            **where))
        return None
    if pid not in reference_names():
        out.problems.append(Problem(
            WARNING, f"\"{pid}\" is not the data.police.uk id of a force in the reference "
            "data (graph/reference); not linked.", ctx.file, value=pid, **where))
        return None
    force = ID[f"force/{pid}"]
    out.add_row(force, number, "id")
    return force
