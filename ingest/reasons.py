"""The fixed set of reasons a listed file is not written, in the order the summary shows them."""

EMPTY_FILE = "empty_file"  # zero bytes
NOT_AN_IMAGE = "not_an_image"  # no image format recognised (text, HTML, Thumbs.db named .jpg)
TRUNCATED = "truncated"  # image data ends early
UNSUPPORTED_FORMAT = "unsupported_format"  # a real image, but a format/mode we do not store
TOO_LARGE = "too_large"  # more pixels than --max-pixels (decompression-bomb guard)
UNREADABLE = "unreadable"  # corrupt data, I/O error, decoder failure
UNKNOWN_LABEL = "unknown_label"  # no label found, or one outside --classes
MISSING_FILE = "missing_file"  # a CSV row whose image file does not exist
DUPLICATE_ID = "duplicate_id"  # a CSV id listed more than once (first row wins)

ALL = (
    EMPTY_FILE,
    NOT_AN_IMAGE,
    TRUNCATED,
    UNSUPPORTED_FORMAT,
    TOO_LARGE,
    UNREADABLE,
    UNKNOWN_LABEL,
    MISSING_FILE,
    DUPLICATE_ID,
)
