from __future__ import annotations

import numpy as np
import pytest

from xception_maya.similarity import cosine_similarity, most_similar


def unit(i: int, sign: float = 1.0) -> np.ndarray:
    v = np.zeros(2048, np.float32)
    v[i] = sign
    return v


def test_identical_orthogonal_and_opposite_vectors() -> None:
    rng = np.random.default_rng(0)
    query = rng.normal(size=2048).astype(np.float32)
    orthogonal = unit(0) * query[1] - unit(1) * query[0]  # dot product with query is 0
    features = np.stack([query * 3.0, orthogonal, -query])
    similarity = cosine_similarity(query, features)
    assert similarity.shape == (3,)
    np.testing.assert_allclose(similarity, [1.0, 0.0, -1.0], atol=1e-6)


def test_several_queries_give_a_matrix() -> None:
    features = np.stack([unit(0), unit(1), unit(0) + unit(1)])
    similarity = cosine_similarity(features[:2], features)
    assert similarity.shape == (2, 3)
    np.testing.assert_allclose(similarity, [[1, 0, 0.5**0.5], [0, 1, 0.5**0.5]], atol=1e-6)


def test_zero_vectors_have_similarity_zero_not_nan() -> None:
    zero = np.zeros(2048, np.float32)
    features = np.stack([zero, unit(3)])
    assert cosine_similarity(zero, features).tolist() == [0.0, 0.0]
    assert cosine_similarity(unit(3), features).tolist() == [0.0, 1.0]
    assert most_similar(zero, features, k=2) == [(0, 0.0), (1, 0.0)]


def test_most_similar_is_sorted_with_ties_by_index() -> None:
    query = unit(0)
    features = np.stack(
        [
            unit(1),  # 0: orthogonal
            unit(0) + unit(1),  # 1: 0.707
            unit(0, -1),  # 2: opposite
            unit(0) * 5,  # 3: same direction
            unit(0) + unit(2),  # 4: 0.707, ties with 1
        ]
    )
    found = most_similar(query, features, k=4)
    assert [i for i, _ in found] == [3, 1, 4, 0]
    np.testing.assert_allclose([s for _, s in found], [1, 0.5**0.5, 0.5**0.5, 0], atol=1e-6)
    assert all(isinstance(i, int) and isinstance(s, float) for i, s in found)


def test_exclude_leaves_out_the_query_itself() -> None:
    features = np.stack([unit(0), unit(0) + unit(1), unit(1)])
    found = most_similar(features[0], features, k=2, exclude=0)
    assert [i for i, _ in found] == [1, 2]
    with pytest.raises(ValueError, match="exclude 3"):
        most_similar(features[0], features, k=2, exclude=3)


def test_k_larger_than_the_features_gives_all_of_them() -> None:
    features = np.stack([unit(1), unit(0)])
    assert [i for i, _ in most_similar(unit(0), features, k=10)] == [1, 0]
    assert [i for i, _ in most_similar(unit(0), features, k=10, exclude=1)] == [0]
    assert most_similar(unit(0), features, k=0) == []


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="do not match"):
        cosine_similarity(np.ones(10), np.ones((3, 2048)))
