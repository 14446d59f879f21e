"""Near-duplicate pairs from pooled base features: PCA-whitened cosine similarity over a threshold.

Raw pooled features of one collection are all alike (every image is "a face, centred"), so a
resized or recompressed copy is not much closer to its original than two different photos are.
PCA whitening fixes that (Jegou & Chum, "Negative evidences and co-occurrences in image retrieval:
the benefit of PCA and whitening", ECCV 2012): centre the features on the collection's mean,
project on the top principal components and divide each by its standard deviation, so the
directions every image shares stop dominating the cosine. On generated copies vs distinct images
(bench/calibrate_audit.py) whitening takes the copies found at <= 10% false pairs from 0.86 to 0.97.

Search: exact, in row blocks of a matrix product, up to EXACT_SEARCH_MAX_IMAGES (bench/calibrate_audit.py);
beyond, a faiss inverted-file index (approximate: the NEIGHBOURS nearest of each image, searched in
the PROBES k-means cells nearest to it).
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np

# Calibrated by bench/calibrate_audit.py on generated resized/cropped/recompressed copies vs distinct
# images (README, "Know your data"): a pair is a near-copy when its whitened cosine is at least
# DEFAULT_THRESHOLD and its plain cosine at least RAW_THRESHOLD (whitening alone also pairs two
# different drawings of one rare kind, e.g. two houses in a set of faces: they share the rare directions).
DEFAULT_THRESHOLD = 0.7
RAW_THRESHOLD = 0.88
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


def effective_threshold(threshold: float, dims: int) -> float:
    """The calibrated threshold holds at WHITEN_DIMS dimensions. With fewer (fewer images), two distinct
    images' chance cosine grows like 1/sqrt(dims), so the threshold moves toward 1 by that factor."""
    return 1.0 - (1.0 - threshold) * float(np.sqrt(min(dims, WHITEN_DIMS) / WHITEN_DIMS))


def exact_pairs(unit: np.ndarray, threshold: float, block_rows: int = BLOCK_ROWS) -> List[Tuple[int, int, float]]:
    """Every (i, j, similarity) with i < j and unit[i] . unit[j] >= threshold, by blocks of rows."""
    pairs = []
    for start in range(0, len(unit), block_rows):
        sims = unit[start:start + block_rows] @ unit.T
        rows, cols = np.nonzero(sims >= threshold)
        keep = cols > rows + start
        for r, c in zip(rows[keep], cols[keep]):
            pairs.append((int(r + start), int(c), float(sims[r, c])))
    return pairs


def approximate_pairs(unit: np.ndarray, threshold: float, neighbours: int = NEIGHBOURS) -> List[Tuple[int, int, float]]:
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
    return [(i, j, s) for (i, j), s in sorted(found.items())]


def near_duplicate_pairs(features: np.ndarray, threshold: float = DEFAULT_THRESHOLD,
                         raw_threshold: float = RAW_THRESHOLD,
                         exact_max: int = EXACT_SEARCH_MAX_IMAGES) -> List[Tuple[int, int, float]]:
    """(i, j, whitened cosine) of every near-duplicate pair, most similar first."""
    if len(features) < 2:
        return []
    unit = whiten(features)
    threshold = effective_threshold(threshold, unit.shape[1])
    pairs = exact_pairs(unit, threshold) if len(unit) <= exact_max else approximate_pairs(unit, threshold)
    raw = np.asarray(features, dtype=np.float32)
    raw = raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)
    pairs = [(i, j, s) for i, j, s in pairs if float(raw[i] @ raw[j]) >= raw_threshold]
    return sorted(pairs, key=lambda p: -p[2])
