"""The Timestream target: `TimestreamTarget` (target.py) implements `tsload.targets.base.Target`.

- writer.py     one WriteRecords attempt: the fast path (pre-encoded body, own SigV4, lean HTTP/1.1)
                or the SDK path (aioboto3, for comparison)
- query.py      one Query/CancelQuery call: the fast path or aioboto3's timestream-query client
- outcome.py    the error policy: write outcomes and the retryable codes of both
- admin.py      database and table lifecycle (control plane, through aioboto3)
- discovery.py  endpoint discovery against AWS; sigv4.py: the fast path's signer (the lean
                HTTP/1.1 client is shared by the targets: tsload/targets/http.py)

Only `tsload.targets` (the registry) imports this package; ingest, query and run never do.
"""
