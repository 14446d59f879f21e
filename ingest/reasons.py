"""The fixed sets of reasons a path under the input is not written, in the order the summary shows them.

Skipped = opened or named, then refused (skipped.tsv). Ignored = never opened (ignored.tsv).
Every path under the input is counted once: written, skipped or ignored.
"""

EMPTY_FILE = "empty_file"  # zero bytes
NOT_AN_IMAGE = "not_an_image"  # no image format recognised (text, HTML, Thumbs.db named .jpg)
TRUNCATED = "truncated"  # image data ends early (also inside the header)
UNSUPPORTED_FORMAT = "unsupported_format"  # a real image, but a format/mode we do not store
TOO_LARGE = "too_large"  # more pixels than --max-pixels (decompression-bomb guard)
UNREADABLE = "unreadable"  # corrupt data, I/O error, decoder failure
UNKNOWN_LABEL = "unknown_label"  # no label found, or one outside --classes
INVALID_LABEL = "invalid_label"  # a class name that is blank or holds a control character
MISSING_FILE = "missing_file"  # a CSV row whose image file does not exist
DUPLICATE_ID = "duplicate_id"  # a CSV id listed more than once (first row wins)
DUPLICATE_IMAGE = "duplicate_image"  # same bytes as an image kept under another path

ALL = (
    EMPTY_FILE,
    NOT_AN_IMAGE,
    TRUNCATED,
    UNSUPPORTED_FORMAT,
    TOO_LARGE,
    UNREADABLE,
    UNKNOWN_LABEL,
    INVALID_LABEL,
    MISSING_FILE,
    DUPLICATE_ID,
    DUPLICATE_IMAGE,
)

HIDDEN = "hidden"  # name starts with "." (.DS_Store, ._AppleDouble, .git): not descended into
OTHER_EXTENSION = "other_extension"  # not one of --extensions (Thumbs.db, notes.txt)
NOT_IN_CSV = "not_in_csv"  # csv layout: a file no CSV row names
BROKEN_LINK = "broken_link"  # symlink to nothing, or to itself / a loop
LINK_OUTSIDE_INPUT = "link_outside_input"  # symlink whose target is outside the input folder
FOLDER_LINK = "folder_link"  # symlink to a folder inside the input: its files are counted where they are
NOT_A_REGULAR_FILE = "not_a_regular_file"  # FIFO, socket, device
NAME_NOT_UTF8 = "name_not_utf8"  # file or folder name that is not valid UTF-8

IGNORED = (
    HIDDEN,
    OTHER_EXTENSION,
    NOT_IN_CSV,
    BROKEN_LINK,
    LINK_OUTSIDE_INPUT,
    FOLDER_LINK,
    NOT_A_REGULAR_FILE,
    NAME_NOT_UTF8,
)
