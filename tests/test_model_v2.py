"""Model 2.0 (issue 12, docs/model-v2-spec.md): the ontology has every agreed term, labelled,
defined and aligned, with its deprecations and fixes; the vocabularies have every agreed scheme
with complete concepts, the broad themes and their mappings; the shapes refuse each new kind of
fault (one invalid fixture per rule in ``tests/invalid/``, checked the way test_shapes.py checks
them) and accept a record that uses every new structure."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS, XSD
from test_shapes import expectations

from practicebank.namespaces import slugify
from practicebank.resources import ONTOLOGY, VOCABULARIES, bundle_graph, shapes_graph
from practicebank.validation import validate_graph

HERE = Path(__file__).parent
ROOT = HERE.parent
CORPUS = ROOT / "data" / "corpus"
INVALID = HERE / "invalid"
SHAPES_NS = "https://w3id.org/practicebank/shapes/"
BASE = "https://w3id.org/practicebank/"
PB = BASE + "def/"
CONCEPT = BASE + "concept/"
ONTOLOGY_IRI = URIRef(BASE + "def")
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
QB = "http://purl.org/linked-data/cube#"

#: Every term of sections 1-6 of the spec, with its OWL kind.
CLASSES = [
    "InterventionType", "EMMIEAssessment", "EMMIERating", "OutcomeResult", "InspectionReport",
    "Participation", "ParticipationRole",
    # the concept class of each new scheme
    "EMMIEDimension", "EvidenceQuality", "Outcome", "EffectDirection", "EffectSizeMeasure",
    "AwardOutcome", "TilleyCategory", "FundingRound", "InspectionProgramme", "Country",
    "SourceKind",
]
OBJECT_PROPERTIES = [
    "interventionType", "assessedInterventionType", "emmieRating", "emmieDimension",
    "evidenceQuality", "outcomeResult", "outcome", "direction", "effectSizeMeasure", "cost",
    "supersedes", "awardCategory", "awardOutcome", "fundingRound", "inspectionReport",
    "inspectionProgramme", "wikidata", "adaptedFrom", "replicates", "sameInterventionAs",
    "succeededBy", "succeeds", "country", "sourceKind",
]
DATATYPE_PROPERTIES = [
    "effectSize", "confidenceLow", "confidenceHigh", "confidenceLevel", "significant",
    "sampleSize", "followUp", "period", "awardYear", "gssCode", "charityNumber",
    "companyNumber", "odsCode", "dateRead",
]
NEW_TERMS = CLASSES + OBJECT_PROPERTIES + DATATYPE_PROPERTIES

#: scheme -> (concept class, notations the spec names, ordered?)
SCHEMES = {
    "intervention-type": ("InterventionType", [], False),
    "emmie-dimension": ("EMMIEDimension",
                        ["effect", "mechanism", "moderators", "implementation", "economic-cost"],
                        False),
    "evidence-quality": ("EvidenceQuality",
                         ["very-strong", "strong", "moderate", "low", "no-information"], True),
    "outcome": ("Outcome", ["crime", "reoffending", "victimisation", "calls-for-service",
                            "fear-of-crime", "road-casualties"], False),
    "effect-direction": ("EffectDirection", ["improved", "worsened", "no-change", "mixed"], False),
    "effect-size-measure": ("EffectSizeMeasure", ["odds-ratio", "relative-effect-size",
                                                  "cohens-d", "percentage-change",
                                                  "incident-rate-ratio"], False),
    "participation-role": ("ParticipationRole", ["lead", "co-lead", "partner", "funder",
                                                 "evaluator", "commissioner", "delivery"], False),
    "award-outcome": ("AwardOutcome", ["winner", "runner-up", "commended", "finalist",
                                       "shortlisted", "entry"], True),
    "tilley-category": ("TilleyCategory", ["crime-and-disorder-reduction",
                                           "organisational-support", "partnership"], False),
    "star-fund-round": ("FundingRound", ["2019-20", "2020-21", "2021-22", "2022-23", "2023-24",
                                         "2024-25", "2025-26"], False),
    "inspection-programme": ("InspectionProgramme", ["peel", "thematic", "spotlight"], False),
    "country": ("Country", ["england", "wales", "scotland", "northern-ireland", "guernsey",
                            "jersey", "isle-of-man", "united-kingdom"], False),
    "source-kind": ("SourceKind", ["primary", "secondary"], False),
}
THEMES = [
    "violence", "violence-against-women-and-girls", "acquisitive-crime",
    "anti-social-behaviour-and-disorder", "exploitation-and-vulnerability", "road-safety",
    "organisational-change", "drugs-and-alcohol-harm", "public-protection", "cyber-and-fraud",
]

#: The invalid fixtures of model 2.0, one per rule; test_shapes.py checks them as well.
NEW_FIXTURES = [
    "assessment-about-nothing", "assessment-practice-and-type",
    "assessment-supersedes-another-practice", "assessment-supersedes-itself",
    "dataset-no-structure", "document-date-read-not-a-date",
    "emmie-no-intervention-type", "emmie-rating-no-dimension", "emmie-rating-quality-as-number",
    "emmie-rating-two-qualities", "emmie-two-ratings-on-one-dimension", "emmie-value-off-scale",
    "emmie-wrong-scale", "hmicfrs-report-not-a-report", "mapping-under-concept",
    "money-bad-currency", "money-bad-period", "money-negative-value", "money-untyped",
    "observation-lsoa-dataset-without-lsoa", "organisation-bad-charity-number",
    "organisation-bad-company-number", "organisation-bad-gss-code", "organisation-bad-ods-code",
    "organisation-bad-wikidata", "organisation-country-as-text",
    "outcome-confidence-inverted", "outcome-effect-size-without-measure",
    "outcome-negative-sample-size", "outcome-no-direction", "outcome-no-outcome",
    "outcome-outcome-off-scheme", "participation-no-agent", "participation-no-role",
    "participation-role-off-scheme", "practice-adapted-from-itself",
    "practice-intervention-type-off-scheme", "practice-lead-without-shortcut",
    "practice-replicates-a-non-practice", "practice-source-kind-as-text", "report-no-title",
    "resource-negative-quantity", "resource-without-unit",
    "report-programme-off-scheme", "report-url-as-text", "star-fund-amount-bare-number",
    "star-fund-round-as-text", "tilley-category-as-text", "tilley-outcome-off-scheme",
    "tilley-year-not-a-gyear",
]

VALID = """\
@prefix pb:      <https://w3id.org/practicebank/def/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix schema:  <https://schema.org/> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix foaf:    <http://xmlns.com/foaf/0.1/> .
@prefix qb:      <http://purl.org/linked-data/cube#> .
@prefix org:     <http://www.w3.org/ns/org#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix practice: <https://w3id.org/practicebank/id/practice/> .
@prefix org-id:  <https://w3id.org/practicebank/id/organisation/> .
@prefix force:   <https://w3id.org/practicebank/id/force/> .
@prefix itype:   <https://w3id.org/practicebank/concept/intervention-type/> .
@prefix emmie:   <https://w3id.org/practicebank/concept/emmie-effect/> .
@prefix dim:     <https://w3id.org/practicebank/concept/emmie-dimension/> .
@prefix quality: <https://w3id.org/practicebank/concept/evidence-quality/> .
@prefix outcome: <https://w3id.org/practicebank/concept/outcome/> .
@prefix direction: <https://w3id.org/practicebank/concept/effect-direction/> .
@prefix measure: <https://w3id.org/practicebank/concept/effect-size-measure/> .
@prefix role:    <https://w3id.org/practicebank/concept/participation-role/> .
@prefix award:   <https://w3id.org/practicebank/concept/award-outcome/> .
@prefix tilley:  <https://w3id.org/practicebank/concept/tilley-category/> .
@prefix round:   <https://w3id.org/practicebank/concept/star-fund-round/> .
@prefix programme: <https://w3id.org/practicebank/concept/inspection-programme/> .
@prefix country: <https://w3id.org/practicebank/concept/country/> .
@prefix sourcekind: <https://w3id.org/practicebank/concept/source-kind/> .
@prefix topic:   <https://w3id.org/practicebank/concept/topic/> .
@prefix dow:     <https://w3id.org/practicebank/concept/does-it-work/> .
@prefix cs:      <https://w3id.org/practicebank/concept/crimesolutions/> .
@prefix partner: <https://w3id.org/practicebank/concept/partner-type/> .

# SYNTHETIC: every structure of model 2.0 used once, complete, so that the shapes report
# nothing at all (no violation, no warning). Not real data.

<https://example.org/pages/v2> a foaf:Document ; pb:dateRead "2026-12-01"^^xsd:date .

# -- two practices, linked ---------------------------------------------------------------------

practice:v2-lighting a pb:Practice ;
    dcterms:title "Synthetic street lighting scheme (test fixture)"@en ;
    dcterms:abstract "Brighter lighting on three estates, with a partner charity."@en ;
    prov:wasDerivedFrom <https://example.org/pages/v2> ;
    pb:sourceKind sourcekind:secondary ;
    pb:interventionType itype:improved-street-lighting ;
    pb:purpose <https://w3id.org/practicebank/concept/purpose/prevention> ;
    pb:topic topic:crime-prevention , topic:acquisitive-crime ;
    pb:stage <https://w3id.org/practicebank/concept/stage/evaluated-locally> ;
    pb:organisation force:merseyside , force:cheshire ;
    pb:partner org-id:v2-charity ;
    prov:qualifiedAttribution
        <https://w3id.org/practicebank/id/participation/v2-lighting/merseyside> ,
        <https://w3id.org/practicebank/id/participation/v2-lighting/cheshire> ,
        <https://w3id.org/practicebank/id/participation/v2-lighting/v2-charity> ;
    pb:cost <https://w3id.org/practicebank/id/practice/v2-lighting/cost> ;
    pb:rating <https://w3id.org/practicebank/id/assessment/v2-lighting/does-it-work> ,
        <https://w3id.org/practicebank/id/assessment/v2-lighting/does-it-work/2025-06-01> ;
    pb:evaluation <https://w3id.org/practicebank/id/evaluation/v2-lighting> ;
    pb:recognition <https://w3id.org/practicebank/id/recognition/v2-lighting/tilley-award/2003> ,
        <https://w3id.org/practicebank/id/recognition/v2-lighting/police-star-fund/2023-24> ,
        <https://w3id.org/practicebank/id/recognition/v2-lighting/hmicfrs/v2-report> ,
        <https://w3id.org/practicebank/id/recognition/v2-lighting/smarter-practice/2024-05-01> ;
    pb:adaptedFrom practice:v2-lighting-pilot ;
    pb:replicates practice:v2-lighting-pilot ;
    pb:succeeds practice:v2-lighting-pilot ;
    pb:sameInterventionAs practice:v2-lighting-pilot .

practice:v2-lighting-pilot a pb:Practice ;
    dcterms:title "Synthetic street lighting pilot (test fixture)"@en ;
    dcterms:abstract "The one-estate pilot the scheme grew from."@en ;
    prov:wasDerivedFrom <https://example.org/pages/v2> ;
    pb:sourceKind sourcekind:primary ;
    pb:interventionType itype:improved-street-lighting ;
    pb:purpose <https://w3id.org/practicebank/concept/purpose/prevention> ;
    pb:topic topic:crime-prevention ;
    pb:stage <https://w3id.org/practicebank/concept/stage/implemented> ;
    pb:organisation force:merseyside ;
    prov:qualifiedAttribution <https://w3id.org/practicebank/id/participation/v2-lighting-pilot/merseyside> ;
    pb:rating <https://w3id.org/practicebank/id/assessment/v2-lighting-pilot/does-it-work> ;
    pb:succeededBy practice:v2-lighting ;
    pb:sameInterventionAs practice:v2-lighting .

# -- who took part -------------------------------------------------------------------------------

<https://w3id.org/practicebank/id/participation/v2-lighting/merseyside> a prov:Attribution, pb:Participation ;
    prov:agent force:merseyside ; prov:hadRole role:lead .
<https://w3id.org/practicebank/id/participation/v2-lighting/cheshire> a prov:Attribution, pb:Participation ;
    prov:agent force:cheshire ; prov:hadRole role:co-lead , role:funder .
<https://w3id.org/practicebank/id/participation/v2-lighting/v2-charity> a prov:Attribution, pb:Participation ;
    prov:agent org-id:v2-charity ; prov:hadRole role:partner , role:delivery .
<https://w3id.org/practicebank/id/participation/v2-lighting-pilot/merseyside> a prov:Attribution, pb:Participation ;
    prov:agent force:merseyside ; prov:hadRole role:lead .

org-id:v2-charity a pb:Organisation ;
    skos:prefLabel "Synthetic lighting charity (test fixture)"@en ;
    org:classification partner:voluntary-not-for-profit-organisation ;
    pb:partnerType partner:voluntary-not-for-profit-organisation ;
    pb:country country:england , country:wales ;
    pb:charityNumber "1234567" , "SC012345" , "1234567-1" ;
    pb:companyNumber "01234567" , "SC123456" ;
    pb:gssCode "E06000023" ;
    pb:odsCode "RX1" ;
    pb:wikidata <http://www.wikidata.org/entity/Q42> .

<https://w3id.org/practicebank/id/practice/v2-lighting/cost> a schema:MonetaryAmount ;
    schema:value "25000.00"^^xsd:decimal ; schema:currency "GBP" ;
    pb:period "2023/24" ;
    schema:validFrom "2023-04-01"^^xsd:date ; schema:validThrough "2024-03-31"^^xsd:date ;
    dcterms:description "Lamps and their installation."@en .

# -- ratings over time -----------------------------------------------------------------------------

<https://w3id.org/practicebank/id/assessment/v2-lighting/does-it-work> a pb:RatingAssessment ;
    pb:assessedPractice practice:v2-lighting ;
    pb:ratingScale <https://w3id.org/practicebank/concept/does-it-work> ;
    pb:ratingValue dow:untested-new-or-innovative ;
    pb:assessedBy org-id:college-of-policing ;
    dcterms:date "2023"^^xsd:gYear ;
    prov:wasDerivedFrom <https://example.org/pages/v2> .

<https://w3id.org/practicebank/id/assessment/v2-lighting/does-it-work/2025-06-01> a pb:RatingAssessment ;
    pb:assessedPractice practice:v2-lighting ;
    pb:ratingScale <https://w3id.org/practicebank/concept/does-it-work> ;
    pb:ratingValue dow:promising ;
    pb:assessedBy org-id:college-of-policing ;
    dcterms:date "2025-06-01"^^xsd:date ;
    pb:supersedes <https://w3id.org/practicebank/id/assessment/v2-lighting/does-it-work> ;
    pb:basedOn <https://w3id.org/practicebank/id/evaluation/v2-lighting> ;
    prov:wasDerivedFrom <https://example.org/pages/v2> .

<https://w3id.org/practicebank/id/assessment/v2-lighting-pilot/does-it-work> a pb:RatingAssessment ;
    pb:assessedPractice practice:v2-lighting-pilot ;
    pb:ratingScale <https://w3id.org/practicebank/concept/does-it-work> ;
    pb:ratingValue dow:untested-new-or-innovative ;
    pb:assessedBy org-id:college-of-policing ;
    dcterms:date "2022"^^xsd:gYear ;
    prov:wasDerivedFrom <https://example.org/pages/v2> .

# -- an evaluation with a per-outcome result ---------------------------------------------------------

<https://w3id.org/practicebank/id/evaluation/v2-lighting> a pb:Evaluation ;
    pb:evaluates practice:v2-lighting ;
    pb:studyDesign <https://w3id.org/practicebank/concept/study-design/quasi-experimental> ;
    pb:evidenceStrength <https://w3id.org/practicebank/concept/evidence-strength/3> ;
    pb:outcomeResult <https://w3id.org/practicebank/id/evaluation/v2-lighting/result/crime> ;
    prov:wasDerivedFrom <https://example.org/pages/v2> .

<https://w3id.org/practicebank/id/evaluation/v2-lighting/result/crime> a pb:OutcomeResult ;
    pb:outcome outcome:crime ; pb:direction direction:improved ;
    pb:effectSize "1.21"^^xsd:decimal ; pb:effectSizeMeasure measure:relative-effect-size ;
    pb:confidenceLow "1.05"^^xsd:decimal ; pb:confidenceHigh "1.39"^^xsd:decimal ;
    pb:confidenceLevel "0.95"^^xsd:decimal ; pb:significant true ;
    pb:sampleSize "36"^^xsd:nonNegativeInteger ; pb:followUp "P12M"^^xsd:duration .

# -- the Toolkit's EMMIE assessment of the intervention type ------------------------------------------

<https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting> a pb:RatingAssessment, pb:EMMIEAssessment ;
    pb:assessedInterventionType itype:improved-street-lighting ;
    pb:ratingScale <https://w3id.org/practicebank/concept/emmie-effect> ;
    pb:ratingValue emmie:1 ;
    pb:assessedBy org-id:college-of-policing ;
    dcterms:date "2026-12-01"^^xsd:date ;
    prov:wasDerivedFrom <https://example.org/pages/v2> ;
    pb:emmieRating
        <https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting/effect> ,
        <https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting/mechanism> ,
        <https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting/moderators> ,
        <https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting/implementation> ,
        <https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting/economic-cost> .

<https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting/effect> a pb:EMMIERating ;
    pb:emmieDimension dim:effect ; pb:evidenceQuality quality:very-strong ;
    dcterms:description "Synthetic: crime fell in lit areas."@en .
<https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting/mechanism> a pb:EMMIERating ;
    pb:emmieDimension dim:mechanism ; pb:evidenceQuality quality:strong .
<https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting/moderators> a pb:EMMIERating ;
    pb:emmieDimension dim:moderators ; pb:evidenceQuality quality:moderate .
<https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting/implementation> a pb:EMMIERating ;
    pb:emmieDimension dim:implementation ; pb:evidenceQuality quality:low .
<https://w3id.org/practicebank/id/assessment/toolkit/improved-street-lighting/economic-cost> a pb:EMMIERating ;
    pb:emmieDimension dim:economic-cost ; pb:evidenceQuality quality:no-information .

# -- a CrimeSolutions-style rating of the type for one outcome --------------------------------------

<https://w3id.org/practicebank/id/assessment/improved-street-lighting/crimesolutions/2020-01-01> a pb:RatingAssessment ;
    pb:assessedInterventionType itype:improved-street-lighting ;
    pb:ratingScale <https://w3id.org/practicebank/concept/crimesolutions> ;
    pb:ratingValue cs:promising ;
    pb:assessedBy org-id:college-of-policing ;
    dcterms:date "2020-01-01"^^xsd:date ;
    prov:wasDerivedFrom <https://example.org/pages/v2> ;
    pb:outcomeResult <https://w3id.org/practicebank/id/assessment/improved-street-lighting/crimesolutions/2020-01-01/result/fear-of-crime> .

<https://w3id.org/practicebank/id/assessment/improved-street-lighting/crimesolutions/2020-01-01/result/fear-of-crime> a pb:OutcomeResult ;
    pb:outcome outcome:fear-of-crime ; pb:direction direction:mixed .

# -- recognitions with their facts ------------------------------------------------------------------

<https://w3id.org/practicebank/id/recognition/v2-lighting/tilley-award/2003> a pb:Recognition, pb:TilleyAward ;
    pb:recognises practice:v2-lighting ;
    pb:recognitionSource <https://w3id.org/practicebank/concept/recognised-practice/tilley-award> ;
    pb:recognisedBy org-id:home-office ;
    pb:awardYear "2003"^^xsd:gYear ; dcterms:date "2003"^^xsd:gYear ;
    pb:awardCategory tilley:crime-and-disorder-reduction ;
    pb:awardOutcome award:finalist ;
    prov:wasDerivedFrom <https://example.org/pages/v2> .

<https://w3id.org/practicebank/id/recognition/v2-lighting/police-star-fund/2023-24> a pb:Recognition, pb:StarFundGrant ;
    pb:recognises practice:v2-lighting ;
    pb:recognitionSource <https://w3id.org/practicebank/concept/recognised-practice/police-star-fund> ;
    pb:recognisedBy org-id:opcsa ;
    dcterms:date "2023-09-01"^^xsd:date ;
    pb:fundingRound round:2023-24 ;
    schema:amount <https://w3id.org/practicebank/id/recognition/v2-lighting/police-star-fund/2023-24/amount> ;
    prov:wasDerivedFrom <https://example.org/pages/v2> .

<https://w3id.org/practicebank/id/recognition/v2-lighting/police-star-fund/2023-24/amount> a schema:MonetaryAmount ;
    schema:value "109145"^^xsd:decimal ; schema:currency "GBP" .

<https://w3id.org/practicebank/id/recognition/v2-lighting/hmicfrs/v2-report> a pb:Recognition, pb:HMICFRSInspectionMention ;
    pb:recognises practice:v2-lighting ;
    pb:recognitionSource <https://w3id.org/practicebank/concept/recognised-practice/hmicfrs> ;
    pb:recognisedBy org-id:hmicfrs ;
    dcterms:date "2024-10-10"^^xsd:date ;
    pb:inspectionReport <https://w3id.org/practicebank/id/report/v2-report> ;
    prov:wasDerivedFrom <https://example.org/pages/v2> .

<https://w3id.org/practicebank/id/report/v2-report> a pb:InspectionReport ;
    dcterms:title "Synthetic spotlight report (test fixture)"@en ;
    dcterms:date "2024-10-10"^^xsd:date ;
    schema:url <https://example.org/reports/v2> ;
    pb:inspectionProgramme programme:spotlight ;
    prov:wasDerivedFrom <https://example.org/pages/v2> .

<https://w3id.org/practicebank/id/recognition/v2-lighting/smarter-practice/2024-05-01> a pb:Recognition, pb:SmarterPracticeReview ;
    pb:recognises practice:v2-lighting ;
    pb:recognitionSource <https://w3id.org/practicebank/concept/recognised-practice/smarter-practice> ;
    pb:recognisedBy org-id:college-of-policing , org-id:npcc , org-id:hmicfrs ;
    dcterms:date "2024-05-01"^^xsd:date ;
    prov:wasDerivedFrom <https://example.org/pages/v2> .

# -- crime counts per LSOA, in a dataset of their own -------------------------------------------------

<https://w3id.org/practicebank/id/dataset/v2-lsoa> a qb:DataSet ;
    dcterms:title "Synthetic LSOA counts (test fixture)"@en ;
    qb:structure pb:lsoaCrimeCountStructure .

<https://w3id.org/practicebank/id/observation/v2-lsoa/merseyside-burglary-2024-01-E01006512> a pb:CrimeCountObservation ;
    qb:dataSet <https://w3id.org/practicebank/id/dataset/v2-lsoa> ;
    pb:force force:merseyside ;
    pb:crimeCategory <https://w3id.org/practicebank/concept/crime-category/burglary> ;
    pb:month "2024-01"^^xsd:gYearMonth ; pb:crimeCount 3 ;
    pb:lsoa <http://statistics.data.gov.uk/id/statistical-geography/E01006512> .
"""  # noqa: E501


@pytest.fixture(scope="module")
def onto() -> Graph:
    return bundle_graph(ONTOLOGY)


@pytest.fixture(scope="module")
def vocab() -> Graph:
    return bundle_graph(VOCABULARIES)


def pb(name: str) -> URIRef:
    return URIRef(PB + name)


def concept(scheme: str, notation: str | None = None) -> URIRef:
    return URIRef(CONCEPT + scheme + (f"/{notation}" if notation else ""))


def english(g: Graph, s, p) -> list[str]:
    return [str(o) for o in g.objects(s, p) if isinstance(o, Literal) and o.language == "en"]


def csv_rows(name: str) -> list[dict[str, str]]:
    with (CORPUS / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


# -- the ontology ------------------------------------------------------------------------------

def test_version_is_2_0_0_with_a_change_note_listing_the_changes(onto):
    assert onto.value(ONTOLOGY_IRI, OWL.versionInfo) == Literal("2.0.0")
    assert onto.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef(PB + "2.0.0")
    notes = " ".join(str(n) for n in onto.objects(ONTOLOGY_IRI, SKOS.changeNote))
    assert "2.0.0" in notes
    for term in ("pb:InterventionType", "pb:EMMIERating", "pb:OutcomeResult", "pb:supersedes",
                 "pb:Participation", "pb:sameInterventionAs", "pb:grantAmount",
                 "pb:assessmentDate", "pb:region", "id/mapping"):
        assert term in notes, term


def test_creator_and_publisher_are_an_organisation_iri(onto, vocab):
    project = URIRef(BASE + "id/organisation/practicebank-project")
    for p in (URIRef(DCT + "creator"), URIRef(DCT + "publisher")):
        assert list(onto.objects(ONTOLOGY_IRI, p)) == [project]
        for scheme in vocab.subjects(RDF.type, SKOS.ConceptScheme):
            assert list(vocab.objects(scheme, p)) == [project], scheme
    assert (project, RDF.type, URIRef("http://www.w3.org/ns/org#Organization")) in onto
    assert english(onto, project, RDFS.label)


@pytest.mark.parametrize("name", NEW_TERMS)
def test_every_new_term_is_declared_labelled_defined_and_placed(onto, name):
    term = pb(name)
    kind = (OWL.Class if name in CLASSES else OWL.ObjectProperty if name in OBJECT_PROPERTIES
            else OWL.DatatypeProperty)
    assert (term, RDF.type, kind) in onto
    assert english(onto, term, RDFS.label), "rdfs:label@en"
    assert english(onto, term, SKOS.definition), "skos:definition@en"
    assert onto.value(term, RDFS.isDefinedBy) == ONTOLOGY_IRI
    if kind == OWL.Class:
        assert list(onto.objects(term, RDFS.subClassOf)), "placed under a class"
    else:
        assert onto.value(term, RDFS.domain) is not None, "rdfs:domain"
        assert onto.value(term, RDFS.range) is not None, "rdfs:range"


def test_alignments_the_spec_asks_for(onto):
    sub_class = {("EMMIEAssessment", PB + "RatingAssessment"),
                 ("InterventionType", str(SKOS.Concept)),
                 ("Participation", PROV + "Attribution"),
                 ("ParticipationRole", PROV + "Role"),
                 ("InspectionReport", SCHEMA + "Report")}
    for name, parent in sub_class:
        assert (pb(name), RDFS.subClassOf, URIRef(parent)) in onto, name
    sub_property = {("supersedes", PROV + "wasRevisionOf"), ("wikidata", str(RDFS.seeAlso))}
    sub_property |= {(n, DCT + "identifier")
                     for n in ("gssCode", "charityNumber", "companyNumber", "odsCode")}
    sub_property |= {(n, DCT + "relation") for n in ("adaptedFrom", "replicates",
                                                     "sameInterventionAs", "succeededBy",
                                                     "succeeds")}
    for name, parent in sub_property:
        assert (pb(name), RDFS.subPropertyOf, URIRef(parent)) in onto, name
    # related to, not a kind of, a DQV quality measurement
    assert (pb("EMMIERating"), SKOS.relatedMatch,
            URIRef("http://www.w3.org/ns/dqv#QualityMeasurement")) in onto
    assert (pb("EMMIERating"), RDFS.subClassOf,
            URIRef("http://www.w3.org/ns/dqv#QualityMeasurement")) not in onto
    assert (pb("sameInterventionAs"), RDF.type, OWL.SymmetricProperty) in onto
    assert (pb("succeededBy"), OWL.inverseOf, pb("succeeds")) in onto


def test_deprecated_terms_say_what_replaces_them(onto):
    for name, replacement in (("grantAmount", SCHEMA + "amount"),
                              ("assessmentDate", DCT + "date"),
                              ("crimeCountStructure", PB + "forceCrimeCountStructure")):
        assert onto.value(pb(name), OWL.deprecated) == Literal(True), name
        assert URIRef(replacement) in set(onto.objects(pb(name), URIRef(DCT + "isReplacedBy")))
        assert english(onto, pb(name), SKOS.historyNote), name


def test_faults_of_section_6_are_fixed(onto):
    # pb:region is not a dcterms:spatial (whose range would make concepts Locations)
    assert not list(onto.objects(pb("region"), RDFS.subPropertyOf))
    # country and source kind are object properties onto their schemes' concepts
    for name, cls in (("country", "Country"), ("sourceKind", "SourceKind")):
        assert (pb(name), RDF.type, OWL.ObjectProperty) in onto
        assert (pb(name), RDF.type, OWL.DatatypeProperty) not in onto
        assert onto.value(pb(name), RDFS.range) == pb(cls)
    # partner types may describe organisations
    domain = onto.value(pb("partnerType"), RDFS.domain)
    members = set(onto.items(onto.value(domain, OWL.unionOf)))
    assert members == {pb("Practice"), pb("Organisation")}


def test_data_cube_structures_require_every_dimension(onto):
    """IC-11: a dimension is never optional, so the two levels are two structures."""
    for component in onto.objects(None, URIRef(QB + "component")):
        if onto.value(component, URIRef(QB + "dimension")) is not None:
            assert onto.value(component, URIRef(QB + "componentRequired")) is None
    dims = {}
    for name in ("forceCrimeCountStructure", "lsoaCrimeCountStructure"):
        assert (pb(name), RDF.type, URIRef(QB + "DataStructureDefinition")) in onto
        dims[name] = {onto.value(c, URIRef(QB + "dimension"))
                      for c in onto.objects(pb(name), URIRef(QB + "component"))} - {None}
    assert dims["lsoaCrimeCountStructure"] - dims["forceCrimeCountStructure"] == {pb("lsoa")}


def test_no_identity_links_are_introduced(onto, vocab):
    for g in (onto, vocab):
        assert not list(g.triples((None, OWL.sameAs, None)))
        assert not list(g.triples((None, SKOS.exactMatch, None)))


# -- the vocabularies ----------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_every_new_concept_is_complete_and_in_its_scheme(vocab, scheme):
    cls, named, ordered = SCHEMES[scheme]
    s = concept(scheme)
    assert (s, RDF.type, SKOS.ConceptScheme) in vocab
    assert english(vocab, s, SKOS.prefLabel) and english(vocab, s, SKOS.definition)
    members = set(vocab.subjects(SKOS.inScheme, s))
    assert set(vocab.subjects(RDF.type, pb(cls))) == members, "typed with the scheme's class"
    assert {str(vocab.value(c, SKOS.notation)) for c in members} >= set(named)
    tops = set(vocab.objects(s, SKOS.hasTopConcept))
    for c in members:
        notation = vocab.value(c, SKOS.notation)
        assert c == concept(scheme, str(notation))
        assert english(vocab, c, SKOS.prefLabel) and english(vocab, c, SKOS.definition), c
        assert (c, RDF.type, SKOS.Concept) in vocab
        top = (c, SKOS.topConceptOf, s) in vocab
        assert top == (c in tops), c
        assert top or vocab.value(c, SKOS.broader) in members, c
        for parent in vocab.objects(c, SKOS.broader):  # both ways: no reasoner needed
            assert (parent, SKOS.narrower, c) in vocab, c
        if ordered:
            assert isinstance(vocab.value(c, pb("order")).toPython(), int), c


def test_orders_of_the_ordered_schemes(vocab):
    def orders(scheme):
        return {str(vocab.value(c, SKOS.notation)): vocab.value(c, pb("order")).toPython()
                for c in vocab.subjects(SKOS.inScheme, concept(scheme))}
    assert orders("evidence-quality") == {"very-strong": 4, "strong": 3, "moderate": 2,
                                          "low": 1, "no-information": 0}
    assert orders("award-outcome") == {"winner": 1, "runner-up": 2, "commended": 3,
                                       "finalist": 4, "shortlisted": 5, "entry": 6}
    crimesolutions = orders("crimesolutions")
    assert None not in crimesolutions.values()
    assert crimesolutions["effective"] < crimesolutions["promising"] < crimesolutions["no-effects"]


def test_participation_roles_are_prov_roles(vocab):
    for c in vocab.subjects(SKOS.inScheme, concept("participation-role")):
        assert (c, RDF.type, URIRef(PROV + "Role")) in vocab


def test_star_fund_rounds_run_from_april_to_march(vocab):
    for c in vocab.subjects(SKOS.inScheme, concept("star-fund-round")):
        start, end = str(vocab.value(c, SKOS.notation)).split("-")
        assert str(vocab.value(c, SKOS.prefLabel)) == f"{start}/{end}"
        assert vocab.value(c, URIRef(SCHEMA + "startDate")) == Literal(f"{start}-04-01",
                                                                       datatype=XSD.date)
        assert vocab.value(c, URIRef(SCHEMA + "endDate")) == Literal(
            f"{int(start) + 1}-03-31", datatype=XSD.date)


def test_welsh_labels(vocab):
    assert Literal("Cymru", lang="cy") in set(vocab.objects(concept("country", "wales"),
                                                            SKOS.prefLabel))


def test_intervention_types_are_the_toolkit_rows(vocab):
    rows = csv_rows("crime-reduction-toolkit.csv")
    found = {str(vocab.value(c, SKOS.notation)): str(vocab.value(c, SKOS.prefLabel))
             for c in vocab.subjects(SKOS.inScheme, concept("intervention-type"))}
    assert found == {r["slug"]: r["title"] for r in rows}


def labels(vocab: Graph, scheme: str) -> set[str]:
    from practicebank.loaders.concepts import normalise

    return {normalise(str(label)) for c in vocab.subjects(SKOS.inScheme, concept(scheme))
            for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.notation)
            for label in vocab.objects(c, p)}


def test_tilley_categories_and_inspection_programmes_cover_the_corpus(vocab):
    from practicebank.loaders.concepts import normalise

    notations = {str(vocab.value(c, SKOS.notation))
                 for c in vocab.subjects(SKOS.inScheme, concept("tilley-category"))}
    tilley = labels(vocab, "tilley-category")
    for row in csv_rows("tilley-awards.csv"):
        if row["category"]:
            assert slugify(row["category"]) in notations or normalise(row["category"]) in tilley
    programmes = labels(vocab, "inspection-programme")
    for row in csv_rows("hmicfrs-practice.csv"):
        if row["programme"]:
            assert normalise(row["programme"]) in programmes, row["programme"]


def test_the_tilley_concept_no_longer_contradicts_the_class(vocab, onto):
    tilley = concept("recognised-practice", "tilley-award")
    assert "entered for, shortlisted for or won" in str(vocab.value(tilley, SKOS.definition))
    assert "entered for, shortlisted for or won" in str(onto.value(pb("TilleyAward"),
                                                                   SKOS.definition))


# -- themes --------------------------------------------------------------------------------------

def test_themes_are_the_top_concepts_of_the_topic_scheme(vocab):
    topics = concept("topic")
    assert set(vocab.objects(topics, SKOS.hasTopConcept)) == {concept("topic", t)
                                                               for t in THEMES}
    for c in vocab.subjects(SKOS.inScheme, topics):
        if c in {concept("topic", t) for t in THEMES}:
            assert (c, SKOS.topConceptOf, topics) in vocab
            continue
        assert (c, SKOS.topConceptOf, topics) not in vocab, c
        parents = set(vocab.objects(c, SKOS.broader))
        assert parents and parents <= {concept("topic", t) for t in THEMES}, c
        for parent in parents:  # stated both ways, so no reasoner is needed
            assert (parent, SKOS.narrower, c) in vocab


def test_all_violence_related_topics_by_broader_star(vocab):
    rows = vocab.query("""
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX topic: <https://w3id.org/practicebank/concept/topic/>
        SELECT ?t WHERE { ?t skos:broader* topic:violence }""")
    found = {str(r.t).rsplit("/", 1)[1] for r in rows}
    assert found == {"violence", "violence-other", "violence-including-homicide", "knife-crime",
                     "homicide-prevention"}


def test_every_mapping_has_a_record_under_id_mapping(vocab):
    records = {(vocab.value(r, pb("mappingSubject")), vocab.value(r, pb("mappingPredicate")),
                vocab.value(r, pb("mappingObject"))): r
               for r in vocab.subjects(RDF.type, pb("ConceptMapping"))}
    for r in records.values():
        assert str(r).startswith(BASE + "id/mapping/"), r
        assert english(vocab, r, SKOS.scopeNote), r
    mapping = (SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
    for p in mapping:
        for s, o in vocab.subject_objects(p):
            assert (s, p, o) in records, (s, p, o)
    themes = {concept("topic", t) for t in THEMES}
    mapped = {s for s, _, o in records if s in themes
              and str(o).startswith((CONCEPT + "crime-category/", CONCEPT + "offence-group/"))}
    assert len(mapped) >= 7
    for s, p, _ in records:
        if s in themes:
            assert p in (SKOS.broadMatch, SKOS.relatedMatch)


# -- the shapes ----------------------------------------------------------------------------------

def test_every_new_fixture_is_one_test_shapes_checks():
    """Each fixture of model 2.0 is in tests/invalid, where test_shapes.py validates every
    fixture against the report it names (so it is not validated a second time here)."""
    assert {p.stem for p in INVALID.glob("*.ttl")} >= set(NEW_FIXTURES)


def test_every_new_node_shape_has_a_new_fixture():
    new_shapes = {"EMMIEAssessmentShape", "EMMIERatingShape", "OutcomeResultShape",
                  "MonetaryAmountShape", "TilleyAwardShape", "StarFundGrantShape",
                  "HMICFRSInspectionMentionShape", "InspectionReportShape",
                  "ParticipationShape", "CrimeCountDataSetShape", "DocumentShape"}
    declared = {str(s)[len(SHAPES_NS):] for s in shapes_graph().subjects(RDF.type, SH.NodeShape)
                if isinstance(s, URIRef)}
    assert new_shapes <= declared
    covered = {expectations(INVALID / f"{n}.ttl")["shape"] for n in NEW_FIXTURES}
    assert new_shapes <= covered


def test_a_record_using_every_new_structure_passes_with_no_problem_at_all():
    problems = validate_graph(Graph().parse(data=VALID, format="turtle"), file="valid")
    assert problems == [], "\n".join(f"{p.severity} {p.shape} {p.focus} {p.path} {p.message}"
                                      for p in problems)


def test_the_valid_record_uses_every_new_term():
    g = Graph().parse(data=VALID, format="turtle")
    used = set(g.predicates()) | set(g.objects(None, RDF.type))
    used |= {o for o in g.objects() if isinstance(o, URIRef)}
    # concept classes are met through their concepts; property-only terms through use
    concept_classes = set(CLASSES[CLASSES.index("EMMIEDimension"):]) | {"InterventionType",
                                                                         "ParticipationRole"}
    missing = [n for n in NEW_TERMS if n not in concept_classes and pb(n) not in used]
    assert missing == []


def test_the_valid_record_gets_the_same_report_from_both_engines():
    from practicebank.engines import choose, engine_names

    if "turbo" not in engine_names() or not choose("turbo"):
        pytest.skip("pyshacl-turbo is not installed")
    g = Graph().parse(data=VALID, format="turtle")
    assert validate_graph(g, engine="turbo") == validate_graph(g, engine="pyshacl") == []


def test_the_shapes_accept_no_string_where_an_iri_is_now_required():
    """pb:country and pb:sourceKind are checked as concepts, not as the 0.1.0 strings."""
    g = shapes_graph()
    for name in ("country", "sourceKind"):
        shapes = [s for s in g.subjects(SH.path, pb(name))]
        assert shapes and all(g.value(s, SH.datatype) is None and g.value(s, SH["in"]) is None
                              for s in shapes)
        assert any(g.value(s, SH["class"]) is not None for s in shapes)
    assert not [s for s in g.subjects(SH.path, pb("organisation"))
                if g.value(s, SH.maxCount) is not None]
