"""Search astrolake's RegTAP tables with pyvo's registry interface (PyPI
`pyvo`), as astronomers search the VO registry, and check every answer
against the records the site publishes over OAI-PMH, read here with
ElementTree.

Usage: pyvo_registry.py SITE_URL TAP_URL

Checks regsearch by service type, keywords, UCD, waveband, data model,
identifier and our S3 catalogue standard id; get_service("tap") and a query
through it; get_tables() against the TAP service's own VOSI tables;
get_contact(); and that the rr schema is in TAP_SCHEMA and /tables. Exits
non-zero (with the failing check) on any problem; prints a JSON summary.
"""
import json
import os
import re
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pyvo
from pyvo.registry import rtcons

site, tap_url = sys.argv[1], sys.argv[2]
summary = {}

# pyvo checks waveband names against the IVOA messenger vocabulary, which
# it downloads from www.ivoa.net; offline, give it the copy pyvo ships.
with open(os.path.join(os.path.dirname(pyvo.__file__), "registry", "tests", "data",
                       "messenger.desise")) as f:
    rtcons.Waveband._legal_terms = {t.lower() for t in json.load(f)["terms"]}

# The published records, harvested (every page).
OAI = "{http://www.openarchives.org/OAI/2.0/}"
records = {}
args = {"verb": "ListRecords", "metadataPrefix": "ivo_vor"}
while True:
    with urllib.request.urlopen(f"{site}/oai?{urllib.parse.urlencode(args)}") as r:
        doc = ET.fromstring(r.read())
    for rec in doc.iter(f"{OAI}record"):
        res = rec.find(f"{OAI}metadata/*")
        if res is not None:
            records[res.findtext("identifier").strip().lower()] = res
    token = doc.find(f".//{OAI}resumptionToken")
    if token is None or not (token.text or "").strip():
        break
    args = {"verb": "ListRecords", "resumptionToken": token.text.strip()}
assert len(records) >= 4, sorted(records)
summary["records"] = len(records)


def text(e, path):
    return (e.findtext(path) or "").strip()


def standards(res):
    return {c.get("standardID", "").lower() for c in res.findall("capability")}


def columns(res):
    return [c for t in res.iter("table") for c in t.findall("column")]


def has_word(haystack, word):
    return re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", haystack, re.I) is not None


pyvo.registry.choose_RegTAP_service(tap_url)


def found(**constraints):
    return {r.ivoid for r in pyvo.regsearch(**constraints)}


def check(got, want, what):
    assert want, f"{what}: the expectation is empty, the check would prove nothing"
    assert got == want, (what, sorted(got), sorted(want))
    summary[what] = len(got)


# Service type: the TAP service, and through it a query.
tap_ids = {i for i, r in records.items() if "ivo://ivoa.net/std/tap" in standards(r)}
check(found(servicetype="tap"), tap_ids, "servicetype_tap")
(rec,) = [r for r in pyvo.regsearch(servicetype="tap")]
svc = rec.get_service("tap")
assert svc.baseurl.rstrip("/") == tap_url.rstrip("/"), svc.baseurl
n = svc.search("SELECT COUNT(*) AS n FROM gaia.hip2").to_table()["n"][0]
direct = pyvo.dal.TAPService(tap_url).search("SELECT COUNT(*) AS n FROM gaia.hip2").to_table()["n"][0]
assert n == direct and n > 100000, (n, direct)

# Our S3 catalogue records, by their standard id (RegTAP stores standard
# ids lower-cased, so that is how they are asked for).
s3 = "ivo://astrolake.org/std/s3parquetcatalogue#1.0"
check(found(servicetype=s3), {i for i, r in records.items() if s3 in standards(r)}, "servicetype_s3")

# Keywords: a word of the title or description, or part of a subject.
for word in ["gaia", "registry", "authority"]:
    want = {i for i, r in records.items()
            if has_word(text(r, "title"), word) or has_word(text(r, "content/description"), word)
            or any(word in s.text.lower() for s in r.findall("content/subject"))}
    check(found(keywords=[word]), want, f"keywords_{word}")
check(found(keywords=["gaia", "schema"]),
      {i for i, r in records.items()
       if all(has_word(text(r, "title") + " " + text(r, "content/description"), w)
              for w in ["gaia", "schema"])},
      "keywords_gaia_schema")
check(found(servicetype="tap", keywords=["astrolake"]),
      tap_ids & {i for i, r in records.items() if has_word(text(r, "title"), "astrolake")},
      "tap_and_keyword")

# UCDs of the tables' columns.
for ucd in ["pos.eq.ra%", "phot.mag%"]:
    prefix = ucd.rstrip("%")
    want = {i for i, r in records.items()
            if any(text(c, "ucd").lower().startswith(prefix) for c in columns(r))}
    check(found(ucd=ucd), want, f"ucd_{prefix}")

# Wavebands.
for band in ["optical", "infrared"]:
    want = {i for i, r in records.items()
            if band in {w.text.strip().lower() for w in r.findall("coverage/waveband")}}
    if band == "optical":
        check(found(waveband=band), want, "waveband_optical")
    else:
        assert found(waveband=band) == want, (band, want)

# The data model: the TAP service declares RegTAP.
check(found(datamodel="regtap"),
      {i for i, r in records.items()
       if any(dm.get("ivo-id", "").lower().startswith("ivo://ivoa.net/std/regtap#1.")
              for dm in r.iter("dataModel"))},
      "datamodel_regtap")

# One record by identifier, in any case.
one = sorted(records)[0]
check(found(ivoid=one.upper()), {one}, "ivoid")

# get_tables: the catalogue record's tables and columns against the TAP
# service's own VOSI /tables.
vosi = pyvo.dal.TAPService(tap_url).tables
(cat,) = [r for r in pyvo.regsearch(servicetype=s3) if r.ivoid.endswith("/catalogue/gaia")]
tables = cat.get_tables()
want_tables = {text(t, "name") for t in records[cat.ivoid].iter("table")}
assert set(tables) == want_tables, (sorted(tables), sorted(want_tables))
for name, t in tables.items():
    got = {c.name: c for c in t.columns}
    ref = {c.name.lower(): c for c in vosi[name].columns}
    assert set(got) == set(ref), (name, sorted(got), sorted(ref))
    for cname, c in got.items():
        # RegTAP keeps UCDs lower-cased.
        assert (c.ucd or "") == (ref[cname].ucd or "").lower(), (name, cname, c.ucd, ref[cname].ucd)
        assert (c.unit or None) == (ref[cname].unit or None), (name, cname, c.unit, ref[cname].unit)
summary["tables"] = len(tables)

# get_contact: the record's contact.
res = records[cat.ivoid]
want = f"{text(res, 'curation/contact/name')} <{text(res, 'curation/contact/email')}>"
assert cat.get_contact() == want, (cat.get_contact(), want)

# The rr schema is described like any other.
service = pyvo.dal.TAPService(tap_url)
rr = service.search("SELECT table_name FROM TAP_SCHEMA.tables WHERE schema_name = 'rr'").to_table()
assert len(rr) == 18, list(rr["table_name"])
assert "rr.stc_spatial" in [t.name for t in vosi], "rr tables are not in /tables"
print(json.dumps(summary))
