"""The endpoints the cross-sector example queries name, and how to point them at the demo.

A federated query in ``endpoint/queries/`` names each partner dataset by the address a
researcher would use on the web: the dataset's public SPARQL endpoint where it has one
(statistics.data.gov.uk, query.wikidata.org), otherwise an address in the example namespace
the partner slice already uses for its own IRIs (CrimeSolutions publishes no RDF; the
local-authority lookup slice is an example dataset). So a query reads as what it joins, and
runs unchanged against the real endpoints once they are on the allowlist.

The demo partner endpoints (:mod:`practicebank.partners`) listen on free loopback ports, so
:func:`localise` rewrites each ``SERVICE <public address>`` of a query to the local endpoint
serving that slice; the tests and ``python -m practicebank.partner_services`` do exactly
that. Only IRIs written in full after ``SERVICE`` (or ``SERVICE SILENT``) are rewritten: the
library's convention, checked by tests/test_cross_sector.py.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path

#: Partner slice name -> the SERVICE address the example queries use for it.
PUBLIC_ENDPOINTS: dict[str, str] = {
    "ons-geography": "https://statistics.data.gov.uk/sparql",
    "wikidata": "https://query.wikidata.org/sparql",
    "crimesolutions": "http://example.org/crimesolutions-example/sparql",
    "local-authorities": "http://example.org/ons-example/local-authorities/sparql",
}

_SERVICE = re.compile(r"\b(SERVICE(?:\s+SILENT)?\s*)<([^>\s]*)>", re.IGNORECASE)


def service_iris(query: str) -> list[str]:
    """The IRIs written in full after ``SERVICE`` in ``query``, in order of appearance."""
    return [match.group(2) for match in _SERVICE.finditer(query)]


def localise(query: str, local_urls: Mapping[str, str]) -> str:
    """``query`` with each partner's public SERVICE address replaced by ``local_urls[slice]``
    (e.g. ``PartnerEndpoints.urls``); other SERVICE addresses are left as written."""
    by_public = {PUBLIC_ENDPOINTS[name]: url for name, url in local_urls.items()
                 if name in PUBLIC_ENDPOINTS}

    def swap(match: re.Match[str]) -> str:
        return f"{match.group(1)}<{by_public.get(match.group(2), match.group(2))}>"

    return _SERVICE.sub(swap, query)


def main(argv: list[str] | None = None) -> int:
    """``python -m practicebank.partner_services QUERY.rq NAME=URL…``: print the query with
    its partner addresses pointed at the given endpoints (the lines
    ``python -m practicebank.partners`` prints, as ``name=url``)."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m practicebank.partner_services QUERY.rq NAME=URL ...",
              file=sys.stderr)
        return 2
    urls = dict(arg.split("=", 1) for arg in args[1:] if "=" in arg)
    unknown = sorted(set(urls) - set(PUBLIC_ENDPOINTS))
    if unknown:
        print(f"unknown partner {', '.join(unknown)}; the partners are "
              f"{', '.join(PUBLIC_ENDPOINTS)}", file=sys.stderr)
        return 2
    sys.stdout.write(localise(Path(args[0]).read_text(encoding="utf-8"), urls))
    return 0


__all__ = ["PUBLIC_ENDPOINTS", "localise", "service_iris"]

if __name__ == "__main__":
    raise SystemExit(main())
