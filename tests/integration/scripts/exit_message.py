"""Fails and explains itself in /opt/ml/output/message, as the platform expects."""

import sys

OUTPUT = "/opt/ml/processing/output/result"

if __name__ == "__main__":
    if "--invalid" in sys.argv:
        with open("/opt/ml/output/message", "wb") as handle:
            handle.write(b"bad bytes \xff\xfe here")
        sys.exit(0)
    with open("/opt/ml/output/message", "w", encoding="utf-8") as handle:
        handle.write("schema mismatch: column 'price' is missing " + "x" * 2000)
    sys.exit(2)
