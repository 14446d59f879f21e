"""A decode guard in the serving graph: an image whose header declares too many pixels is refused
before it is decoded, so a small file declaring 20000x20000 cannot make the server allocate gigabytes.

It lives in the exported model itself, so the same protection holds under real TF Serving.
Width and height are read the way TF's decoders read them: JPEG via tf.image.extract_jpeg_shape
(header only), PNG from IHDR, GIF from its logical screen, BMP from its info header. Bytes in
any other format pass through and decoding refuses them as before.
"""

import tensorflow as tf

import contract

_HEADER_BYTES = 26  # the furthest field read: BMP height, bytes 22-25


def _headers(image_bytes):
    """The first bytes of each encoded image as int64 [N, _HEADER_BYTES], zero-padded if shorter."""
    head = tf.strings.substr(image_bytes, 0, _HEADER_BYTES)  # clamped for short strings; no copy of the rest
    padded = tf.strings.substr(tf.strings.join([head, b"\0" * _HEADER_BYTES]), 0, _HEADER_BYTES)
    return tf.cast(tf.io.decode_raw(padded, tf.uint8), tf.int64)


def _unsigned(headers, start: int, length: int, big_endian: bool):
    order = range(length) if big_endian else reversed(range(length))
    value = tf.zeros_like(headers[:, 0])
    for i in order:
        value = value * 256 + headers[:, start + i]
    return value


def _signed_32(unsigned):
    return tf.where(unsigned >= 2**31, unsigned - 2**32, unsigned)


def declared_heights_widths(image_bytes):
    """int64 [N, 2]: the height and width each encoded JPEG/PNG/GIF/BMP declares; 0, 0 for other bytes."""
    headers = _headers(image_bytes)

    def is_format(name: str):
        """Rows starting with any of contract.IMAGE_SIGNATURES' magic bytes for `name`."""
        found = [tf.equal(tf.strings.substr(image_bytes, 0, len(magic)), magic)
                 for magic, format_name in contract.IMAGE_SIGNATURES if format_name == name]
        return tf.reduce_any(tf.stack(found), axis=0)

    png = tf.stack([_unsigned(headers, 20, 4, True), _unsigned(headers, 16, 4, True)], axis=1)
    gif = tf.stack([_unsigned(headers, 8, 2, False), _unsigned(headers, 6, 2, False)], axis=1)
    # A negative BMP height means a top-down bitmap.
    bmp = tf.abs(tf.stack([_signed_32(_unsigned(headers, 22, 4, False)),
                           _signed_32(_unsigned(headers, 18, 4, False))], axis=1))
    is_jpeg = is_format("JPEG")
    jpeg_rows = tf.where(is_jpeg)
    jpeg_sizes = tf.map_fn(lambda encoded: tf.cast(tf.image.extract_jpeg_shape(encoded)[:2], tf.int64),
                           tf.gather_nd(image_bytes, jpeg_rows), fn_output_signature=tf.TensorSpec([2], tf.int64))
    jpeg = tf.scatter_nd(jpeg_rows, jpeg_sizes, tf.shape(png, out_type=tf.int64))
    sizes = tf.zeros_like(png)
    for rows, format_sizes in [(is_format("BMP"), bmp), (is_format("GIF"), gif), (is_format("PNG"), png),
                               (is_jpeg, jpeg)]:
        sizes = tf.where(rows[:, None], format_sizes, sizes)
    return sizes


def refuse_oversized_images(image_bytes, max_pixels: int):
    """`image_bytes` [N] as they are, available only once every image passed the bound.

    An image over it fails the request with InvalidArgument naming the limit and its size.
    """
    sizes = declared_heights_widths(image_bytes)
    height, width = sizes[:, 0], sizes[:, 1]
    # Each side is bounded too, so height * width cannot overflow int64 past the check.
    fits = (height <= max_pixels) & (width <= max_pixels) & (height * width <= max_pixels)
    check = tf.debugging.Assert(
        tf.reduce_all(fits),
        [f"image refused before decoding: more than this model's limit of {max_pixels} pixels "
         "(max_image_pixels, set at export); declared [height width]:", tf.boolean_mask(sizes, ~fits)[:1]],
        summarize=2)
    with tf.control_dependencies([check]):  # decoding consumes this identity, so it waits for the check
        return tf.identity(image_bytes)
