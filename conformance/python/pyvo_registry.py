"""Search astrolake's RegTAP tables with pyvo's registry interface (PyPI
`pyvo`), as astronomers search the VO registry, and check every answer
against the records the site publishes over OAI-PMH, read here with
ElementTree.

Usage: pyvo_registry.py SITE_URL TAP_URL

Checks regsearch by service type, keywords, UCD, waveband, data model,
identifier, our S3 catalogue standard id and position (point, circle,
overlap and MOC, against the records' coverage MOCs); get_service("tap") and a query
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


def found(*constraints, **keywords):
    return {r.ivoid for r in pyvo.regsearch(*constraints, **keywords)}


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

# Spatial: the coverage MOCs of the records (ASCII MOCs, read here) against
# the point, the order-6 cells of a circle (cdshealpix, the library under
# LSDB and mocpy) and a MOC.
from astropy.coordinates import Latitude, Longitude
import astropy.units as u
from cdshealpix.nested import cone_search, lonlat_to_healpix


def moc_cells(text):
    """An ASCII MOC as {order: set of cells}."""
    out, order = {}, None
    for tok in text.split():
        if "/" in tok:
            o, tok = tok.split("/", 1)
            order = int(o)
            out.setdefault(order, set())
            if not tok:
                continue
        lo, _, hi = tok.partition("-")
        out[order].update(range(int(lo), int(hi or lo) + 1))
    return out


def covered(moc, order, cell):
    """Whether the cell (order, cell) lies within the MOC."""
    if any(o <= order and (cell >> 2 * (order - o)) in cells for o, cells in moc.items()):
        return True
    if max(moc, default=-1) <= order:
        return False
    return all(covered(moc, order + 1, 4 * cell + k) for k in range(4))


def touches(moc, order, cell):
    """Whether the cell (order, cell) shares area with the MOC."""
    return covered(moc, order, cell) or any(
        o > order and any((c >> 2 * (o - order)) == cell for c in cells) for o, cells in moc.items())


coverage = {i: moc_cells(text(r, "coverage/spatial")) for i, r in records.items()
            if text(r, "coverage/spatial")}
assert coverage, "no record has a spatial coverage"
ra0, dec0, radius = 56.75, 24.12, 1.0
(pix,) = lonlat_to_healpix(Longitude([ra0] * u.deg), Latitude([dec0] * u.deg), 29)
check(found(spatial=[ra0, dec0]),
      {i for i, m in coverage.items() if covered(m, 29, int(pix))}, "spatial_point")
cells, _, _ = cone_search(Longitude(ra0 * u.deg), Latitude(dec0 * u.deg), radius * u.deg, depth=6)
want = {i for i, m in coverage.items() if all(covered(m, 6, int(c)) for c in cells)}
assert found(spatial=(ra0, dec0, radius)) == want, ("circle", want)
summary["spatial_circle"] = len(want)
want = {i for i, m in coverage.items() if any(touches(m, 6, int(c)) for c in cells)}
check(found(rtcons.Spatial((ra0, dec0, radius), intersect="overlaps")), want, "spatial_overlaps")
one_cell = f"6/{int(cells[0])}"
assert found(spatial=one_cell) == {i for i, m in coverage.items() if covered(m, 6, int(cells[0]))}
# A cell that some coverages hold and others do not (the real catalogues
# leave order-6 cells empty): its centre finds exactly those records.
from cdshealpix.nested import healpix_to_lonlat
cell_sets = {c: frozenset(i for i, m in coverage.items() if covered(m, 6, c)) for c in range(12 * 4**6)}
c = next((c for c, ids in cell_sets.items() if ids != frozenset(coverage)), None)
assert c is not None, "every order-6 cell is in every coverage: no spatial check can tell records apart"
lon, lat = healpix_to_lonlat([c], 6)
assert found(spatial=[float(lon.deg[0]), float(lat.deg[0])]) == set(cell_sets[c]), ("cell centre", c)
summary["spatial_cells_held_by_some"] = sum(1 for ids in cell_sets.values() if ids != frozenset(coverage))
# Far from every star of the catalogues: the south celestial pole region
# holds few bright stars, so compute rather than assume.
(pix,) = lonlat_to_healpix(Longitude([0.0] * u.deg), Latitude([-89.99] * u.deg), 29)
assert found(spatial=[0.0, -89.99]) == {i for i, m in coverage.items() if covered(m, 29, int(pix))}

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
# RegTAP 1.2 §8: the rr schema carries the data model id as its utype, in
# TAP_SCHEMA and in /tables, and every rr column has std = 1.
REGTAP_UTYPE = "ivo://ivoa.net/std/regtap#1.2"
u = service.search("SELECT utype FROM TAP_SCHEMA.schemas WHERE schema_name = 'rr'").to_table()
assert list(u["utype"]) == [REGTAP_UTYPE], list(u["utype"])
n = service.search("SELECT COUNT(*) AS n FROM TAP_SCHEMA.columns "
                   "WHERE table_name LIKE 'rr.%' AND std <> 1").to_table()
assert int(n["n"][0]) == 0, int(n["n"][0])
with urllib.request.urlopen(tap_url + "/tables") as r:
    tableset = ET.fromstring(r.read())
rr_schema = [sc for sc in tableset.findall("schema") if sc.findtext("name") == "rr"]
assert [sc.findtext("utype") for sc in rr_schema] == [REGTAP_UTYPE], "rr utype in /tables"
print(json.dumps(summary))
