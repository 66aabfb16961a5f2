"""Drive an astrolake TAP service with pyvo (PyPI), as astronomers do.

Usage: pyvo_client.py TAP_URL WORKDIR

Checks sync and async queries, job control, an upload cross-match, the
table and example metadata, MAXREC and the hard limit, the job list, and
that astropy reads the VOTable, CSV, FITS and Parquet results. Exits
non-zero (with the failing check) on any problem; prints a JSON summary.
"""
import json
import os
import sys

import numpy as np
import pyvo
from astropy.io import fits
from astropy.io.votable import parse_single_table
from astropy.table import Table

url, work = sys.argv[1], sys.argv[2]
service = pyvo.dal.TAPService(url)
summary = {}

# Sync: a cone search on the real Gaia bright stars, as rows and as astropy.
cone = ("SELECT source_id, ra, dec, phot_g_mean_mag FROM gaia.gaia_source "
        "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 56.75, 24.12, 2))")
r = service.search(cone)
t = r.to_table()
assert len(t) > 0, "the Pleiades cone is empty"
sep = np.degrees(np.arccos(np.clip(
    np.sin(np.radians(t["dec"])) * np.sin(np.radians(24.12)) +
    np.cos(np.radians(t["dec"])) * np.cos(np.radians(24.12)) *
    np.cos(np.radians(t["ra"] - 56.75)), -1, 1)))
assert (sep <= 2 + 1e-9).all(), "a row outside the cone"
assert str(t["ra"].unit) == "deg", t["ra"].unit
summary["sync_rows"] = len(t)

# Async: run_async, then submit_job / run / wait / fetch by hand.
a = service.run_async(cone)
assert len(a) == len(t), (len(a), len(t))
job = service.submit_job("SELECT COUNT(*) AS n FROM gaia.hip2")
assert job.phase == "PENDING", job.phase
job.run()
job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=120)
assert job.phase == "COMPLETED", job.phase
n_hip = int(job.fetch_result().to_table()["n"][0])
assert n_hip > 100000, n_hip
summary["hip2_rows"] = n_hip
jobs = service.get_job_list(phases=["COMPLETED"])
assert any(j.jobid == job.job_id for j in jobs), "our job is not in the job list"
last = service.get_job_list(last=1)
assert len(last) == 1, len(last)
job.delete()

# An async job with bad ADQL ends in ERROR with a message.
bad = service.submit_job("SELECT nope FROM gaia.gaia_source")
bad.run()
bad.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
assert bad.phase == "ERROR", bad.phase
try:
    bad.raise_if_error()
    raise AssertionError("no error raised")
except pyvo.dal.DALQueryError as e:
    assert "nope" in str(e), str(e)
bad.delete()

# Upload cross-match: our own table of Hipparcos positions against Gaia.
mine = Table({"id": np.arange(5), "ra": t["ra"][:5], "dec": t["dec"][:5]})
x = service.search(
    "SELECT m.id, g.source_id FROM TAP_UPLOAD.mine AS m JOIN gaia.gaia_source AS g "
    "ON 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', m.ra, m.dec, 1.0/3600))",
    uploads={"mine": mine})
xt = x.to_table()
assert set(xt["id"]) == set(range(5)), sorted(set(xt["id"]))
assert set(xt["source_id"]) >= set(t["source_id"][:5]), "a star did not match itself"
summary["upload_matches"] = len(xt)

# Metadata: tables with their columns, examples, limits.
tables = service.tables
names = [tb.name for tb in tables]
assert "gaia.gaia_source" in names and "TAP_SCHEMA.columns" in names, names
cols = {c.name: c for c in tables["gaia.gaia_source"].columns}
assert cols["ra"].unit == "deg", cols["ra"].unit
examples = service.examples
assert len(examples) >= 2, len(examples)
for ex in examples:
    if "TAP_UPLOAD" not in ex["QUERY"]:
        ex.execute()
summary["examples"] = len(examples)
assert service.maxrec and service.hardlimit and service.hardlimit >= service.maxrec
m = service.search("SELECT source_id FROM gaia.gaia_source", maxrec=7)
assert len(m) == 7 and m.query_status == "OVERFLOW", (len(m), m.query_status)
exact = service.search("SELECT TOP 7 source_id FROM gaia.gaia_source", maxrec=7)
assert len(exact) == 7 and exact.query_status == "OK", exact.query_status

# astropy reads every format we serve.
q = "SELECT TOP 50 source_id, ra, dec, phot_g_mean_mag FROM gaia.gaia_source ORDER BY source_id"
ref = service.search(q).to_table()
import requests
for fmt, reader in [
    ("votable", lambda p: parse_single_table(p).to_table()),
    ("votable/td", lambda p: parse_single_table(p).to_table()),
    ("votable/b", lambda p: parse_single_table(p).to_table()),
    ("csv", lambda p: Table.read(p, format="ascii.csv")),
    ("fits", lambda p: Table(fits.open(p)[1].data)),
    ("parquet", lambda p: Table.read(p, format="parquet")),
]:
    resp = requests.post(url + "/sync", data={"LANG": "ADQL", "QUERY": q, "FORMAT": fmt})
    assert resp.status_code == 200, (fmt, resp.status_code, resp.text[:300])
    path = os.path.join(work, "result." + fmt.replace("/", "-"))
    with open(path, "wb") as f:
        f.write(resp.content)
    got = reader(path)
    assert len(got) == 50, (fmt, len(got))
    assert list(got["source_id"]) == list(ref["source_id"]), fmt
    assert np.allclose(np.asarray(got["ra"], dtype=float), np.asarray(ref["ra"], dtype=float)), fmt
summary["formats"] = 6
print(json.dumps(summary))
