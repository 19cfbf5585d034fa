"""Entry point for ``spark-submit``: the iisdetect CLI inside a Spark driver.

    spark-submit --master yarn "$(python -c 'import iisdetect.lake.job as j; print(j.__file__)')" \\
        hunt s3a://lake/windows/ --engine spark --format ndjson -o alerts.ndjson

``hunt --engine spark`` then uses the session spark-submit configured (master, executors, memory).
"""

from __future__ import annotations

import sys

from iisdetect.cli import main

if __name__ == "__main__":
    sys.exit(main())
