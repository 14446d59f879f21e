"""`snout ingest`: photo collections (class folders, CSV, labels in file names) -> image TFRecords.

Modules: layouts (listing), image_check (validate/normalise one image), split (stable hash
split), process (per-file work), beam_pipeline (the Beam job), summary, api (`ingest()`), cli.
"""


def ingest(*args, **kwargs) -> dict:
    """See ingest.api.ingest (imported lazily to keep `snout --help` fast)."""
    from ingest.api import ingest as _ingest

    return _ingest(*args, **kwargs)
