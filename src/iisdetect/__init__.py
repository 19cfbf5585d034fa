"""iisdetect: find malicious IIS components (ATT&CK T1505.004) in Windows telemetry.

Data flows one way: readers (read + normalise) -> engine (detect) -> report / export.
"""

__version__ = "0.1.0"
