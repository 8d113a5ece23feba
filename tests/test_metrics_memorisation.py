import torch

from course_utils.metrics.memorisation import nearest_neighbours


def test_nearest_neighbours_against_a_loop():
    gen = torch.Generator().manual_seed(0)
    refs = torch.rand(50, 1, 6, 6, generator=gen)
    queries = torch.cat([refs[[3, 17]] + 1e-3, torch.rand(7, 1, 6, 6, generator=gen)])
    d, i = nearest_neighbours(queries, refs, batch_size=4)
    for k, q in enumerate(queries):
        all_d = ((refs - q) ** 2).flatten(1).sum(1).double().sqrt()
        assert i[k] == all_d.argmin()
        torch.testing.assert_close(d[k], all_d.min(), rtol=1e-5, atol=1e-6)
    assert i[:2].tolist() == [3, 17]
    d_all, i_all = nearest_neighbours(queries, refs, batch_size=1000)
    assert torch.equal(i_all, i) and torch.allclose(d_all, d)


def test_shape_mismatch_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="same image shape"):
        nearest_neighbours(torch.rand(2, 1, 28, 28), torch.rand(3, 1, 14, 14))
