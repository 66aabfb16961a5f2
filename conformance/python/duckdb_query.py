#!/usr/bin/env python3
"""Run one SQL query with DuckDB over Parquet files and print the result as
JSON rows. The query names the files as the table `t`.

usage: duckdb_query.py 'GLOB' 'SELECT ... FROM t ...'
"""
import json, sys

import duckdb

glob, query = sys.argv[1:3]
con = duckdb.connect()
con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{glob}')")
rows = con.execute(query).fetchall()
print(json.dumps([[v if not isinstance(v, float) else repr(v) for v in r] for r in rows]))
