"""Harvest an OAI-PMH endpoint with Sickle (PyPI), as a registry would.

Usage: oai_harvest.py BASE_URL [FROM]

Prints one JSON object: every ListRecords record (ivo_vor) with its
identifier, datestamp, deleted flag, xsi:type and title; the number of
response pages (resumption tokens were followed when > 1); the oai_dc
titles; the Identify answer; and, with FROM, the identifiers of
ListIdentifiers from=FROM (incremental harvest).
"""
import json
import sys

from sickle import Sickle
from sickle.iterator import OAIResponseIterator
from sickle.oaiexceptions import NoRecordsMatch

XSI = "{http://www.w3.org/2001/XMLSchema-instance}type"

url = sys.argv[1]
since = sys.argv[2] if len(sys.argv) > 2 else None

s = Sickle(url, max_retries=0)
identify = s.Identify()
records = []
for r in s.ListRecords(metadataPrefix="ivo_vor", ignore_deleted=False):
    res = None if r.deleted else r.xml.find(".//{*}metadata/*")
    records.append(
        {
            "identifier": r.header.identifier,
            "datestamp": r.header.datestamp,
            "deleted": r.deleted,
            "type": None if res is None else res.get(XSI),
            "title": None if res is None else res.findtext("title"),
            "status": None if res is None else res.get("status"),
        }
    )

pages = 0
for _ in Sickle(url, iterator=OAIResponseIterator, max_retries=0).ListIdentifiers(
    metadataPrefix="ivo_vor"
):
    pages += 1

dc = [r.metadata.get("title", [None])[0] for r in s.ListRecords(metadataPrefix="oai_dc")]

out = {
    "identify": {
        "repositoryName": identify.repositoryName,
        "baseURL": identify.baseURL,
        "protocolVersion": identify.protocolVersion,
        "granularity": identify.granularity,
        "deletedRecord": identify.deletedRecord,
    },
    "records": records,
    "pages": pages,
    "dc_titles": dc,
}
if since is not None:
    try:
        out["since"] = [h.identifier for h in s.ListIdentifiers(metadataPrefix="ivo_vor", **{"from": since})]
    except NoRecordsMatch:
        out["since"] = []
print(json.dumps(out))
