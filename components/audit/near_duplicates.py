"""Near-duplicate pairs: PCA-whitened cosine of pooled base features, confirmed by the small picture.

Raw pooled features of one collection are all alike (every image is "a face, centred"), so a
resized or recompressed copy is not much closer to its original than two different photos are.
PCA whitening helps (Jegou & Chum, "Negative evidences and co-occurrences in image retrieval:
the benefit of PCA and whitening", ECCV 2012): centre the features on the collection's mean,
project on the top principal components and divide each by its standard deviation, so the
directions every image shares stop dominating the cosine. It is not enough: a copy cropped by a few
percent moves the features as far as a different drawing of the same kind does. So a pair must
also match as a picture: the 8 x 8 colour thumbnail the Embeddings step keeps (a "tiny image",
Torralba et al. 2008), compared by correlation.

Search: exact, in row blocks of two matrix products, up to EXACT_SEARCH_MAX_IMAGES
(bench/calibrate_audit.py); beyond, a faiss inverted-file index on the features (approximate: the
NEIGHBOURS nearest of each image, searched in the PROBES k-means cells nearest to it), then the
picture check.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Tuple

import numpy as np

# Calibrated by bench/calibrate_audit.py on generated resized/cropped/recompressed copies vs distinct
# images (README, "Know your data"). A pair is a near-copy when two views agree: its whitened feature
# cosine is at least DEFAULT_THRESHOLD (the content matches) and its pixel correlation at 8 x 8
# (contract.audit: PIXEL_SIDE, PIXEL_CROPS) at least PIXEL_THRESHOLD (layout and colours match). Features
# alone pair two different drawings of one kind as readily as a cropped copy; the small picture
# does not move under resizing, recompression or a few percent of crop, and tells those apart.
DEFAULT_THRESHOLD = 0.3
PIXEL_THRESHOLD = 0.97
WHITEN_DIMS = 128
# Whitening k dimensions from n images needs n well above k: with k near n every point becomes
# equidistant from every other (copies included). At most one dimension per SAMPLES_PER_DIM images.
SAMPLES_PER_DIM = 4
# Shrinkage: each component is divided by sqrt(its variance + SHRINK x the mean variance kept), so
# the weakest components (mostly noise) are not blown up.
SHRINK = 0.05
MIN_DIMS = 8
EXACT_SEARCH_MAX_IMAGES = 60_000
BLOCK_ROWS = 2048
MATCH_CHUNK = 65_536  # candidate pairs whose pictures are compared at once
NEIGHBOURS = 16  # per image, from the approximate index
PROBES = 16  # k-means cells searched per image


def principal_axes(x: np.ndarray, k: int):
    """(variances, axes [d, k]) of the top k principal components of centred rows x.

    Few images: an SVD of the rows (n x d, n < d); many: the d x d covariance's eigenvectors."""
    if len(x) < x.shape[1]:
        _, singular, vt = np.linalg.svd(x, full_matrices=False)
        return (singular[:k] ** 2) / max(1, len(x) - 1), vt[:k].T
    values, vectors = np.linalg.eigh(x.T @ x / max(1, len(x) - 1))  # ascending
    return values[::-1][:k], vectors[:, ::-1][:, :k]


def whitened_dims(n: int, d: int, dims: int = WHITEN_DIMS) -> int:
    return int(max(1, min(dims, d, max(MIN_DIMS, n // SAMPLES_PER_DIM), n - 1)))


def whiten(features: np.ndarray, dims: int = WHITEN_DIMS) -> np.ndarray:
    """Rows centred, PCA-projected on `dims` components (fewer for few images), whitened, unit length."""
    x = np.asarray(features, dtype=np.float64)
    x = x - x.mean(axis=0)
    values, axes = principal_axes(x, whitened_dims(len(x), x.shape[1], dims))
    projected = (x @ axes) / np.sqrt(np.maximum(values, 0.0) + SHRINK * max(values.mean(), 1e-12))
    norms = np.linalg.norm(projected, axis=1, keepdims=True)
    return (projected / np.maximum(norms, 1e-12)).astype(np.float32)


def pixel_unit(pixels: np.ndarray) -> np.ndarray:
    """[n, crops, values]: each small picture centred on its own mean and scaled to unit length, so the
    dot product of two is their correlation (blind to a change of brightness or contrast)."""
    x = np.asarray(pixels, dtype=np.float32)
    x = x - x.mean(axis=-1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-6)


def pictures_match(small: np.ndarray, threshold: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """(i, j) index arrays -> which pairs' pictures correlate >= threshold, at the best pairing of crops
    (the whole image against the other's centre: a copy cropped by a few percent is a zoom)."""
    def match(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        kept = np.zeros(len(i), dtype=bool)
        for start in range(0, len(i), MATCH_CHUNK):  # bounded memory: a 25,000-image set has ~1.3M candidates
            a, b = small[i[start:start + MATCH_CHUNK]], small[j[start:start + MATCH_CHUNK]]
            best = np.einsum("nsd,ntd->nst", a, b).reshape(len(a), -1).max(axis=1)
            kept[start:start + MATCH_CHUNK] = best >= threshold
        return kept

    return match


def exact_pairs(unit: np.ndarray, threshold: float, keep: Optional[Callable] = None,
                block_rows: int = BLOCK_ROWS) -> List[Tuple[int, int, float]]:
    """Every (i, j, unit[i] . unit[j]) with i < j, that cosine >= threshold and keep(i, j) (if given),
    by blocks of rows."""
    pairs = []
    for start in range(0, len(unit), block_rows):
        sims = unit[start:start + block_rows] @ unit.T
        rows, cols = np.nonzero(sims >= threshold)
        upper = cols > rows + start
        rows, cols = rows[upper], cols[upper]
        if keep is not None and len(rows):
            kept = keep(rows + start, cols)
            rows, cols = rows[kept], cols[kept]
        pairs.extend(zip((rows + start).tolist(), cols.tolist(), sims[rows, cols].astype(float).tolist()))
    return pairs


def approximate_pairs(unit: np.ndarray, threshold: float, keep: Optional[Callable] = None,
                      neighbours: int = NEIGHBOURS) -> List[Tuple[int, int, float]]:
    """The same from a faiss inverted-file index over inner products (approximate): each image's
    `neighbours` nearest among the images in its PROBES nearest of sqrt(n) k-means cells."""
    import faiss

    data = np.ascontiguousarray(unit, dtype=np.float32)
    cells = max(1, int(np.sqrt(len(data))))
    quantizer = faiss.IndexFlatIP(data.shape[1])
    index = faiss.IndexIVFFlat(quantizer, data.shape[1], cells, faiss.METRIC_INNER_PRODUCT)
    index.train(data)
    index.add(data)
    index.nprobe = min(cells, PROBES)
    sims, ids = index.search(data, neighbours + 1)
    found = {}
    for i in range(len(data)):
        for sim, j in zip(sims[i], ids[i]):
            if j < 0 or j == i or sim < threshold:
                continue
            key = (min(i, int(j)), max(i, int(j)))
            found[key] = max(found.get(key, -1.0), float(sim))
    pairs = [(i, j, s) for (i, j), s in sorted(found.items())]
    if keep is None or not pairs:
        return pairs
    kept = keep(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    return [pair for pair, wanted in zip(pairs, kept) if wanted]


def near_duplicate_pairs(features: np.ndarray, pixels: np.ndarray, threshold: float = DEFAULT_THRESHOLD,
                         pixel_threshold: float = PIXEL_THRESHOLD,
                         exact_max: int = EXACT_SEARCH_MAX_IMAGES) -> List[Tuple[int, int, float]]:
    """(i, j, whitened cosine) of every near-duplicate pair, most similar first. `pixels`: [n, crops,
    values] as the Embeddings step keeps them (contract/audit.py)."""
    if len(features) < 2:
        return []
    unit, match = whiten(features), pictures_match(pixel_unit(pixels), pixel_threshold)
    search = exact_pairs if len(unit) <= exact_max else approximate_pairs
    return sorted(search(unit, threshold, match), key=lambda p: -p[2])
