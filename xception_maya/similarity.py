"""Find similar images by the cosine similarity of their 2048-d backbone features.

A zero vector (for example an all-black image after ReLU and pooling) has no direction:
its similarity to anything is 0, never NaN.
"""

from __future__ import annotations

import numpy as np


def cosine_similarity(query: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Cosine similarity of ``query`` (D,) or (M, D) to each row of ``features`` (N, D).

    Returns (N,) for a single query and (M, N) for several, in [-1, 1]. float32 inputs
    stay float32 (a library of thousands of textures need not be copied to float64).
    """
    query = np.asarray(query)
    features = np.asarray(features)
    single = query.ndim == 1
    queries = query[None] if single else query
    if queries.ndim != 2 or features.ndim != 2 or queries.shape[1] != features.shape[1]:
        raise ValueError(
            f"query {query.shape} and features {features.shape} do not match: "
            "expected (D,) or (M, D) and (N, D)"
        )
    dtype = np.result_type(queries, features, np.float32)
    similarity = (
        _unit_rows(queries.astype(dtype, copy=False))
        @ _unit_rows(features.astype(dtype, copy=False)).T
    )
    np.clip(similarity, -1.0, 1.0, out=similarity)
    result: np.ndarray = similarity[0] if single else similarity
    return result


def most_similar(
    query: np.ndarray, features: np.ndarray, k: int, exclude: int | None = None
) -> list[tuple[int, float]]:
    """The ``k`` rows of ``features`` most similar to ``query`` (D,), as (index, similarity).

    Sorted by similarity, highest first; equal similarities by index, lowest first.
    ``exclude`` leaves one row out (typically the query's own row). Fewer than ``k`` rows
    give all of them.
    """
    if np.asarray(query).ndim != 1:
        raise ValueError(f"most_similar takes one query vector (D,); got {np.shape(query)}")
    similarity = cosine_similarity(query, features)
    indices = np.arange(len(similarity))
    if exclude is not None:
        if not 0 <= exclude < len(similarity):
            raise ValueError(f"exclude {exclude} is not a row of the {len(similarity)} features")
        indices = np.delete(indices, exclude)
    if k <= 0 or len(indices) == 0:
        return []
    # lexsort sorts by its last key first: similarity descending, then index ascending.
    order = indices[np.lexsort((indices, -similarity[indices]))][:k]
    return [(int(i), float(similarity[i])) for i in order]


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    # Dividing a zero row by 1 keeps it zero, so its similarities come out 0.
    return x / np.where(norms > 0, norms, 1)
