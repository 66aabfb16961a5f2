"""S3 helpers for the exchange test (moto server from PyPI on 127.0.0.1).

  s3_site.py setup ENDPOINT BUCKET...
      Create an IAM user with full access and the buckets; print its
      access key id and secret as JSON. Run before IAM checks start (the
      server is started with INITIAL_NO_AUTH_ACTION_COUNT), so that every
      later request needs these credentials.
  s3_site.py hats CSV OUTDIR NAME
      Build a HATS catalogue of CSV (columns hip, ra, dec, ...) with the
      hats-import pipeline (dask, in-process) under OUTDIR/NAME.
  s3_site.py upload ENDPOINT KEY SECRET DIR BUCKET PREFIX
      Upload a directory tree to s3://BUCKET/PREFIX/.
  s3_site.py truncate ENDPOINT KEY SECRET BUCKET KEYNAME
      Replace an object by its first half (a truncated Parquet file).
"""
import json
import os
import sys

import boto3


def client(service, endpoint, key="testing", secret="testing"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
    )


cmd = sys.argv[1]
if cmd == "setup":
    endpoint, buckets = sys.argv[2], sys.argv[3:]
    iam = client("iam", endpoint)
    iam.create_user(UserName="site")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="site", PolicyName="all", PolicyDocument=json.dumps(policy))
    k = iam.create_access_key(UserName="site")["AccessKey"]
    s3 = client("s3", endpoint, k["AccessKeyId"], k["SecretAccessKey"])
    for b in buckets:
        s3.create_bucket(Bucket=b)
    print(json.dumps({"key": k["AccessKeyId"], "secret": k["SecretAccessKey"]}))
elif cmd == "hats":
    csv, outdir, name = sys.argv[2:5]
    from dask.distributed import Client
    from hats_import.catalog.arguments import ImportArguments
    from hats_import.pipeline import pipeline_with_client

    args = ImportArguments(
        ra_column="ra",
        dec_column="dec",
        input_file_list=[csv],
        file_reader="csv",
        output_artifact_name=name,
        output_path=outdir,
        pixel_threshold=20_000,
        highest_healpix_order=6,
        progress_bar=False,
        tmp_dir=os.path.join(outdir, "tmp"),
    )
    with Client(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        pipeline_with_client(args, c)
    print("ok")
elif cmd == "upload":
    endpoint, key, secret, directory, bucket, prefix = sys.argv[2:8]
    s3 = client("s3", endpoint, key, secret)
    n = 0
    for dirpath, _, files in os.walk(directory):
        for f in files:
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, directory).replace(os.sep, "/")
            s3.upload_file(path, bucket, f"{prefix}/{rel}")
            n += 1
    print(n)
elif cmd == "truncate":
    endpoint, key, secret, bucket, name = sys.argv[2:7]
    s3 = client("s3", endpoint, key, secret)
    body = s3.get_object(Bucket=bucket, Key=name)["Body"].read()
    s3.put_object(Bucket=bucket, Key=name, Body=body[: len(body) // 2])
    print(len(body))
else:
    sys.exit(f"unknown command {cmd}")
