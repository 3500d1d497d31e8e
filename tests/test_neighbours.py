"""gancourse.metrics.neighbours: nearest neighbours against a closed form and brute force."""

from __future__ import annotations

import pytest
import torch

from gancourse import metrics


def test_nearest_neighbours_closed_form():
    # reference: the corners of the unit square; queries at known places
    reference = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    queries = torch.tensor([[0.1, 0.0], [0.9, 1.0], [0.5, 0.5]])
    distances, indices = metrics.nearest_neighbours(queries, reference, k=2, batch_size=2)
    assert distances.shape == indices.shape == (3, 2)
    assert indices[0].tolist() == [0, 1] and indices[1].tolist() == [3, 2]
    torch.testing.assert_close(distances[0], torch.tensor([0.1, 0.9], dtype=torch.float64))
    torch.testing.assert_close(distances[2], torch.full((2,), 0.5**0.5, dtype=torch.float64))
    assert (distances[:, 0] <= distances[:, 1]).all()


def test_nearest_neighbours_finds_copies_among_images_and_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    reference = torch.rand(300, 1, 8, 8, generator=g) * 2 - 1
    copies = reference[[17, 250, 3]]
    distances, indices = metrics.nearest_neighbours(copies, reference)
    assert indices[:, 0].tolist() == [17, 250, 3]
    assert distances.abs().max() < 1e-6  # exact copies: distance 0 despite the ||a||^2 - 2ab + ||b||^2 form
    queries = torch.rand(20, 1, 8, 8, generator=g)
    distances, indices = metrics.nearest_neighbours(queries, reference, k=3, batch_size=7)
    brute = torch.cdist(queries.flatten(1).double(), reference.flatten(1).double())  # (20, 300)
    expected, expected_i = brute.sort(dim=1)
    torch.testing.assert_close(distances, expected[:, :3])
    assert (indices == expected_i[:, :3]).all()


@pytest.mark.parametrize(
    "queries, reference, kwargs, message",
    [
        (torch.zeros(2, 3), torch.zeros(4, 2), {}, "values per row"),
        (torch.zeros(2, 3), torch.zeros(4, 3), {"k": 5}, "k = 5"),
        (torch.zeros(2, 3), torch.zeros(4, 3), {"k": 0}, "k = 0"),
        (torch.zeros(2, 3), torch.zeros(4, 3), {"batch_size": 0}, "batch_size"),
        (torch.zeros(0, 3), torch.zeros(4, 3), {}, "queries must have shape"),
        (torch.full((2, 3), float("nan")), torch.zeros(4, 3), {}, "NaN"),
    ],
)
def test_nearest_neighbours_bad_inputs(queries, reference, kwargs, message):
    with pytest.raises(ValueError, match=message):
        metrics.nearest_neighbours(queries, reference, **kwargs)
