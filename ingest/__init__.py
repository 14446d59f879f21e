"""`snout ingest`: photo collections (class folders, CSV, labels in file names) -> image TFRecords.

Modules: layouts (listing, every path accounted for), image_check (validate/normalise one
image), process (per-file work), beam_pipeline (the Beam job: checks, spills records),
split (content-hash split, per-class fill), placement (duplicates, splits, shards), output
(--out checks, temporary sibling, swap), tsv (escaped lists), summary, api (`ingest()`).
"""


def ingest(*args, **kwargs) -> dict:
    """See ingest.api.ingest (imported lazily to keep `snout --help` fast)."""
    from ingest.api import ingest as _ingest

    return _ingest(*args, **kwargs)
