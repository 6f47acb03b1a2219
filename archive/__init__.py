"""archivo core: configuration, metadata models, object storage and audit.

Every other package (ingest, search, dispatch, web) depends on this one; this
one depends on none of them.
"""

__version__ = "0.1.0"
