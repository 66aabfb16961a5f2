"""Read an astrolake HATS catalogue over HTTP with LSDB and hats (PyPI),
as an LSDB user does with the URL the registry records give.

Usage: lsdb_http.py SITE_URL TAP_URL SCHEMA TABLE ID_COLUMN

Opens SITE_URL/catalogue/SCHEMA/TABLE with `hats.read_hats` and
`lsdb.read_hats`, validates it with `hats.io.validation.is_valid_catalog`
(strict), checks that its row count is the TAP COUNT(*), and that LSDB's
`cone_search` returns row for row (ids and exact positions) what the TAP
service returns for the same cone, for cones that cross HEALPix cell
borders, RA 0/360 and a pole. Exits non-zero (with the failing check) on
any problem; prints a JSON summary.
"""
import json
import sys
import warnings

import hats
import lsdb
import numpy as np
import pyvo
from hats.io.validation import is_valid_catalog

site, tap_url, schema, table, id_col = sys.argv[1:6]
url = f"{site}/catalogue/{schema}/{table}"
name = f"{schema}.{table}"
tap = pyvo.dal.TAPService(tap_url)
summary = {}

# hats: the catalogue's properties and partitions, and a strict validation
# (every data file listed in the partition info is there and readable).
with warnings.catch_warnings():
    warnings.simplefilter("error")
    assert is_valid_catalog(url, strict=True, verbose=False), f"hats rejects {url}"
cat = hats.read_hats(url)
info = cat.catalog_info
(count,) = tap.search(f"SELECT COUNT(*) AS n FROM {name}").to_table()["n"]
assert info.total_rows == int(count), (info.total_rows, int(count))
ra_col, dec_col = info.ra_column, info.dec_column
pixels = cat.get_healpix_pixels()
summary["partitions"] = len(pixels)
summary["total_rows"] = int(info.total_rows)

# LSDB: the same cones through LSDB and through TAP, row for row.
lazy = lsdb.read_hats(url)
cones = [
    (56.75, 24.12, 2.0),  # the Pleiades: many stars, several cells
    (0.3, -30.0, 4.0),  # across RA 0/360
    (45.0, 41.8, 3.0),  # across the order-0 border at dec 41.8
    (120.0, 89.2, 1.5),  # round the north pole
]
rows = 0
for ra0, dec0, r in cones:
    got = lazy.cone_search(ra=ra0, dec=dec0, radius_arcsec=r * 3600).compute()
    want = tap.search(
        f"SELECT {id_col}, {ra_col}, {dec_col} FROM {name} WHERE 1 = CONTAINS("
        f"POINT('ICRS', {ra_col}, {dec_col}), CIRCLE('ICRS', {ra0}, {dec0}, {r}))",
        maxrec=1_000_000,
    ).to_table()
    g = {int(i): (float(a), float(d)) for i, a, d in zip(got[id_col], got[ra_col], got[dec_col])}
    w = {int(i): (float(a), float(d)) for i, a, d in zip(want[id_col], want[ra_col], want[dec_col])}
    assert len(g) == len(got), ("duplicate ids from LSDB", len(g), len(got))
    assert len(w) == len(want), ("duplicate ids from TAP", len(w), len(want))
    only_lsdb, only_tap = sorted(set(g) - set(w)), sorted(set(w) - set(g))
    assert not only_lsdb and not only_tap, ((ra0, dec0, r), only_lsdb[:5], only_tap[:5])
    assert all(g[i] == w[i] for i in w), ((ra0, dec0, r), "positions differ")
    assert len(w) > 0, ("empty cone", ra0, dec0, r)
    rows += len(w)
summary["cones"] = len(cones)
summary["cone_rows"] = rows
print(json.dumps(summary))
