"""Drive an astrolake TAP service with astroquery's TapPlus (PyPI
`astroquery`), the client behind `astroquery.gaia`, as Gaia archive users do.

Usage: tapplus_client.py TAP_URL WORKDIR

Checks load_tables and load_table (columns, units, TAP+ flags) against
TAP_SCHEMA; sync and async queries in every output format TapPlus offers,
in memory and dumped to a file, against a brute-force cone computed here
with numpy from the whole table; uploads from a file and from an astropy
table; the async job list and reloading a job. Exits non-zero (with the
failing check) on any problem; prints a JSON summary.
"""
import json
import os
import sys
import warnings

import numpy as np
from astropy.table import Table
from astroquery.utils.tap.core import TapPlus

# TapPlus warns on every sync job that it adds TOP 2000 (as it does for
# the Gaia archive); that is its documented behaviour, not a problem.
warnings.filterwarnings("ignore", message="By default, results")

url, work = sys.argv[1], sys.argv[2]
os.chdir(work)
tap = TapPlus(url=url)
summary = {}

# Tables: names, and one table's columns as TAP_SCHEMA has them.
tables = tap.load_tables()
names = {t.name for t in tables}
for want in ["gaia.gaia_source", "gaia.hip2", "TAP_SCHEMA.columns"]:
    assert want in names, (want, sorted(names))
only = tap.load_tables(only_names=True)
assert {t.name for t in only} == names
hip2 = tap.load_table("gaia.hip2")
assert hip2.name == "gaia.hip2", hip2.name
cols = {c.name: c for c in hip2.columns}
meta = tap.launch_job(
    "SELECT column_name, unit, ucd FROM TAP_SCHEMA.columns WHERE table_name = 'gaia.hip2'"
).get_results()
assert sorted(cols) == sorted(meta["column_name"]), (sorted(cols), list(meta["column_name"]))
for row in meta:
    c = cols[row["column_name"]]
    unit = row["unit"] if not np.ma.is_masked(row["unit"]) else None
    assert (c.unit or None) == (unit or None), (c.name, c.unit, unit)
assert cols["ra"].flags == "1" and cols["dec"].flags == "2", (cols["ra"].flags, cols["dec"].flags)
assert cols["ra"].unit == "deg", cols["ra"].unit
summary["tables"] = len(names)
summary["hip2_columns"] = len(cols)

# The whole of hip2, the reference for the cones below (TapPlus's sync
# jobs add TOP 2000, so async, with a MAXREC above the default).
full = tap.launch_job_async("SELECT hip, ra, dec FROM gaia.hip2", maxrec=1000000).get_results()
assert len(full) > 100000, len(full)
summary["hip2_rows"] = len(full)


def brute_cone(t, ra0, dec0, r):
    """The rows of t within r degrees of (ra0, dec0), by brute force."""
    ra, dec = np.radians(np.asarray(t["ra"], float)), np.radians(np.asarray(t["dec"], float))
    a, d = np.radians(ra0), np.radians(dec0)
    cos = np.sin(dec) * np.sin(d) + np.cos(dec) * np.cos(d) * np.cos(ra - a)
    sep = np.degrees(np.arccos(np.clip(cos, -1, 1)))
    return t[sep <= r]


ra0, dec0, r = 56.75, 24.12, 3.0
want = brute_cone(full, ra0, dec0, r)
want_ids = sorted(int(h) for h in want["hip"])
assert 0 < len(want_ids) < 2000, len(want_ids)
cone = (f"SELECT hip, ra, dec FROM gaia.hip2 WHERE "
        f"1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra0}, {dec0}, {r})) ORDER BY hip")
by_id = {int(h): (float(a), float(d)) for h, a, d in zip(want["hip"], want["ra"], want["dec"])}


def check(got, what):
    ids = [int(h) for h in got["hip"]]
    assert ids == want_ids, (what, len(ids), len(want_ids))
    for h, a, d in zip(got["hip"], got["ra"], got["dec"]):
        assert np.isclose(float(a), by_id[int(h)][0], rtol=0, atol=1e-12), (what, h)
        assert np.isclose(float(d), by_id[int(h)][1], rtol=0, atol=1e-12), (what, h)


# Every output format, sync and async, in memory and dumped to a file.
# In memory, TapPlus reads FITS from a buffer it has already read to the
# end (it tries gzip first and does not rewind for FITS), so no plain FITS
# response can be read that way, from this service or the Gaia archive:
# FITS is checked dumped to a file, as the file TapPlus wrote.
formats = ["votable", "votable_plain", "csv", "json", "ecsv", "fits"]
checked = 0
for fmt in formats:
    for dump in [False, True]:
        if fmt == "fits" and not dump:
            continue
        out = f"cone-{fmt}-{int(dump)}.{fmt}"
        job = tap.launch_job(cone, output_format=fmt, dump_to_file=dump, output_file=out)
        check(job.get_results(), f"sync {fmt} dump={dump}")
        if dump:
            assert any(f.startswith(f"cone-{fmt}-1") for f in os.listdir(".")), (fmt, os.listdir("."))
        out = f"async-{fmt}-{int(dump)}.{fmt}"
        job = tap.launch_job_async(cone, output_format=fmt, dump_to_file=dump, output_file=out)
        assert job.get_phase() == "COMPLETED", (fmt, job.get_phase())
        if fmt == "fits":
            # get_results() of an async job reads the result again into
            # memory (see above): read the file it saved (under the name
            # asked for, though job.outputFile has ".gz" added).
            saved = job.outputFile if os.path.exists(job.outputFile) else out
            check(Table.read(saved, format="fits"), f"async {fmt} dump={dump}")
        else:
            check(job.get_results(), f"async {fmt} dump={dump}")
        checked += 2
summary["format_checks"] = checked

# A named job with MAXREC: the first rows of the ordered cone.
job = tap.launch_job(cone, name="first_five", maxrec=5)
assert [int(h) for h in job.get_results()["hip"]] == want_ids[:5]

# Uploads: a VOTable file and an astropy table, matched against hip2 at
# 1 arcsec: each position finds its own star.
mine = want[:4]
up = Table({"id": np.arange(len(mine)), "ra": mine["ra"], "dec": mine["dec"]})
up.write("upload.xml", format="votable", overwrite=True)
match = ("SELECT u.id, h.hip FROM tap_upload.mine AS u JOIN gaia.hip2 AS h ON "
         "1 = CONTAINS(POINT('ICRS', h.ra, h.dec), CIRCLE('ICRS', u.ra, u.dec, 1.0/3600)) "
         "ORDER BY u.id")
for resource, launch in [("upload.xml", tap.launch_job), (up, tap.launch_job_async)]:
    got = launch(match, upload_resource=resource, upload_table_name="mine").get_results()
    assert list(got["id"]) == list(range(len(mine))), list(got["id"])
    assert [int(h) for h in got["hip"]] == [int(h) for h in mine["hip"]], list(got["hip"])
summary["uploads"] = 2

# The job list and a job loaded again by id.
last = tap.launch_job_async(cone, name="again")
listed = tap.list_async_jobs()
ids = [j.jobid for j in listed]
assert last.jobid in ids, (last.jobid, ids[:5])
again = tap.load_async_job(jobid=last.jobid)
assert again.get_phase() == "COMPLETED", again.get_phase()
check(again.get_results(), "load_async_job")
summary["jobs_listed"] = len(ids)
print(json.dumps(summary))
