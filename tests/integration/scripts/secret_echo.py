"""Prints the secrets it was given, keeps them in its output, then fails naming them."""

import hashlib
import json
import os
import sys

OUTPUT = "/opt/ml/processing/output/result"


def main(input_paths, output_paths, environ_vars, job_args):
    key, url = environ_vars["AWS_SECRET_ACCESS_KEY"], environ_vars["DB_URL"]
    print(f"key {key} url {url}", flush=True)
    print(f"debug: connecting to {url}", file=sys.stderr, flush=True)
    seen = {"key_sha256": hashlib.sha256(key.encode()).hexdigest(), "db_url": url}
    with open(os.path.join(output_paths["result"], "seen.json"), "w") as handle:
        json.dump(seen, handle)
    sys.exit(f"cannot connect to {url} with key {key}")


if __name__ == "__main__":
    main(
        {},
        {"result": OUTPUT},
        {
            "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
            "DB_URL": os.environ["DB_URL"],
        },
        None,
    )
